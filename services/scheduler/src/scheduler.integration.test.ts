// The scheduler against a real nats-server, through run(): two schedulers with leader election
// off race for the same pods. Every pod is bound exactly once - counted by the pods stream's
// sequence (every stored write, of any key, takes one), so a second binding of any pod would
// show as an extra write - and the loser of each race reads the pod again and skips it.
import { KINDS, type Event, type Node, type Pod } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, ResourceStore, timestamp } from "@navarch/store";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bind } from "./pod-scheduled.js";
import { run } from "./run.js";
import type { Scheduler } from "./scheduler.js";
import { makeNode, makePod } from "./testing.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let nodes: ResourceStore<Node>;
let events: ResourceStore<Event>;
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

interface Running {
  nc: NatsConnection;
  abort: AbortController;
  done: Promise<void>;
  scheduler: Scheduler;
}
const running: Running[] = [];

async function startScheduler(name: string, options: Record<string, unknown> = {}): Promise<Running> {
  const conn = await connectNats({ url: server.url, name });
  const abort = new AbortController();
  let resolveScheduler!: (s: Scheduler) => void;
  const started = new Promise<Scheduler>((r) => (resolveScheduler = r));
  const done = run({ nc: conn, logger: silent, signal: abort.signal, options: { leaderElect: false, ...options }, onScheduler: resolveScheduler });
  const scheduler = await started;
  await eventually(`${name} running`, () => (scheduler.state !== "not started" ? true : undefined));
  const r = { nc: conn, abort, done, scheduler };
  running.push(r);
  return r;
}

async function stopScheduler(r: Running): Promise<void> {
  r.abort.abort();
  await r.done.catch(() => {});
  await r.nc.close();
  running.splice(running.indexOf(r), 1);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-scheduler-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "scheduler-test" });
  pods = await ResourceStore.open(nc, KINDS.Pod);
  nodes = await ResourceStore.open(nc, KINDS.Node);
  events = await ResourceStore.open(nc, KINDS.Event);
});

