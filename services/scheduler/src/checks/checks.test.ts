// Table tests of every feasibility check: (pod, node) -> fits, or the reason in Kubernetes' words.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nodeInfo, podInfo, type NodeShape, type PodShape } from "../testing.js";
import type { Check } from "./check.js";
import { AFFINITY_MISMATCH, nodeAffinity } from "./node-affinity.js";
import { nodePorts, PORTS_CONFLICT } from "./node-ports.js";
import { NOT_READY, nodeReady } from "./node-ready.js";
import { INSUFFICIENT_CPU, INSUFFICIENT_MEMORY, nodeResourcesFit, TOO_MANY_PODS } from "./node-resources-fit.js";
import { nodeUnschedulable, UNSCHEDULABLE } from "./node-unschedulable.js";
import { taintToleration, untoleratedTaint } from "./taint-toleration.js";

interface Row {
  name: string;
  pod: PodShape;
  node: NodeShape;
  /** Pods already on the node. */
  on?: PodShape[];
  want: undefined | string | string[];
}

function table(check: Check, rows: Row[]): void {
  describe(check.name, () => {
    for (const r of rows) {
      test(r.name, () => {
        const on = (r.on ?? []).map((p, i) => podInfo(`on-${i}`, p));
        const got = check.check(podInfo("p", r.pod), nodeInfo("n1", r.node, on));
        assert.deepEqual(got, r.want);
      });
    }
  });
}

table(nodeReady, [
  { name: "Ready=True fits", pod: {}, node: { ready: "True" }, want: undefined },
  { name: "Ready=False does not", pod: {}, node: { ready: "False" }, want: NOT_READY },
  { name: "Ready=Unknown does not", pod: {}, node: { ready: "Unknown" }, want: NOT_READY },
  { name: "no Ready condition yet does not", pod: {}, node: { ready: "" }, want: NOT_READY },
  {
    name: "a pod tolerating not-ready may go to a Ready=False node",
    pod: { tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" }] },
    node: { ready: "False" },
    want: undefined,
  },
  {
    name: "tolerating not-ready is not tolerating unreachable (Unknown)",
    pod: { tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }] },
    node: { ready: "Unknown" },
    want: NOT_READY,
  },
  { name: "a toleration of everything tolerates unreachable", pod: { tolerations: [{ operator: "Exists" }] }, node: { ready: "Unknown" }, want: undefined },
]);

table(nodeUnschedulable, [
  { name: "schedulable node fits", pod: {}, node: {}, want: undefined },
  { name: "cordoned node does not", pod: {}, node: { unschedulable: true }, want: UNSCHEDULABLE },
  {
    name: "a pod tolerating unschedulable:NoSchedule may go there",
    pod: { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }] },
    node: { unschedulable: true },
    want: undefined,
  },
  {
    name: "a toleration for another effect does not count",
    pod: { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoExecute" }] },
    node: { unschedulable: true },
    want: UNSCHEDULABLE,
  },
]);

table(nodeResourcesFit, [
  { name: "requests within allocatable fit", pod: { cpu: "1", memory: "1Gi" }, node: { cpu: "2", memory: "2Gi" }, want: undefined },
  { name: "exactly what is left fits", pod: { cpu: "1", memory: "1Gi" }, node: { cpu: "2", memory: "2Gi" }, on: [{ cpu: "1", memory: "1Gi" }], want: undefined },
  { name: "too much cpu", pod: { cpu: "1500m" }, node: { cpu: "2" }, on: [{ cpu: "1" }], want: [INSUFFICIENT_CPU] },
  { name: "too much memory", pod: { memory: "3Gi" }, node: { memory: "2Gi" }, want: [INSUFFICIENT_MEMORY] },
  { name: "both: two reasons", pod: { cpu: "8", memory: "16Gi" }, node: { cpu: "4", memory: "8Gi" }, want: [INSUFFICIENT_CPU, INSUFFICIENT_MEMORY] },
  { name: "limits only count as requests", pod: { cpu: "3", limitsOnly: true }, node: { cpu: "2" }, want: [INSUFFICIENT_CPU] },
  { name: "no requests always fit resources", pod: {}, node: { cpu: "1", memory: "1Mi" }, on: [{ cpu: "1", memory: "1Mi" }], want: undefined },
  { name: "pod count full", pod: {}, node: { pods: "2" }, on: [{}, {}], want: [TOO_MANY_PODS] },
  { name: "one slot left", pod: {}, node: { pods: "2" }, on: [{}], want: undefined },
  { name: "an init container bigger than the app counts", pod: { cpu: "100m", initCpu: "3" }, node: { cpu: "2" }, want: [INSUFFICIENT_CPU] },
]);

