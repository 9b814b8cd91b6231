// The one event recorder against a real nats-server: bursts are all stored, repeats fold into one
// Event's count (also across two recorders, by compare-and-swap), the spam limit delays and folds
// instead of dropping, and a full table sheds repeats of stored Events before new Events.
import { KINDS, type Event } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { after, before, test } from "node:test";
import { FakeClock } from "../clock.js";
import type { Logger } from "../logger.js";
import { correlatedEventName, type InvolvedObject } from "./correlator.js";
import { ObjectEventRecorder } from "./recorder.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let buckets = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-events-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "events-test" });
});
after(async () => {
  await nc?.close().catch(() => {});
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A bucket of its own for each test, so what is counted is that test's. */
function eventStore(): Promise<ResourceStore<Event>> {
  return ResourceStore.open<Event>(nc, KINDS.Event, { bucket: `events-test-${++buckets}` });
}

async function storedEvents(store: ResourceStore<Event>): Promise<Event[]> {
  const out: Event[] = [];
  for await (const key of await store.kv.keys()) {
    const { namespace, name } = store.splitKey(key);
    const e = await store.get(namespace, name);
    if (e) out.push(e);
  }
  return out;
}

async function storedCount(store: ResourceStore<Event>): Promise<number> {
  let n = 0;
  for await (const _ of await store.kv.keys()) n++;
  return n;
}

function pod(i: number): InvolvedObject {
  return { kind: "Pod", apiVersion: "v1", namespace: "default", name: `pod-${i}`, uid: `uid-${i}` };
}

function capturingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  const logger = { warn: (_o: unknown, msg?: string) => warnings.push(String(msg)), info: noop, error: noop, debug: noop } as unknown as Logger;
  return { logger, warnings };
}

test("20,000 distinct events recorded in one burst are all stored", async () => {
  const store = await eventStore();
  const { logger, warnings } = capturingLogger();
  const recorder = new ObjectEventRecorder({ store, component: "default-scheduler", logger });
  // One synchronous burst, as a scheduler binding pods records them: nothing is written in between.
  for (let i = 0; i < 20_000; i++) recorder.record(pod(i), "Normal", "Scheduled", `Successfully assigned default/pod-${i} to node-${i % 50}`);
  await recorder.idle();
  assert.deepEqual({ written: recorder.written, dropped: recorder.dropped, shed: recorder.shed, failed: recorder.failed }, { written: 20_000, dropped: 0, shed: 0, failed: 0 });
  assert.deepEqual(warnings, []);
  assert.equal(await storedCount(store), 20_000);
  const one = await store.get("default", correlatedEventName("pod-123", "uid-123", "Scheduled", "Successfully assigned default/pod-123 to node-23"));
  assert.equal(one?.count, 1);
  assert.equal(one?.involvedObject?.name, "pod-123");
  assert.equal(one?.source?.component, "default-scheduler");
});

test("1,000 identical events become one Event with count 1000, in a burst or spread over turns", async () => {
  const store = await eventStore();
  const recorder = new ObjectEventRecorder({ store, component: "kubelet" });
  for (let i = 0; i < 1_000; i++) recorder.record(pod(1), "Warning", "BackOff", "Back-off restarting failed container app");
  // The same again for another pod, a hundred per turn of the event loop: repeats arrive while
  // the Event's earlier write is in flight and fold into the next one.
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 100; i++) recorder.record(pod(2), "Warning", "BackOff", "Back-off restarting failed container app");
    await turn();
  }
  await recorder.idle();
  const events = await storedEvents(store);
  assert.equal(events.length, 2);
  for (const e of events) {
    assert.equal(e.count, 1_000, `${e.involvedObject?.name}`);
    assert.equal(e.message, "Back-off restarting failed container app");
  }
  assert.equal(recorder.written, 2_000);
  assert.ok(recorder.writes <= 2 + 10 * 2, `folded into few writes (${recorder.writes})`);
});

test("two recorders counting the same Event add up by compare-and-swap", async () => {
  const store = await eventStore();
  const a = new ObjectEventRecorder({ store, component: "node-controller" });
  const b = new ObjectEventRecorder({ store, component: "node-controller" });
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 25; i++) {
      a.record(pod(1), "Warning", "NodeNotReady", "Node is not ready");
      b.record(pod(1), "Warning", "NodeNotReady", "Node is not ready");
    }
    await turn();
  }
  await Promise.all([a.idle(), b.idle()]);
  assert.deepEqual([a.written, a.failed, a.dropped, a.shed, b.written, b.failed, b.dropped, b.shed], [500, 0, 0, 0, 500, 0, 0, 0]);
  const events = await storedEvents(store);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.count, 1_000);
});

