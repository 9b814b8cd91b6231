// Node lifecycle + taint eviction end to end against a real nats-server, through run() as the
// all-in-one runs it: a node whose heartbeat stops turns Unknown and gets the unreachable taint,
// its pods are evicted as their tolerations say, and a heartbeat that comes back clears it all.
import { KINDS, type Event, type Lease, type Node, type Pod, type Toleration } from "@navarch/api";
import { microTime } from "@navarch/controller";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, Informer, NODE_LEASE_NAMESPACE, openPodStatusReports, REPORTED_BY_ANNOTATION, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { run } from "../run.js";

const UNREACHABLE = "node.kubernetes.io/unreachable";
let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let nodes: ResourceStore<Node>;
let leases: ResourceStore<Lease>;
let pods: ResourceStore<Pod>;
let events: ResourceStore<Event>;
let podInformer: Informer<Pod>;
let nodeInformer: Informer<Node>;
const deletedAt = new Map<string, number>();
const abort = new AbortController();
let running: Promise<void>;
const renewing = new Map<string, ReturnType<typeof setInterval>>();

const print = (level: string) => (fields: object, msg?: string) =>
  process.env.NAVARCH_TEST_LOG ? console.error(level, msg ?? "", JSON.stringify(fields)) : undefined;
const quiet = { debug: print("debug"), info: print("info"), warn: print("warn"), error: print("error") };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-taint-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "taint-eviction-test" });
  [nodes, leases, pods, events] = await Promise.all([
    ResourceStore.open<Node>(nc, KINDS.Node),
    ResourceStore.open<Lease>(nc, KINDS.Lease),
    ResourceStore.open<Pod>(nc, KINDS.Pod),
    ResourceStore.open<Event>(nc, KINDS.Event),
  ]);
  podInformer = new Informer(pods, nc);
  podInformer.onEvent((e) => {
    if (e.type === "DELETED") deletedAt.set(e.object.metadata!.name, Date.now());
  });
  nodeInformer = new Informer(nodes, nc);
  await Promise.all([podInformer.start(), nodeInformer.start()]);
  running = run({
    nc,
    logger: quiet,
    signal: abort.signal,
    options: { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 1, nodeMonitorGraceSeconds: 1 },
  });
});