const zoneIn = (values: string[]) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values }] }] },
  },
});

table(nodeAffinity, [
  { name: "no selector fits", pod: {}, node: {}, want: undefined },
  { name: "nodeSelector matches", pod: { nodeSelector: { disk: "ssd" } }, node: { labels: { disk: "ssd" } }, want: undefined },
  { name: "nodeSelector value differs", pod: { nodeSelector: { disk: "ssd" } }, node: { labels: { disk: "hdd" } }, want: AFFINITY_MISMATCH },
  { name: "nodeSelector label missing", pod: { nodeSelector: { disk: "ssd" } }, node: {}, want: AFFINITY_MISMATCH },
  { name: "required affinity In matches", pod: { affinity: zoneIn(["a", "b"]) }, node: { labels: { zone: "b" } }, want: undefined },
  { name: "required affinity In does not match", pod: { affinity: zoneIn(["a"]) }, node: { labels: { zone: "b" } }, want: AFFINITY_MISMATCH },
  {
    name: "terms are ORed",
    pod: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "zone", operator: "In", values: ["x"] }] },
              { matchExpressions: [{ key: "gpu", operator: "Exists", values: [] }] },
            ],
          },
        },
      },
    },
    node: { labels: { gpu: "1" } },
    want: undefined,
  },
  {
    name: "requirements of one term are ANDed (NotIn, Gt)",
    pod: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: "zone", operator: "NotIn", values: ["a"] },
                  { key: "cores", operator: "Gt", values: ["8"] },
                ],
              },
            ],
          },
        },
      },
    },
    node: { labels: { zone: "b", cores: "4" } },
    want: AFFINITY_MISMATCH,
  },
  {
    name: "matchFields metadata.name",
    pod: {
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }] } },
      },
    },
    node: {},
    want: undefined,
  },
  {
    name: "an empty term list matches no node",
    pod: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } },
    node: {},
    want: AFFINITY_MISMATCH,
  },
  { name: "nodeSelector and affinity must both hold", pod: { nodeSelector: { disk: "ssd" }, affinity: zoneIn(["a"]) }, node: { labels: { zone: "a" } }, want: AFFINITY_MISMATCH },
]);

table(taintToleration, [
  { name: "no taints fit", pod: {}, node: {}, want: undefined },
  { name: "an untolerated NoSchedule taint", pod: {}, node: { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] }, want: untoleratedTaint("dedicated", "db") },
  { name: "an untolerated NoExecute taint", pod: {}, node: { taints: [{ key: "k", value: "", effect: "NoExecute" }] }, want: "node(s) had untolerated taint {k: }" },
  { name: "PreferNoSchedule does not filter", pod: {}, node: { taints: [{ key: "k", value: "v", effect: "PreferNoSchedule" }] }, want: undefined },
  {
    name: "Equal toleration with the value",
    pod: { tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }] },
    node: { taints: [{ key: "dedicated", value: "db" }] },
    want: undefined,
  },
  {
    name: "Equal toleration with another value",
    pod: { tolerations: [{ key: "dedicated", operator: "Equal", value: "web" }] },
    node: { taints: [{ key: "dedicated", value: "db" }] },
    want: "node(s) had untolerated taint {dedicated: db}",
  },
  { name: "Exists toleration of the key", pod: { tolerations: [{ key: "dedicated", operator: "Exists" }] }, node: { taints: [{ key: "dedicated", value: "db" }] }, want: undefined },
  {
    name: "the first untolerated taint is named",
    pod: { tolerations: [{ key: "a", operator: "Exists" }] },
    node: { taints: [{ key: "a", value: "1" }, { key: "b", value: "2", effect: "NoExecute" }, { key: "c", value: "3" }] },
    want: "node(s) had untolerated taint {b: 2}",
  },
]);

table(nodePorts, [
  { name: "no host ports fit", pod: {}, node: {}, on: [{ hostPorts: [8080] }], want: undefined },
  { name: "a free host port fits", pod: { hostPorts: [8080] }, node: {}, on: [{ hostPorts: [9090] }], want: undefined },
  { name: "a taken host port does not", pod: { hostPorts: [9090, 8080] }, node: {}, on: [{ hostPorts: [8080] }], want: PORTS_CONFLICT },
]);
