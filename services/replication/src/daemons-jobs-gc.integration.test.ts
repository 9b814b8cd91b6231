// The DaemonSet and Job controllers and the garbage collector end to end against a real
// nats-server, run through run() (leader election included) as the all-in-one runs them. There is
// no scheduler or node agent: a stand-in kubelet reports each pod of a known node (or, for job
// pods, of "sim-node", where it binds them) as the image says - "ok" runs and succeeds, "fail"
// fails, anything else runs and becomes Ready - and deletes pods marked for deletion, as an agent
// does once their containers have stopped.
import { KINDS, type ConfigMap, type DaemonSet, type Job, type KubeObject, type Namespace, type Node, type Pod } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, Informer, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { REVISION_HASH_LABEL } from "./daemonset/reconcile.js";
import { run } from "./run.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let nodes: ResourceStore<Node>;
let daemonSets: ResourceStore<DaemonSet>;
let jobs: ResourceStore<Job>;
let configMaps: ResourceStore<ConfigMap>;
let podInformer: Informer<Pod>;
let cmInformer: Informer<ConfigMap>;
let running: { abort: AbortController; done: Promise<void> } | undefined;
/** Pods ever created per "<owner uid>/<node>" (a daemon set's second pod on a node would be a duplicate). */
const createdOn = new Map<string, number>();
/** Per owner uid: the most pods active at once, as the pod cache showed them. */
const peakActive = new Map<string, number>();
const STEP_MS = 100;

const print = (level: string) => (fields: object, msg?: string) =>
  process.env.NAVARCH_TEST_LOG ? console.error(level, msg ?? "", JSON.stringify(fields)) : undefined;
const quiet = { debug: print("debug"), info: print("info"), warn: print("warn"), error: print("error") };

function startReplication(): void {
  const abort = new AbortController();
  const done = run({
    nc,
    logger: quiet,
    signal: abort.signal,
    options: {
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 1,
      leaderElectIdentity: "replication-dsj-test",
      jobPodFailureBackoffSeconds: 1,
      defaultNotReadyTolerationSeconds: 4,
      defaultUnreachableTolerationSeconds: 6,
    },
  });
  running = { abort, done };
}

async function stopReplication(): Promise<void> {
  running?.abort.abort();
  await running?.done;
  running = undefined;
}

const isActive = (p: Pod) => !p.metadata!.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