after(async () => {
  for (const r of [...running]) await stopScheduler(r);
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function podsSeq(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info("KV_navarch-pods")).state.last_seq;
}

function newPod(name: string, shape: Parameters<typeof makePod>[1] = {}): Pod {
  const p = makePod(name, { namespace: "race", ...shape });
  p.metadata!.creationTimestamp = timestamp();
  return p;
}

async function listPods(namespace: string): Promise<Pod[]> {
  const out: Pod[] = [];
  for await (const key of await pods.kv.keys(`${namespace}.>`)) {
    const p = await pods.get(namespace, key.slice(namespace.length + 1));
    if (p) out.push(p);
  }
  return out;
}

async function eventsAbout(namespace: string, name: string): Promise<Event[]> {
  const out: Event[] = [];
  for await (const key of await events.kv.keys(`${namespace}.>`)) {
    const e = await events.get(namespace, key.slice(namespace.length + 1));
    if (e?.involvedObject?.name === name) out.push(e);
  }
  return out;
}

describe("scheduler (real NATS)", () => {
  test("two schedulers race for 300 pods: each is bound exactly once, the losers skip", async () => {
    for (let i = 1; i <= 4; i++) await nodes.create(makeNode(`race-${i}`, { cpu: "64", memory: "256Gi", pods: "200" }));
    const [a, b] = [await startScheduler("scheduler-a"), await startScheduler("scheduler-b")];
    const before = await podsSeq();
    const N = 300;
    await Promise.all(Array.from({ length: N }, (_, i) => pods.create(newPod(`p${i}`, { cpu: "100m", memory: "64Mi" }))));

    const bound = await eventually("every pod bound", async () => {
      const all = await listPods("race");
      return all.length === N && all.every((p) => p.spec?.nodeName) ? all : undefined;
    });
    // Let any late (wrong) write land before counting.
    await eventually("binds drained", () => (a.scheduler.state !== "saturated" && b.scheduler.state !== "saturated" ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));

    assert.equal((await podsSeq()) - before, 2 * N, "N creations and N bindings, no second binding of any pod");
    const sa = a.scheduler.stats;
    const sb = b.scheduler.stats;
    assert.equal(sa.bound + sb.bound, N, `bindings won: a ${sa.bound} + b ${sb.bound}`);
    assert.ok(sa.lostRaces + sb.lostRaces > 0, `some race was lost and skipped (a ${JSON.stringify(sa)}, b ${JSON.stringify(sb)})`);
    for (const p of bound) {
      const c = p.status?.conditions.find((x) => x.type === "PodScheduled");
      assert.equal(c?.status, "True", `${p.metadata?.name} has PodScheduled=True`);
    }
    // The cache kept the nodes within their pod counts (200 each) and spread the pods.
    const perNode = new Map<string, number>();
    for (const p of bound) perNode.set(p.spec!.nodeName, (perNode.get(p.spec!.nodeName) ?? 0) + 1);
    assert.equal(perNode.size, 4, `spread over every node: ${JSON.stringify([...perNode])}`);

    const scheduled = await eventually("a Scheduled event", async () => (await eventsAbout("race", "p0")).find((e) => e.reason === "Scheduled"));
    assert.match(scheduled.message, /^Successfully assigned race\/p0 to race-\d \(\d+\/4 nodes feasible; score \d+ = least-allocated \d+x1 \+ /);
    assert.equal(scheduled.source?.component, "default-scheduler");
    await stopScheduler(a);
    await stopScheduler(b);
  });

  test("a binding from a stale version loses: the pod is read again and skipped (or decided again)", async () => {
    const created = await pods.create(newPod("contested"));
    const now = new Date();
    const first = await bind(pods, created, "node-x", now);
    assert.equal(first.type, "bound");
    // The loser decided from the same version: refused by the revision, then skips the pod.
    assert.deepEqual(await bind(pods, created, "node-y", now), { type: "alreadyBound", node: "node-x" });
    assert.equal((await pods.get("race", "contested"))?.spec?.nodeName, "node-x");

    // Changed but still unbound: decide again from the fresh version.
    const other = await pods.create(newPod("relabelled"));
    const fresh = await pods.update({ ...other, metadata: { ...other.metadata!, labels: { x: "y" } } });
    const changed = await bind(pods, other, "node-y", now);
    assert.equal(changed.type, "changed");
    assert.equal(changed.type === "changed" && changed.pod.metadata?.resourceVersion, fresh!.metadata!.resourceVersion);

    // Deleted meanwhile: gone.
    await pods.delete("race", "relabelled");
    assert.deepEqual(await bind(pods, fresh!, "node-y", now), { type: "gone" });
  });

  test("a pod that fits nowhere is Unschedulable with counted reasons, and is bound at once when a node with room arrives", async () => {
    for (const n of ["small-1", "small-2"]) await nodes.create(makeNode(n, { cpu: "1", memory: "1Gi", labels: { pool: "small" } }));
    await nodes.create(makeNode("tainted", { cpu: "64", memory: "64Gi", labels: { pool: "small" }, taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] }));
    const { scheduler } = await startScheduler("scheduler-c", { maxBackoffMs: 60_000 });
    const sel = { nodeSelector: { pool: "small" } };
    await pods.create(newPod("big", { cpu: "2", memory: "512Mi", ...sel }));
    await pods.create(newPod("other", { schedulerName: "someone-else" }));

    const unschedulable = await eventually("PodScheduled=False", async () => {
      const c = (await pods.get("race", "big"))?.status?.conditions.find((x) => x.type === "PodScheduled");
      return c?.status === "False" ? c : undefined;
    });
    // Other nodes (from the first test) do not match the selector: they count as such.
    assert.equal(unschedulable.reason, "Unschedulable");
    assert.match(unschedulable.message, /^0\/\d+ nodes are available: 1 node\(s\) had untolerated taint \{dedicated: db\}, 2 Insufficient cpu, \d+ node\(s\) didn't match Pod's node affinity\/selector\.$/);
    const writtenAt = (await pods.get("race", "big"))!.metadata!.resourceVersion;
    const failed = await eventually("FailedScheduling event", async () => (await eventsAbout("race", "big")).find((e) => e.reason === "FailedScheduling"));
    assert.equal(failed.type, "Warning");
    assert.equal(failed.message, unschedulable.message);

    // Let it back off a few times (1 s, 2 s, 4 s, then 8 s until the next try) ...
    await eventually("four failed attempts", () => (scheduler.queue.attemptsOf("race.big") >= 4 ? true : undefined), 20_000);
    // ... without writing the same message again ...
    assert.equal((await pods.get("race", "big"))!.metadata!.resourceVersion, writtenAt);
    const repeats = await eventsAbout("race", "big");
    assert.deepEqual(repeats.map((e) => [e.reason, e.count]), [["FailedScheduling", 1]], "one event; repeats within a minute are not recorded");
    // A node with room: tried within 1 s of the change, not 8 s after the last failure.
    const added = Date.now();
    await nodes.create(makeNode("roomy", { cpu: "8", memory: "8Gi", labels: { pool: "small" } }));
    const bound = await eventually("bound to the new node", async () => {
      const p = await pods.get("race", "big");
      return p?.spec?.nodeName ? p : undefined;
    });
    const took = Date.now() - added;
    assert.ok(took < 6_000, `bound ${took} ms after the node arrived; the backoff alone would have waited up to ${scheduler.queue.backoffFor(4)} ms`);
    assert.equal(bound.spec?.nodeName, "roomy");
    assert.equal(bound.status?.conditions.find((x) => x.type === "PodScheduled")?.status, "True");
    assert.equal((await pods.get("race", "other"))?.spec?.nodeName, "", "a pod for another scheduler is left alone");
  });

  test("a cordoned node gets no new pods; a freed node takes a waiting pod", async () => {
    const { scheduler } = await startScheduler("scheduler-d");
    // Everything but one new node is full or elsewhere: cordon it and the pod waits.
    await nodes.create(makeNode("only", { cpu: "2", memory: "2Gi", labels: { pool: "only" }, unschedulable: true }));
    await pods.create(newPod("waits", { cpu: "1", nodeSelector: { pool: "only" } }));
    await eventually("Unschedulable (cordoned)", async () => {
      const c = (await pods.get("race", "waits"))?.status?.conditions.find((x) => x.type === "PodScheduled");
      return c?.message.includes("1 node(s) were unschedulable") ? c : undefined;
    });
    assert.equal((await pods.get("race", "waits"))?.spec?.nodeName, "");
    // A pod already holding the room, then the node is uncordoned: still no room.
    await pods.create(newPod("holder", { node: "only", cpu: "1500m" }));
    const node = (await nodes.get("", "only"))!;
    await nodes.update({ ...node, spec: { ...node.spec!, unschedulable: false } });
    await eventually("Insufficient cpu now", async () => {
      const c = (await pods.get("race", "waits"))?.status?.conditions.find((x) => x.type === "PodScheduled");
      return c?.message.includes("1 Insufficient cpu") ? c : undefined;
    });
    // The holder finishes: its room is free and the waiting pod is bound there.
    const holder = (await pods.get("race", "holder"))!;
    await pods.update({ ...holder, status: { ...holder.status!, phase: "Succeeded" } });
    const bound = await eventually("bound once room was freed", async () => {
      const p = await pods.get("race", "waits");
      return p?.spec?.nodeName ? p : undefined;
    });
    assert.equal(bound.spec?.nodeName, "only");
    assert.ok(scheduler.stats.unschedulable >= 2);
  });
});