after(async () => {
  for (const t of renewing.values()) clearInterval(t);
  abort.abort();
  await running?.catch(() => {});
  podInformer?.stop();
  nodeInformer?.stop();
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function addNode(name: string): Promise<void> {
  await nodes.create(
    KINDS.Node.codec.fromPartial({ apiVersion: "v1", kind: "Node", metadata: { name, uid: randomUUID(), creationTimestamp: "2026-01-01T00:00:00Z" }, spec: {}, status: {} }),
  );
}

/** Renews the node's Lease every 200 ms, as its agent would. */
function heartbeat(node: string): void {
  const beat = async () => {
    const now = microTime(Date.now());
    const current = await leases.get(NODE_LEASE_NAMESPACE, node);
    if (current) await leases.update({ ...current, spec: { ...current.spec!, renewTime: now } });
    else {
      await leases.create(
        KINDS.Lease.codec.fromPartial({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: node, namespace: NODE_LEASE_NAMESPACE, uid: randomUUID(), creationTimestamp: timestamp() },
          spec: { holderIdentity: node, leaseDurationSeconds: 1, renewTime: now },
        }),
      );
    }
  };
  void beat();
  renewing.set(node, setInterval(() => void beat().catch(() => undefined), 200));
}

function silence(node: string): void {
  clearInterval(renewing.get(node));
  renewing.delete(node);
}

async function addPod(name: string, node: string, tolerations: Partial<Toleration>[] = []): Promise<void> {
  await pods.create(
    KINDS.Pod.codec.fromPartial({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", uid: randomUUID(), creationTimestamp: timestamp() },
      spec: { nodeName: node, tolerations, terminationGracePeriodSeconds: 5, containers: [{ name: "c", image: "navarch/pause:1" }] },
    }),
  );
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ready = (name: string) => nodeInformer.get("", name)?.status?.conditions.find((c) => c.type === "Ready")?.status;
const unreachableTaint = (name: string) => nodeInformer.get("", name)?.spec?.taints.find((t) => t.key === UNREACHABLE && t.effect === "NoExecute");

test("a silent node: Unknown + unreachable taint; pods evicted by their tolerations; back: Ready, untainted", async (t: TestContext) => {
  await Promise.all([addNode("n1"), addNode("n2")]);
  heartbeat("n1");
  heartbeat("n2");
  await until("both nodes Ready", () => ready("n1") === "True" && ready("n2") === "True");
  await addPod("untolerated", "n1");
  await addPod("tolerates-1s", "n1", [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 1 }]);
  await addPod("tolerates-forever", "n1", [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute" }]);
  await addPod("elsewhere", "n2");

  const silentAt = Date.now();
  silence("n1");
  const taint = await until("the unreachable taint on n1", () => unreachableTaint("n1"));
  assert.equal(ready("n1"), "Unknown");
  const taintedAt = Date.parse(taint.timeAdded);
  t.diagnostic(`heartbeat stopped -> tainted unreachable: ${taintedAt - silentAt} ms (grace 1 s)`);

  await until("the untolerated pod deleted", () => deletedAt.get("untolerated"));
  await until("the pod tolerating 1 s deleted", () => deletedAt.get("tolerates-1s"));
  t.diagnostic(`taint -> untolerated pod gone: ${deletedAt.get("untolerated")! - taintedAt} ms; -> 1 s toleration gone: ${deletedAt.get("tolerates-1s")! - taintedAt} ms`);
  assert.ok(deletedAt.get("tolerates-1s")! >= taintedAt + 1_000, "the toleration was respected");
  // Force deletion on an unreachable node: the objects are gone, not just marked.
  assert.equal(podInformer.get("default", "untolerated"), undefined);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.ok(podInformer.get("default", "tolerates-forever"), "tolerated without seconds: stays");
  assert.ok(podInformer.get("default", "elsewhere"), "a pod on a healthy node stays");
  assert.equal(ready("n2"), "True");

  const list = await events.kv.keys();
  const all: Event[] = [];
  for await (const k of list) {
    const [ns, ...rest] = k.split(".");
    const e = await events.get(ns!, rest.join("."));
    if (e) all.push(e);
  }
  const evictions = all.filter((e) => e.reason === "TaintManagerEviction").map((e) => e.message).sort();
  assert.deepEqual(evictions, ["Marking for deletion Pod default/tolerates-1s", "Marking for deletion Pod default/untolerated"]);
  const nodeEvents = all.filter((e) => e.involvedObject?.kind === "Node" && e.involvedObject.name === "n1").map((e) => e.reason);
  assert.ok(nodeEvents.includes("NodeNotReady"), `node events: ${nodeEvents.join(", ")}`);

  heartbeat("n1");
  await until("n1 Ready and untainted again", () => ready("n1") === "True" && !unreachableTaint("n1"));
  assert.ok(podInformer.get("default", "tolerates-forever"), "still there");
});

test("a NoExecute taint on a reachable node evicts gracefully (the agent finishes the deletion)", async () => {
  await addPod("graceful", "n2");
  const node = nodeInformer.get("", "n2")!;
  await nodes.update({ ...node, spec: { ...node.spec!, taints: [{ key: "maintenance", value: "", effect: "NoExecute", timeAdded: new Date().toISOString() }] } });
  const marked = await until("the pod marked for deletion", () => {
    const p = podInformer.get("default", "graceful");
    return p?.metadata?.deletionTimestamp ? p : undefined;
  });
  assert.equal(marked.metadata!.deletionGracePeriodSeconds, 5, "its own grace period");
  assert.ok(podInformer.get("default", "elsewhere")?.metadata?.deletionTimestamp, "every untolerating pod of the node");
});

test("a stale agent's report for an evicted pod resurrects nothing and cannot touch its same-name replacement", async () => {
  const reports = await openPodStatusReports(nc);
  const evicted = "untolerated";
  const report = (uid: string, node: string) =>
    KINDS.Pod.codec.fromPartial({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: evicted, namespace: "default", uid, annotations: { [REPORTED_BY_ANNOTATION]: node } },
      status: { phase: "Running", podIP: "172.18.0.99" },
    });
  // What a partitioned n1 had queued and flushes once it is back: the evicted pod Running.
  const oldUid = randomUUID();
  await reports.create(report(oldUid, "n1"));
  await until("the folder dropped the report of a pod that is gone", async () => ((await reports.get("default", evicted)) ? undefined : true));
  assert.equal(await pods.get("default", evicted), undefined, "no Pod came back");

  // The replacement of the same name runs on n2; n1's stale report (old uid) must not touch it.
  await addPod(evicted, "n2");
  const replacement = (await pods.get("default", evicted))!;
  await reports.create(report(oldUid, "n1"));
  await new Promise((r) => setTimeout(r, 500));
  const after = (await pods.get("default", evicted))!;
  assert.equal(after.metadata!.uid, replacement.metadata!.uid);
  assert.notEqual(after.status?.podIP, "172.18.0.99", "the stale report was refused (uid and node check)");
  // A report from the replacement's own node is folded: the check refuses only stale writers.
  const current = (await reports.get("default", evicted))!;
  await reports.update({ ...report(replacement.metadata!.uid, "n2"), metadata: { ...report(replacement.metadata!.uid, "n2").metadata!, resourceVersion: current.metadata!.resourceVersion } });
  await until("the replacement's own report folded", async () => ((await pods.get("default", evicted))?.status?.podIP === "172.18.0.99" ? true : undefined));
});