/** The stand-in kubelet, and the bookkeeping of what the pod cache showed. */
function simulateKubelet(informer: Informer<Pod>): void {
  const pending = new Set<string>();
  informer.onEvent((e) => {
    if (e.type === "ADDED") {
      const k = `${e.object.metadata!.ownerReferences[0]?.uid}/${e.object.spec!.nodeName}`;
      createdOn.set(k, (createdOn.get(k) ?? 0) + 1);
    }
    const owner = e.object.metadata!.ownerReferences[0]?.uid;
    if (owner) {
      const active = podInformer.list(e.object.metadata!.namespace).filter((p) => p.metadata!.ownerReferences[0]?.uid === owner && isActive(p)).length;
      peakActive.set(owner, Math.max(peakActive.get(owner) ?? 0, active));
    }
    if (e.type === "DELETED") return;
    const pod = e.object;
    const { namespace, name } = pod.metadata!;
    if (pod.metadata!.deletionTimestamp) {
      void pods.delete(namespace, name, Number(pod.metadata!.resourceVersion)).catch(() => undefined);
      return;
    }
    if (pod.status?.phase !== "Pending" || pending.has(e.key)) return;
    pending.add(e.key);
    const image = pod.spec!.containers[0]!.image;
    setTimeout(() => {
      pending.delete(e.key);
      const phase = image === "ok" ? "Succeeded" : image === "fail" ? "Failed" : "Running";
      const terminated = phase === "Running" ? undefined : { exitCode: phase === "Failed" ? 1 : 0, finishedAt: timestamp() };
      void pods
        .modify(namespace, name, (p) => {
          if (p.metadata!.uid !== pod.metadata!.uid || p.metadata!.deletionTimestamp) return undefined;
          p.spec!.nodeName ||= "sim-node";
          p.status = KINDS.Pod.codec.fromPartial({
            status: {
              phase,
              conditions: phase === "Running" ? [{ type: "Ready", status: "True", lastTransitionTime: timestamp() }] : [],
              containerStatuses: [{ name: "app", ready: phase === "Running", restartCount: 0, state: terminated ? { terminated } : { running: { startedAt: timestamp() } } }],
            },
          }).status;
          return p;
        })
        .catch(() => undefined);
    }, STEP_MS);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-dsj-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "dsj-test" });
  const namespaces = await ResourceStore.open<Namespace>(nc, KINDS.Namespace);
  pods = await ResourceStore.open(nc, KINDS.Pod);
  nodes = await ResourceStore.open(nc, KINDS.Node);
  daemonSets = await ResourceStore.open(nc, KINDS.DaemonSet);
  jobs = await ResourceStore.open(nc, KINDS.Job);
  configMaps = await ResourceStore.open(nc, KINDS.ConfigMap);
  await namespaces.create(
    KINDS.Namespace.codec.fromPartial({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default", uid: randomUUID() }, status: { phase: "Active" } }),
  );
  podInformer = new Informer(pods, nc);
  simulateKubelet(podInformer);
  cmInformer = new Informer(configMaps, nc);
  await Promise.all([podInformer.start(), cmInformer.start()]);
  startReplication();
});

after(async () => {
  await stopReplication();
  podInformer?.stop();
  cmInformer?.stop();
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, get: () => Promise<T | undefined | false> | T | undefined | false, detail?: () => unknown, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail ? `\n${JSON.stringify(detail())}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const meta = (name: string, namespace = "default", extra: object = {}) => ({ name, namespace, uid: randomUUID(), creationTimestamp: timestamp(), generation: 1, ...extra });

async function addNode(name: string, labels: Record<string, string> = {}): Promise<Node> {
  return nodes.create(KINDS.Node.codec.fromPartial({ apiVersion: "v1", kind: "Node", metadata: meta(name, "", { labels }), status: { conditions: [{ type: "Ready", status: "True" }] } }));
}

/** A daemon set as the gateway stores it (admission's defaults written out). */
function daemonSet(name: string, image: string, extra: { nodeSelector?: Record<string, string> } = {}): DaemonSet {
  return KINDS.DaemonSet.codec.fromPartial({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: meta(name),
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { restartPolicy: "Always", terminationGracePeriodSeconds: 30, nodeSelector: extra.nodeSelector ?? {}, containers: [{ name: "app", image }] },
      },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "1", maxSurge: "0" } },
      revisionHistoryLimit: 10,
    },
  });
}

function job(name: string, image: string, spec: { completions?: number; parallelism?: number; backoffLimit?: number; activeDeadlineSeconds?: number; restartPolicy?: string }): Job {
  const uid = randomUUID();
  const labels = { "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name };
  return KINDS.Job.codec.fromPartial({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { ...meta(name), uid },
    spec: {
      completions: spec.completions ?? 1,
      parallelism: spec.parallelism ?? 1,
      backoffLimit: spec.backoffLimit ?? 6,
      activeDeadlineSeconds: spec.activeDeadlineSeconds,
      completionMode: "NonIndexed",
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
      template: { metadata: { labels }, spec: { restartPolicy: spec.restartPolicy ?? "Never", containers: [{ name: "app", image }] } },
    },
  });
}

const podsOf = (uid: string) => podInformer.list("default").filter((p) => p.metadata!.ownerReferences.some((o) => o.uid === uid));
const summary = (list: Pod[]) => list.map((p) => `${p.metadata!.name}@${p.spec!.nodeName || "-"}:${p.status?.phase}${p.metadata!.deletionTimestamp ? "(deleting)" : ""}`);

describe("DaemonSet controller (real NATS)", () => {
  test("one pod per node, bound to it; follows nodes that join and leave; status; a restart makes no duplicates", async () => {
    await addNode("ds-n1", { pool: "a" });
    await addNode("ds-n2", { pool: "a" });
    await addNode("ds-other", { pool: "b" });
    const ds = await daemonSets.create(daemonSet("agent", "agent:1", { nodeSelector: { pool: "a" } }));
    const uid = ds.metadata!.uid;
    const onNodes = () => podsOf(uid).filter(isActive).map((p) => p.spec!.nodeName).sort();
    await waitFor("a pod on ds-n1 and ds-n2", () => JSON.stringify(onNodes()) === JSON.stringify(["ds-n1", "ds-n2"]), () => summary(podsOf(uid)));
    const pod = podsOf(uid)[0]!;
    assert.equal(pod.metadata!.ownerReferences[0]!.controller, true);
    assert.equal(pod.metadata!.ownerReferences[0]!.blockOwnerDeletion, true);
    assert.match(pod.metadata!.labels[REVISION_HASH_LABEL]!, /^[0-9a-f]{10}$/);
    // Its own not-ready / unreachable tolerations (for ever) and none of the defaults with seconds.
    const noExecute = pod.spec!.tolerations.filter((t) => t.effect === "NoExecute").map((t) => `${t.key}:${t.tolerationSeconds ?? "-"}`);
    assert.deepEqual(noExecute, ["node.kubernetes.io/not-ready:-", "node.kubernetes.io/unreachable:-"]);

    await waitFor("status: 2 desired, 2 available", async () => {
      const s = (await daemonSets.get("default", "agent"))?.status;
      return s?.desiredNumberScheduled === 2 && s.numberAvailable === 2 && s.updatedNumberScheduled === 2 && s.observedGeneration === 1;
    });

    await addNode("ds-n3", { pool: "a" });
    await waitFor("a pod on the joining node", () => onNodes().includes("ds-n3"), () => summary(podsOf(uid)));
    await nodes.delete("", "ds-n2");
    await waitFor("the pod of the node that left is gone", () => JSON.stringify(onNodes()) === JSON.stringify(["ds-n1", "ds-n3"]), () => summary(podsOf(uid)));

    // Restarted mid-way: the new leader sees the same pods and makes no second one per node.
    await stopReplication();
    await addNode("ds-n4", { pool: "a" });
    startReplication();
    await waitFor("a pod on the node that joined while it was down", () => onNodes().includes("ds-n4"), () => summary(podsOf(uid)));
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(onNodes(), ["ds-n1", "ds-n3", "ds-n4"]);
    for (const n of ["ds-n1", "ds-n2", "ds-n3", "ds-n4"]) assert.equal(createdOn.get(`${uid}/${n}`), 1, `exactly one pod was ever made for ${n}`);
  });

  test("a rolling update replaces one node's pod at a time (maxUnavailable 1)", async () => {
    for (const n of ["ru-1", "ru-2", "ru-3"]) await addNode(n, { pool: "ru" });
    const ds = await daemonSets.create(daemonSet("roller", "roller:1", { nodeSelector: { pool: "ru" } }));
    const uid = ds.metadata!.uid;
    const ready = (image: string) =>
      podsOf(uid).filter((p) => isActive(p) && p.spec!.containers[0]!.image === image && p.status?.conditions.some((c) => c.type === "Ready" && c.status === "True")).length;
    await waitFor("3 ready pods of roller:1", () => ready("roller:1") === 3, () => summary(podsOf(uid)));

    let worst = 3;
    const sampler = setInterval(() => (worst = Math.min(worst, ready("roller:1") + ready("roller:2"))), 10);
    try {
      const current = (await daemonSets.get("default", "roller"))!;
      current.spec!.template!.spec!.containers[0]!.image = "roller:2";
      current.metadata!.generation = 2;
      await daemonSets.update(current);
      await waitFor("3 ready pods of roller:2", () => ready("roller:2") === 3 && podsOf(uid).length === 3, () => summary(podsOf(uid)));
    } finally {
      clearInterval(sampler);
    }
    assert.ok(worst >= 2, `never fewer than 3 - maxUnavailable ready pods (saw ${worst})`);
    await waitFor("status of the rollout", async () => {
      const s = (await daemonSets.get("default", "roller"))?.status;
      return s?.updatedNumberScheduled === 3 && s.numberAvailable === 3 && s.observedGeneration === 2;
    });
  });
});

describe("Job controller (real NATS)", () => {
  test("completions 3, parallelism 2: completes, never more than 2 at once", async () => {
    const j = await jobs.create(job("three", "ok", { completions: 3, parallelism: 2 }));
    const uid = j.metadata!.uid;
    const done = await waitFor("Complete", async () => {
      const cur = await jobs.get("default", "three");
      return cur?.status?.conditions.some((c) => c.type === "Complete" && c.status === "True") ? cur : undefined;
    }, () => summary(podsOf(uid)));
    assert.equal(done.status!.succeeded, 3);
    assert.equal(done.status!.active, 0);
    assert.ok(done.status!.startTime && done.status!.completionTime);
    assert.equal(podsOf(uid).filter((p) => p.status?.phase === "Succeeded").length, 3, "exactly 3 pods ran");
    assert.ok((peakActive.get(uid) ?? 0) <= 2, `at most 2 active at once (saw ${peakActive.get(uid)})`);
    assert.ok(podsOf(uid).every((p) => /^three-[a-z0-9]{5}$/.test(p.metadata!.name)));
    // The gateway's pod defaults with this service's seconds (the pods are not written through the gateway).
    for (const p of podsOf(uid)) {
      const noExecute = p.spec!.tolerations.filter((t) => t.effect === "NoExecute").map((t) => `${t.key}:${t.tolerationSeconds ?? "-"}`);
      assert.deepEqual(noExecute, ["node.kubernetes.io/not-ready:4", "node.kubernetes.io/unreachable:6"]);
    }
  });

  test("restarted mid-way, it carries on from the pods it finds: no extra pod, none missing", async () => {
    const j = await jobs.create(job("resumed", "ok", { completions: 4, parallelism: 2 }));
    const uid = j.metadata!.uid;
    await waitFor("its first pods", () => podsOf(uid).length >= 1);
    await stopReplication();
    await new Promise((r) => setTimeout(r, 3 * STEP_MS));
    startReplication();
    const done = await waitFor("Complete", async () => {
      const cur = await jobs.get("default", "resumed");
      return cur?.status?.conditions.some((c) => c.type === "Complete" && c.status === "True") ? cur : undefined;
    }, () => summary(podsOf(uid)));
    assert.equal(done.status!.succeeded, 4);
    assert.equal(podsOf(uid).length, 4, `exactly 4 pods were made: ${summary(podsOf(uid)).join(", ")}`);
    assert.ok((peakActive.get(uid) ?? 0) <= 2, `at most 2 active at once (saw ${peakActive.get(uid)})`);
  });

  test("a failing job stops at backoffLimit: Failed, BackoffLimitExceeded", async () => {
    const j = await jobs.create(job("doomed", "fail", { backoffLimit: 1 }));
    const failed = await waitFor("Failed", async () => {
      const cur = await jobs.get("default", "doomed");
      return cur?.status?.conditions.find((c) => c.type === "Failed" && c.status === "True") ? cur : undefined;
    }, () => summary(podsOf(j.metadata!.uid)));
    assert.equal(failed.status!.conditions.find((c) => c.type === "Failed")!.reason, "BackoffLimitExceeded");
    assert.equal(failed.status!.failed, 2);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(podsOf(j.metadata!.uid).length, 2, "no pod after the job failed");
  });

  test("activeDeadlineSeconds: the running pod is deleted, Failed DeadlineExceeded", async () => {
    const j = await jobs.create(job("slow", "sleep", { activeDeadlineSeconds: 1 }));
    const failed = await waitFor("Failed", async () => {
      const cur = await jobs.get("default", "slow");
      return cur?.status?.conditions.find((c) => c.type === "Failed" && c.status === "True") ? cur : undefined;
    });
    assert.equal(failed.status!.conditions.find((c) => c.type === "Failed")!.reason, "DeadlineExceeded");
    await waitFor("its pod gone", () => podsOf(j.metadata!.uid).length === 0, () => summary(podsOf(j.metadata!.uid)));
  });
});

describe("garbage collector (real NATS)", () => {
  const cm = (name: string, owners: KubeObject[] = [], extra: object = {}) =>
    KINDS.ConfigMap.codec.fromPartial({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(name, "default", {
        ownerReferences: owners.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata!.name, uid: o.metadata!.uid, blockOwnerDeletion: true })),
        ...extra,
      }),
    });
  /** What the gateway does on a delete with Foreground or Orphan. */
  const markDeleted = async (name: string, finalizer: string) => {
    const cur = (await configMaps.get("default", name))!;
    await configMaps.update({ ...cur, metadata: { ...cur.metadata!, deletionTimestamp: timestamp(), finalizers: [...cur.metadata!.finalizers, finalizer] } });
  };
  const gone = async (name: string) => (await configMaps.get("default", name)) === undefined;

  test("background: deleting a job deletes its pods", async () => {
    const j = await jobs.create(job("bg", "sleep", { parallelism: 2, completions: 2 }));
    await waitFor("2 pods", () => podsOf(j.metadata!.uid).filter(isActive).length === 2);
    await jobs.delete("default", "bg");
    await waitFor("its pods gone", () => podsOf(j.metadata!.uid).length === 0, () => summary(podsOf(j.metadata!.uid)));
  });

  test("an object with another owner that still exists keeps that owner and loses the gone one", async () => {
    const a = await configMaps.create(cm("owner-a"));
    const b = await configMaps.create(cm("owner-b"));
    await configMaps.create(cm("shared", [a, b]));
    await configMaps.delete("default", "owner-a");
    await waitFor("the reference to owner-a dropped", async () => {
      const refs = (await configMaps.get("default", "shared"))?.metadata?.ownerReferences ?? [];
      return refs.length === 1 && refs[0]!.uid === b.metadata!.uid;
    });
    await configMaps.delete("default", "owner-b");
    await waitFor("then it goes with its last owner", () => gone("shared"));
  });

  test("orphan: dependents lose the reference and stay; the owner goes", async () => {
    const owner = await configMaps.create(cm("parent"));
    await configMaps.create(cm("kid-1", [owner]));
    await configMaps.create(cm("kid-2", [owner]));
    await markDeleted("parent", "orphan");
    await waitFor("parent gone", () => gone("parent"));
    for (const kid of ["kid-1", "kid-2"]) {
      const k = await configMaps.get("default", kid);
      assert.ok(k, `${kid} kept`);
      assert.deepEqual(k!.metadata!.ownerReferences, []);
    }
  });

  test("foreground: the chain goes bottom up, the owner last", async () => {
    const order: string[] = [];
    const off = cmInformer.onEvent((e) => {
      if (e.type === "DELETED" && e.object.metadata!.name.startsWith("fg-")) order.push(e.object.metadata!.name);
    });
    try {
      const top = await configMaps.create(cm("fg-top"));
      const mid = await configMaps.create(cm("fg-mid", [top]));
      await configMaps.create(cm("fg-leaf-1", [mid]));
      await configMaps.create(cm("fg-leaf-2", [mid]));
      await markDeleted("fg-top", "foregroundDeletion");
      await waitFor("fg-top gone", () => gone("fg-top"), () => order);
      await waitFor("4 deletions seen", () => order.length === 4, () => order);
      assert.deepEqual(order.slice(2), ["fg-mid", "fg-top"], `order: ${order.join(", ")}`);
    } finally {
      off();
    }
  });
});