test("over the spam limit a write waits for its token and folds what comes meanwhile; nothing is lost", async () => {
  const store = await eventStore();
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
  const recorder = new ObjectEventRecorder({ store, component: "kubelet", clock, spamLimit: { burst: 3, refillMs: 10_000 } });
  // Five different Events about one pod: three writes at once, two wait 10 s and 20 s.
  const reasons = ["Pulled", "Created", "Started", "Unhealthy", "Killing"];
  for (const r of reasons) recorder.record(pod(1), "Normal", r, `${r} it`);
  for (let i = 0; i < 50 && (await storedCount(store)) < 3; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await storedCount(store), 3);
  assert.equal(recorder.waiting, 2);
  // Repeats of a waiting Event take no token and no room.
  for (let i = 0; i < 9; i++) recorder.record(pod(1), "Normal", "Killing", "Killing it");
  assert.equal(recorder.waiting, 2);
  clock.advance(10_000);
  clock.advance(10_000);
  await recorder.idle();
  const byReason = new Map((await storedEvents(store)).map((e) => [e.reason, e.count]));
  assert.deepEqual(Object.fromEntries(byReason), { Pulled: 1, Created: 1, Started: 1, Unhealthy: 1, Killing: 10 });
  assert.equal(recorder.dropped + recorder.shed + recorder.failed, 0);
});

test("a full table sheds repeats of stored Events first, then refuses new ones, counting both and warning once", async () => {
  const store = await eventStore();
  const { logger, warnings } = capturingLogger();
  const recorder = new ObjectEventRecorder({ store, component: "kubelet", logger, maxQueue: 3 });
  recorder.record(pod(0), "Warning", "BackOff", "again");
  await recorder.idle();
  // One turn of the event loop (nothing is written during it), three waiting at most:
  recorder.record(pod(0), "Warning", "BackOff", "again"); // a repeat of a stored Event
  recorder.record(pod(1), "Normal", "Scheduled", "new 1");
  recorder.record(pod(2), "Normal", "Scheduled", "new 2");
  recorder.record(pod(3), "Normal", "Scheduled", "new 3"); // full: the repeat makes room
  recorder.record(pod(4), "Normal", "Scheduled", "new 4"); // full of new Events: refused
  recorder.record(pod(0), "Warning", "BackOff", "again"); // full: a repeat is shed
  await recorder.idle();
  const names = (await storedEvents(store)).map((e) => `${e.involvedObject?.name} ${e.count}`).sort();
  assert.deepEqual(names, ["pod-0 1", "pod-1 1", "pod-2 1", "pod-3 1"]);
  assert.equal(recorder.shed, 2);
  assert.equal(recorder.dropped, 1);
  assert.equal(warnings.length, 1, "one warning line per 10 s");
  assert.match(warnings[0]!, /shedding/);
});

test("an Event last seen more than 10 minutes ago is not a repeat: it starts afresh and is not shed first", async () => {
  const store = await eventStore();
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
  const recorder = new ObjectEventRecorder({ store, component: "kubelet", clock, maxQueue: 2 });
  recorder.record(pod(0), "Warning", "BackOff", "again");
  await recorder.idle();
  clock.advance(11 * 60 * 1000);
  recorder.record(pod(0), "Warning", "BackOff", "again"); // seen 11 minutes ago: new to a user
  recorder.record(pod(1), "Normal", "Scheduled", "new 1");
  recorder.record(pod(2), "Normal", "Scheduled", "new 2"); // full of new Events: refused
  await recorder.idle();
  const stored = new Map((await storedEvents(store)).map((e) => [e.involvedObject!.name, e]));
  assert.deepEqual([...stored.keys()].sort(), ["pod-0", "pod-1"]);
  assert.equal(stored.get("pod-0")!.count, 1, "counted afresh");
  assert.equal(stored.get("pod-0")!.firstTimestamp, "2026-01-01T00:11:00Z");
  assert.deepEqual({ shed: recorder.shed, dropped: recorder.dropped }, { shed: 0, dropped: 1 });
});
