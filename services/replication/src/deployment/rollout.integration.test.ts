// The ReplicaSet and Deployment controllers end to end against a real nats-server, run through
// run() (leader election included) as the all-in-one runs them. There is no scheduler or node
// agent here: a stand-in kubelet binds each new pod to "sim-node" and reports it Running and
// Ready after a short delay (never for an image in `broken`), and deletes pods marked for
// deletion, as an agent does once their containers have stopped.
import { KINDS, type Deployment, type Event, type Namespace, type Pod, type ReplicaSet } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, Informer, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run } from "../run.js";
import { POD_TEMPLATE_HASH, REVISION_ANNOTATION } from "./reasons.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let replicaSets: ResourceStore<ReplicaSet>;
let deployments: ResourceStore<Deployment>;
let events: ResourceStore<Event>;
let podInformer: Informer<Pod>;
let running: { abort: AbortController; done: Promise<void> } | undefined;
/** Every pod name ever created, and how often (a name seen twice would be a duplicate create). */
const created = new Map<string, number>();
const broken = new Set<string>();
const READY_DELAY_MS = 150;

const print = (level: string) => (fields: object, msg?: string) =>
  process.env.NAVARCH_TEST_LOG ? console.error(level, msg ?? "", JSON.stringify(fields)) : undefined;
const quiet = { debug: print("debug"), info: print("info"), warn: print("warn"), error: print("error") };

