import { KINDS, type Node, type PodSpec } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { daemonTolerations, DAEMON_TOLERATIONS, placement } from "./nodes.js";

function node(name: string, labels: Record<string, string> = {}, spec: Record<string, unknown> = {}): Node {
  return KINDS.Node.codec.fromPartial({ metadata: { name, labels }, spec });
}

function podSpec(extra: Record<string, unknown> = {}): PodSpec {
  return KINDS.Pod.codec.fromPartial({ spec: { containers: [{ name: "c", image: "i" }], ...extra } }).spec!;
}

const term = (...matchExpressions: { key: string; operator: string; values?: string[] }[]) => ({
  matchExpressions: matchExpressions.map((e) => ({ values: [], ...e })),
});
const affinity = (...nodeSelectorTerms: object[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } } });
const RUN = { shouldRun: true, shouldContinueRunning: true };
const NO = { shouldRun: false, shouldContinueRunning: false };
const KEEP_ONLY = { shouldRun: false, shouldContinueRunning: true };

describe("daemon placement", () => {
  const linux = node("n1", { "kubernetes.io/os": "linux", disk: "ssd", cores: "16" });
  const cases: { name: string; node: Node; spec: PodSpec; want: typeof RUN }[] = [
    { name: "no constraints: every node", node: linux, spec: podSpec(), want: RUN },
    { name: "nodeSelector matches", node: linux, spec: podSpec({ nodeSelector: { disk: "ssd" } }), want: RUN },
    { name: "nodeSelector value differs", node: linux, spec: podSpec({ nodeSelector: { disk: "hdd" } }), want: NO },
    { name: "nodeSelector key missing", node: linux, spec: podSpec({ nodeSelector: { gpu: "yes" } }), want: NO },
    { name: "affinity In", node: linux, spec: podSpec(affinity(term({ key: "disk", operator: "In", values: ["ssd", "nvme"] }))), want: RUN },
    { name: "affinity NotIn", node: linux, spec: podSpec(affinity(term({ key: "disk", operator: "NotIn", values: ["ssd"] }))), want: NO },
    { name: "affinity NotIn on a missing key matches", node: linux, spec: podSpec(affinity(term({ key: "zone", operator: "NotIn", values: ["a"] }))), want: RUN },
    { name: "affinity Exists", node: linux, spec: podSpec(affinity(term({ key: "disk", operator: "Exists" }))), want: RUN },
    { name: "affinity DoesNotExist", node: linux, spec: podSpec(affinity(term({ key: "disk", operator: "DoesNotExist" }))), want: NO },
    { name: "affinity Gt", node: linux, spec: podSpec(affinity(term({ key: "cores", operator: "Gt", values: ["8"] }))), want: RUN },
    { name: "affinity Lt", node: linux, spec: podSpec(affinity(term({ key: "cores", operator: "Lt", values: ["8"] }))), want: NO },
    { name: "affinity Gt on a non-number", node: linux, spec: podSpec(affinity(term({ key: "disk", operator: "Gt", values: ["1"] }))), want: NO },
    { name: "a term's requirements all hold (AND)", node: linux, spec: podSpec(affinity(term({ key: "disk", operator: "Exists" }, { key: "gpu", operator: "Exists" }))), want: NO },
    { name: "terms are alternatives (OR)", node: linux, spec: podSpec(affinity(term({ key: "gpu", operator: "Exists" }), term({ key: "disk", operator: "In", values: ["ssd"] }))), want: RUN },
    { name: "an empty term matches nothing", node: linux, spec: podSpec(affinity({ matchExpressions: [] })), want: NO },
    {
      name: "matchFields on metadata.name",
      node: linux,
      spec: podSpec(affinity({ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] })),
      want: RUN,
    },
    {
      name: "matchFields of another node",
      node: linux,
      spec: podSpec(affinity({ matchFields: [{ key: "metadata.name", operator: "In", values: ["n2"] }] })),
      want: NO,
    },
    { name: "an untolerated NoSchedule taint: not placed, but a running pod stays", node: node("t", {}, { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] }), spec: podSpec(), want: KEEP_ONLY },
    { name: "an untolerated NoExecute taint: neither", node: node("t", {}, { taints: [{ key: "dedicated", value: "db", effect: "NoExecute" }] }), spec: podSpec(), want: NO },
    { name: "PreferNoSchedule does not repel", node: node("t", {}, { taints: [{ key: "dedicated", value: "db", effect: "PreferNoSchedule" }] }), spec: podSpec(), want: RUN },
    {
      name: "a tolerated taint (Equal)",
      node: node("t", {}, { taints: [{ key: "dedicated", value: "db", effect: "NoExecute" }] }),
      spec: podSpec({ tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoExecute" }] }),
      want: RUN,
    },
    {
      name: "a toleration for another value does not tolerate",
      node: node("t", {}, { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] }),
      spec: podSpec({ tolerations: [{ key: "dedicated", operator: "Equal", value: "web", effect: "NoSchedule" }] }),
      want: KEEP_ONLY,
    },
    {
      name: "a control-plane node tolerated with Exists and no effect",
      node: node("cp", {}, { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] }),
      spec: podSpec({ tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }] }),
      want: RUN,
    },
    { name: "not-ready and unreachable nodes keep their daemons", node: node("t", {}, { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }, { key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] }), spec: podSpec(), want: RUN },
    { name: "a cordoned node still runs daemons", node: node("t", {}, { unschedulable: true }), spec: podSpec(), want: RUN },
    { name: "a node under memory pressure still runs daemons", node: node("t", {}, { taints: [{ key: "node.kubernetes.io/memory-pressure", effect: "NoSchedule" }] }), spec: podSpec(), want: RUN },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(placement(c.node, c.spec), c.want));
});

test("daemonTolerations adds the daemon tolerations once, keeping the pod's own", () => {
  const own = podSpec({ tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 }] }).tolerations;
  const got = daemonTolerations(own);
  assert.equal(got.length, DAEMON_TOLERATIONS.length);
  assert.equal(got[0]!.tolerationSeconds, 60, "the pod's own not-ready toleration wins");
  assert.deepEqual(
    got.map((t) => `${t.key}:${t.effect}`),
    [
      "node.kubernetes.io/not-ready:NoExecute",
      "node.kubernetes.io/unreachable:NoExecute",
      "node.kubernetes.io/disk-pressure:NoSchedule",
      "node.kubernetes.io/memory-pressure:NoSchedule",
      "node.kubernetes.io/pid-pressure:NoSchedule",
      "node.kubernetes.io/unschedulable:NoSchedule",
    ],
  );
  assert.ok(got.slice(1).every((t) => t.operator === "Exists" && t.tolerationSeconds === undefined));
});
