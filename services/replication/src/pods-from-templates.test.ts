// The pods the replication controllers make get the gateway's pod defaults (they are written
// straight to the store): requests from limits, and the not-ready / unreachable NoExecute
// tolerations with the service's seconds - except where the pod already has its own.
import { KINDS, TAINT_NOT_READY, TAINT_UNREACHABLE, type DaemonSet, type Job, type Pod, type Toleration } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_POD_DEFAULTS, podName, type PodDefaults } from "./pod-ownership/controlled-pods.js";
import { daemonPod } from "./daemonset/apply.js";
import { jobPod } from "./job/apply.js";
import { replicaSetPod } from "./replicaset/apply.js";

const DEFAULTS: PodDefaults = { notReadyTolerationSeconds: 7, unreachableTolerationSeconds: 9 };
const NOW = new Date("2026-11-22T10:00:00Z");
const meta = { name: "web", namespace: "default", uid: "owner-uid" };

function template(tolerations: Partial<Toleration>[] = []) {
  return {
    metadata: { labels: { app: "web" } },
    spec: {
      tolerations,
      containers: [
        { name: "app", image: "navarch/demo:1", resources: { requests: { cpu: "100m" }, limits: { cpu: "500m", memory: "128Mi" } } },
        { name: "side", image: "navarch/busybox:1" },
      ],
      initContainers: [{ name: "init", image: "navarch/busybox:1", resources: { limits: { memory: "32Mi" } } }],
    },
  };
}

const replicaSet = (tolerations: Partial<Toleration>[] = []) => KINDS.ReplicaSet.codec.fromPartial({ metadata: meta, spec: { replicas: 1, template: template(tolerations) } });
const job = (tolerations: Partial<Toleration>[] = []): Job => KINDS.Job.codec.fromPartial({ metadata: meta, spec: { template: template(tolerations) } });
const daemonSet = (tolerations: Partial<Toleration>[] = []): DaemonSet => KINDS.DaemonSet.codec.fromPartial({ metadata: meta, spec: { template: template(tolerations) } });

const shown = (p: Pod) => p.spec!.tolerations.map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds ?? "-"}`);
const noExecute = (p: Pod) => shown(p).filter((t) => t.includes(":NoExecute:"));

describe("pods made from templates get the gateway's pod defaults", () => {
  const makers: [string, (tolerations?: Partial<Toleration>[], defaults?: PodDefaults) => Pod][] = [
    ["ReplicaSet", (t, d = DEFAULTS) => replicaSetPod(replicaSet(t), "web-abcde", NOW, d)],
    ["Job", (t, d = DEFAULTS) => jobPod(job(t), "web-abcde", NOW, d)],
  ];
  for (const [kind, make] of makers) {
    test(`${kind}: not-ready and unreachable tolerated for the service's seconds`, () => {
      assert.deepEqual(shown(make()), [`${TAINT_NOT_READY}:NoExecute:7`, `${TAINT_UNREACHABLE}:NoExecute:9`]);
      assert.deepEqual(shown(make([], DEFAULT_POD_DEFAULTS)), [`${TAINT_NOT_READY}:NoExecute:2`, `${TAINT_UNREACHABLE}:NoExecute:2`], "the gateway's default, 2 s");
    });

    test(`${kind}: the template's own toleration of a taint is kept and not doubled`, () => {
      const own = [{ key: TAINT_UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }];
      assert.deepEqual(shown(make(own)), [`${TAINT_UNREACHABLE}:NoExecute:300`, `${TAINT_NOT_READY}:NoExecute:7`]);
      assert.deepEqual(shown(make([{ operator: "Exists" }])), ["::-"], "a toleration of everything covers both");
    });

    test(`${kind}: a limit without a request requests the limit`, () => {
      const pod = make();
      assert.deepEqual(pod.spec!.containers[0]!.resources!.requests, { cpu: "100m", memory: "128Mi" });
      assert.deepEqual(pod.spec!.initContainers[0]!.resources!.requests, { memory: "32Mi" });
      assert.deepEqual(pod.spec!.containers[1]!.resources?.requests ?? {}, {});
    });
  }

  test("the owner's template (the informer's cached object) is left as it was", () => {
    const rs = replicaSet();
    const before = structuredClone(rs);
    replicaSetPod(rs, "web-abcde", NOW, DEFAULTS);
    assert.deepEqual(rs, before);
    const ds = daemonSet();
    const dsBefore = structuredClone(ds);
    daemonPod(ds, "n1", "web-abcde", NOW, DEFAULTS);
    assert.deepEqual(ds, dsBefore);
  });

  test("ReplicaSet pod: metadata from the template and the controller reference", () => {
    const pod = replicaSetPod(replicaSet(), "web-abcde", NOW, DEFAULTS);
    assert.equal(pod.metadata!.name, "web-abcde");
    assert.equal(pod.metadata!.namespace, "default");
    assert.deepEqual(pod.metadata!.labels, { app: "web" });
    assert.equal(pod.metadata!.creationTimestamp, "2026-11-22T10:00:00Z");
    assert.deepEqual(pod.metadata!.ownerReferences, [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "owner-uid", controller: true, blockOwnerDeletion: true }]);
    assert.equal(pod.status!.phase, "Pending");
    assert.ok(pod.metadata!.uid);
  });

  test("DaemonSet pod: its own not-ready / unreachable tolerations without seconds, no defaults with seconds", () => {
    const pod = daemonPod(daemonSet(), "n1", "web-abcde", NOW, DEFAULTS);
    assert.equal(pod.spec!.nodeName, "n1");
    assert.deepEqual(noExecute(pod), [`${TAINT_NOT_READY}:NoExecute:-`, `${TAINT_UNREACHABLE}:NoExecute:-`]);
    assert.deepEqual(pod.spec!.containers[0]!.resources!.requests, { cpu: "100m", memory: "128Mi" }, "requests from limits too");
    const own = daemonPod(daemonSet([{ key: TAINT_NOT_READY, operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 }]), "n1", "web-abcde", NOW, DEFAULTS);
    assert.deepEqual(noExecute(own), [`${TAINT_NOT_READY}:NoExecute:60`, `${TAINT_UNREACHABLE}:NoExecute:-`], "a template's own seconds win");
  });

  test("pod names: <owner>-<5 of Kubernetes' generateName alphabet>, the owner cut to 58 characters", () => {
    assert.match(podName("web"), /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(podName("x".repeat(70), () => "abcde"), `${"x".repeat(58)}-abcde`);
  });
});