function startReplication(): void {
  const abort = new AbortController();
  const done = run({
    nc,
    logger: quiet,
    signal: abort.signal,
    // The same identity as the last run: a restarted replication service takes its lease back at once.
    options: {
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 1,
      leaderElectIdentity: "replication-test",
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

/** The stand-in kubelet. */
function simulateKubelet(informer: Informer<Pod>): void {
  const pending = new Set<string>();
  informer.onEvent((e) => {
    if (e.type === "ADDED") created.set(e.object.metadata!.name, (created.get(e.object.metadata!.name) ?? 0) + 1);
    if (e.type === "DELETED") return;
    const pod = e.object;
    const { namespace, name } = pod.metadata!;
    if (pod.metadata!.deletionTimestamp) {
      void pods.delete(namespace, name, Number(pod.metadata!.resourceVersion)).catch(() => undefined);
      return;
    }
    const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (ready || pending.has(e.key) || broken.has(pod.spec!.containers[0]!.image)) return;
    pending.add(e.key);
    setTimeout(() => {
      pending.delete(e.key);
      void pods
        .modify(namespace, name, (p) => {
          if (p.metadata!.uid !== pod.metadata!.uid || p.metadata!.deletionTimestamp) return undefined;
          p.spec!.nodeName = "sim-node";
          p.status = KINDS.Pod.codec.fromPartial({
            status: {
              phase: "Running",
              conditions: [{ type: "Ready", status: "True", lastTransitionTime: timestamp() }],
              containerStatuses: [{ name: "app", ready: true, restartCount: 0 }],
            },
          }).status;
          return p;
        })
        .catch(() => undefined);
    }, READY_DELAY_MS);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-rollout-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "rollout-test" });
  const namespaces = await ResourceStore.open<Namespace>(nc, KINDS.Namespace);
  pods = await ResourceStore.open(nc, KINDS.Pod);
  replicaSets = await ResourceStore.open(nc, KINDS.ReplicaSet);
  deployments = await ResourceStore.open(nc, KINDS.Deployment);
  events = await ResourceStore.open(nc, KINDS.Event);
  await namespaces.create(
    KINDS.Namespace.codec.fromPartial({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default", uid: randomUUID() }, status: { phase: "Active" } }),
  );
  podInformer = new Informer(pods, nc);
  simulateKubelet(podInformer);
  await podInformer.start();
  startReplication();
});

after(async () => {
  await stopReplication();
  podInformer?.stop();
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, get: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function template(app: string, image: string) {
  return { metadata: { labels: { app } }, spec: { containers: [{ name: "app", image }], restartPolicy: "Always", terminationGracePeriodSeconds: 30 } };
}

function livePods(app: string): Pod[] {
  return podInformer.list("default").filter((p) => p.metadata!.labels.app === app && !p.metadata!.deletionTimestamp);
}

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

async function newDeployment(name: string, replicas: number, image: string, extra: Record<string, unknown> = {}): Promise<Deployment> {
  return deployments.create(
    KINDS.Deployment.codec.fromPartial({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: "default", uid: randomUUID(), generation: 1, creationTimestamp: timestamp() },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: template(name, image),
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        ...extra,
      },
    }),
  );
}

/** What the gateway does on an update of the spec: bump the generation. */
async function setImage(name: string, image: string): Promise<void> {
  await deployments.modify("default", name, (d) => {
    d.spec!.template!.spec!.containers[0]!.image = image;
    d.metadata!.generation += 1;
    return d;
  });
}

async function rolledOut(name: string, replicas: number): Promise<Deployment> {
  return waitFor(`deployment ${name} rolled out`, async () => {
    const d = await deployments.get("default", name);
    const s = d?.status;
    const done =
      s && s.observedGeneration >= d!.metadata!.generation && s.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas;
    return done ? d : undefined;
  });
}

describe("replica sets (real NATS)", () => {
  test("keeps replicas pods with owner references, replaces a deleted pod, adopts and releases", async () => {
    const rs = await replicaSets.create(
      KINDS.ReplicaSet.codec.fromPartial({
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: { name: "plain", namespace: "default", uid: randomUUID(), generation: 1, creationTimestamp: timestamp() },
        spec: { replicas: 5, selector: { matchLabels: { app: "plain" } }, template: template("plain", "navarch/demo:1") },
      }),
    );
    await waitFor("5 ready pods", () => livePods("plain").filter(isReady).length === 5);
    const five = livePods("plain");
    for (const p of five) {
      assert.match(p.metadata!.name, /^plain-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata!.ownerReferences, [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "plain", uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true },
      ]);
      // The gateway's pod defaults with this service's seconds (the pods are not written through the gateway).
      const noExecute = p.spec!.tolerations.filter((t) => t.effect === "NoExecute").map((t) => `${t.key}:${t.tolerationSeconds ?? "-"}`);
      assert.deepEqual(noExecute, ["node.kubernetes.io/not-ready:4", "node.kubernetes.io/unreachable:6"]);
    }
    const status = await waitFor("status", async () => {
      const s = (await replicaSets.get("default", "plain"))?.status;
      return s?.availableReplicas === 5 ? s : undefined;
    });
    assert.deepEqual([status.replicas, status.fullyLabeledReplicas, status.readyReplicas, status.observedGeneration], [5, 5, 5, 1]);

    // A pod deleted (here at once, as a force delete) is replaced.
    const victim = five[0]!;
    await pods.delete("default", victim.metadata!.name);
    await waitFor("a replacement", () => livePods("plain").length === 5 && !livePods("plain").some((p) => p.metadata!.name === victim.metadata!.name));

    // An orphan with matching labels is adopted: the set then has one too many and deletes one.
    const stray = await pods.create(
      KINDS.Pod.codec.fromPartial({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "stray", namespace: "default", uid: randomUUID(), labels: { app: "plain" }, creationTimestamp: timestamp() },
        spec: template("plain", "navarch/demo:1").spec,
        status: { phase: "Pending" },
      }),
    );
    await waitFor("back to 5 after adopting", async () => {
      // Not before this cache has the orphan: without it, the 5 pods of before would pass at once,
      // and the pod relabelled below could be the one the set is about to delete.
      if (podInformer.revision < Number(stray.metadata!.resourceVersion)) return false;
      const all = podInformer.list("default").filter((p) => p.metadata!.labels.app === "plain" && !p.metadata!.deletionTimestamp);
      return all.length === 5 && all.every((p) => p.metadata!.ownerReferences.some((o) => o.uid === rs.metadata!.uid));
    });

    // A pod relabelled out of the selector is released (and replaced).
    const relabel = livePods("plain")[0]!;
    await pods.modify("default", relabel.metadata!.name, (p) => ({ ...p, metadata: { ...p.metadata!, labels: { app: "debugging" } } }));
    await waitFor("released and replaced", async () => {
      const p = await pods.get("default", relabel.metadata!.name);
      return p && p.metadata!.ownerReferences.length === 0 && livePods("plain").length === 5;
    });

    // Scale down to 2: 3 pods go.
    await replicaSets.modify("default", "plain", (r) => ({ ...r, spec: { ...r.spec!, replicas: 2 }, metadata: { ...r.metadata!, generation: 2 } }));
    await waitFor("2 pods", () => livePods("plain").length === 2);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(livePods("plain").length, 2, "stays at 2");

    const evs = await waitFor("events", async () => {
      const all = [];
      for await (const k of await events.kv.keys()) {
        const e = await events.get("default", k.slice("default.".length));
        if (e?.involvedObject?.name === "plain") all.push(e);
      }
      return all.some((e) => e.reason === "SuccessfulDelete") ? all : undefined;
    });
    assert.ok(evs.some((e) => e.reason === "SuccessfulCreate" && /^Created pod: plain-/.test(e.message)));
  });

  test("a burst of 40 replicas creates exactly 40 pods (no duplicates while the cache lags)", async () => {
    await replicaSets.create(
      KINDS.ReplicaSet.codec.fromPartial({
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: { name: "burst", namespace: "default", uid: randomUUID(), generation: 1, creationTimestamp: timestamp() },
        spec: { replicas: 40, selector: { matchLabels: { app: "burst" } }, template: template("burst", "navarch/demo:1") },
      }),
    );
    await waitFor("40 ready", () => livePods("burst").filter(isReady).length === 40);
    await new Promise((r) => setTimeout(r, 1_000));
    const names = [...created.keys()].filter((n) => n.startsWith("burst-"));
    assert.equal(names.length, 40, "pods ever created");
    assert.equal(livePods("burst").length, 40);
  });
});

describe("deployments (real NATS)", () => {
  test("rolling update: never more than replicas + maxSurge pods, never fewer than replicas - maxUnavailable ready", async () => {
    await newDeployment("web", 8, "navarch/demo:1");
    const first = await rolledOut("web", 8);
    assert.equal(first.metadata!.annotations[REVISION_ANNOTATION], "1");

    // 8 replicas, 25%: maxSurge 2, maxUnavailable 2.
    let maxPods = 0;
    let minReady = Infinity;
    const sample = () => {
      const live = livePods("web");
      maxPods = Math.max(maxPods, live.length);
      minReady = Math.min(minReady, live.filter(isReady).length);
    };
    const unsubscribe = podInformer.onEvent(sample);
    await setImage("web", "navarch/demo:2");
    const done = await rolledOut("web", 8);
    unsubscribe();
    if (process.env.NAVARCH_TEST_SHOW) console.error({ maxPods, minReady });
    assert.ok(maxPods <= 10, `at most 8 + 2 pods, saw ${maxPods}`);
    assert.ok(minReady >= 6, `at least 8 - 2 ready, saw ${minReady}`);
    assert.equal(done.metadata!.annotations[REVISION_ANNOTATION], "2");
    assert.ok(livePods("web").every((p) => p.spec!.containers[0]!.image === "navarch/demo:2"));
    const sets = (await listReplicaSets("web")).sort((a, b) => Number(a.metadata!.annotations[REVISION_ANNOTATION]) - Number(b.metadata!.annotations[REVISION_ANNOTATION]));
    assert.deepEqual(
      sets.map((rs) => [rs.metadata!.annotations[REVISION_ANNOTATION], rs.spec!.replicas, rs.metadata!.name === `web-${rs.spec!.selector!.matchLabels[POD_TEMPLATE_HASH]}`]),
      [
        ["1", 0, true],
        ["2", 8, true],
      ],
    );
    const conds = Object.fromEntries(done.status!.conditions.map((c) => [c.type, c.reason]));
    assert.deepEqual(conds, { Available: "MinimumReplicasAvailable", Progressing: "NewReplicaSetAvailable" });
  });

  test("a missing image stalls: ProgressDeadlineExceeded; the old template back (undo) completes", async () => {
    await newDeployment("stall", 4, "navarch/demo:1", { progressDeadlineSeconds: 3 });
    await rolledOut("stall", 4);
    broken.add("navarch/missing:1");
    await setImage("stall", "navarch/missing:1");
    const stuck = await waitFor("deadline exceeded", async () => {
      const d = await deployments.get("default", "stall");
      return d?.status?.conditions.some((c) => c.type === "Progressing" && c.status === "False" && c.reason === "ProgressDeadlineExceeded") ? d : undefined;
    });
    assert.ok(livePods("stall").filter(isReady).length >= 3, "the old pods keep serving");
    // `rollout undo`: the previous replica set's template (minus its hash label) back in the deployment.
    const previous = (await listReplicaSets("stall")).find((rs) => rs.metadata!.annotations[REVISION_ANNOTATION] === "1")!;
    await deployments.modify("default", "stall", (d) => {
      const t = structuredClone(previous.spec!.template!);
      delete t.metadata!.labels[POD_TEMPLATE_HASH];
      d.spec!.template = t;
      d.metadata!.generation += 1;
      return d;
    });
    const back = await rolledOut("stall", 4);
    assert.equal(back.metadata!.annotations[REVISION_ANNOTATION], "3", "the rollback is a new revision");
    assert.ok(stuck.status!.conditions.length > 0);
    assert.ok(livePods("stall").every((p) => p.spec!.containers[0]!.image === "navarch/demo:1"));
    const restored = (await listReplicaSets("stall")).find((rs) => rs.metadata!.uid === previous.metadata!.uid)!;
    assert.equal(restored.metadata!.annotations["deployment.kubernetes.io/revision-history"], "1");
  });

  test("the replication service killed mid-rollout and started again finishes it: no duplicate pods, no lost revision", async () => {
    await newDeployment("restart", 10, "navarch/demo:1");
    await rolledOut("restart", 10);
    await setImage("restart", "navarch/demo:2");
    await waitFor("rollout under way", () => livePods("restart").some((p) => p.spec!.containers[0]!.image === "navarch/demo:2"));
    await stopReplication();
    const before = livePods("restart").length;
    await new Promise((r) => setTimeout(r, 500));
    startReplication();
    const done = await rolledOut("restart", 10);
    assert.ok(before <= 13, `never above 10 + 3 pods: ${before}`);
    assert.equal(done.metadata!.annotations[REVISION_ANNOTATION], "2");
    const sets = await listReplicaSets("restart");
    assert.equal(sets.length, 2, "one replica set per template");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(livePods("restart").length, 10);
    assert.ok(livePods("restart").every((p) => p.spec!.containers[0]!.image === "navarch/demo:2"));
  });

  test("Recreate: old pods are all gone before a new one is created", async () => {
    await newDeployment("recreate", 3, "navarch/demo:1", { strategy: { type: "Recreate" } });
    await rolledOut("recreate", 3);
    let overlap = false;
    const unsubscribe = podInformer.onEvent(() => {
      const images = new Set(podInformer.list("default").filter((p) => p.metadata!.labels.app === "recreate").map((p) => p.spec!.containers[0]!.image));
      if (images.size > 1) overlap = true;
    });
    await setImage("recreate", "navarch/demo:2");
    await rolledOut("recreate", 3);
    unsubscribe();
    assert.equal(overlap, false, "never old and new pods at once");
  });
});

async function listReplicaSets(owner: string): Promise<ReplicaSet[]> {
  const out: ReplicaSet[] = [];
  for await (const k of await replicaSets.kv.keys()) {
    const rs = await replicaSets.get("default", k.slice("default.".length));
    if (rs && rs.metadata!.ownerReferences.some((o) => o.kind === "Deployment" && o.name === owner)) out.push(rs);
  }
  return out;
}
