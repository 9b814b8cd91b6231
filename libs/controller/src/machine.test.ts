import { ConflictError, InvalidError, NotFoundError, TransientError } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import { SLICE_MS } from "@navarch/store";
import { MAX_KEYS_PER_PASS, workerMachine, type WorkerInput } from "./machine.js";
import { WorkQueue } from "./workqueue.js";

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A sync whose calls are settled by the test. */
function controlledSync() {
  const calls: { key: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  const sync = (key: string) => new Promise<void>((resolve, reject) => calls.push({ key, resolve, reject }));
  return { calls, sync };
}

function natsTimeout(): TransientError {
  const cause = new Error("TIMEOUT");
  cause.name = "TimeoutError";
  return new TransientError("nats: TIMEOUT", { cause });
}

function setupWorker(extra: Partial<WorkerInput> = {}) {
  const clock = new SimulatedClock();
  const queue = new WorkQueue({ clock });
  const { calls, sync } = controlledSync();
  const errors: unknown[] = [];
  const input: WorkerInput = {
    name: "test",
    queue,
    sync,
    now: () => clock.now(),
    globalBackoff: { baseMs: 1_000, maxMs: 8_000 },
    ...extra,
  };
  const actor = createActor(workerMachine, { input, clock });
  actor.subscribe({ error: (err) => errors.push(err) });
  actor.start();
  const state = () => String(actor.getSnapshot().value);
  return { clock, queue, calls, actor, state, errors, input };
}

describe("worker machine", () => {
  test("syncing -> idle -> reconciling -> idle", async () => {
    const { queue, calls, actor, state, errors } = setupWorker();
    queue.add("ns-a");
    await flush();
    assert.equal(state(), "syncing");
    assert.equal(calls.length, 0, "no key is processed before the informers have synced");

    actor.send({ type: "SYNCED" });
    await flush();
    assert.equal(state(), "reconciling");
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.key, "ns-a");
    assert.equal(actor.getSnapshot().context.key, "ns-a");

    calls[0]!.resolve();
    await flush();
    assert.equal(state(), "idle");
    assert.equal(queue.inFlight, 0);
    assert.equal(actor.getSnapshot().context.syncs, 1);

    queue.add("ns-b");
    await flush();
    assert.equal(state(), "reconciling");
    assert.equal(calls[1]!.key, "ns-b");
    calls[1]!.resolve();
    await flush();
    assert.equal(state(), "idle");
    assert.deepEqual(errors, []);
  });

  test("a transient error requeues the key with per-key backoff", async () => {
    const { queue, calls, actor, state, clock } = setupWorker();
    actor.send({ type: "SYNCED" });
    queue.add("k");
    await flush();
    calls[0]!.reject(new TransientError("disk full"));
    await flush();
    assert.equal(state(), "idle");
    assert.equal(queue.numRequeues("k"), 1);
    assert.equal(queue.delayed, 1);
    clock.increment(4);
    await flush();
    assert.equal(calls.length, 1);
    clock.increment(1);
    await flush();
    assert.equal(calls.length, 2, "retried after 5 ms");
    calls[1]!.reject(new Error("unknown failure"));
    await flush();
    assert.equal(queue.numRequeues("k"), 2);
    clock.increment(10);
    await flush();
    assert.equal(calls.length, 3, "retried after 10 ms");
    calls[2]!.resolve();
    await flush();
    assert.equal(queue.numRequeues("k"), 0, "success forgets the backoff");
    assert.equal(actor.getSnapshot().context.failures, 2);
  });

  test("a conflict requeues at once; not-found and invalid are not retried", async () => {
    const invalid: string[] = [];
    const { queue, calls, actor, state } = setupWorker({ onInvalid: (key) => invalid.push(key) });
    actor.send({ type: "SYNCED" });
    queue.add("c");
    await flush();
    calls[0]!.reject(new ConflictError("stale"));
    await flush();
    assert.equal(calls.length, 2, "requeued without waiting");
    assert.equal(calls[1]!.key, "c");
    assert.equal(queue.numRequeues("c"), 0);
    calls[1]!.reject(new NotFoundError("gone"));
    await flush();
    assert.equal(state(), "idle");
    queue.add("bad");
    await flush();
    calls[2]!.reject(InvalidError.at("spec.x", "must be positive"));
    await flush();
    assert.equal(state(), "idle");
    assert.deepEqual(invalid, ["bad"]);
    assert.equal(queue.len + queue.delayed + queue.inFlight, 0, "nothing requeued");
  });

  test("NATS unavailable: backoff until the deadline in context, then idle; the pause doubles", async () => {
    const { queue, calls, actor, state, clock } = setupWorker();
    actor.send({ type: "SYNCED" });
    queue.add("k");
    await flush();
    const t0 = clock.now();
    calls[0]!.reject(natsTimeout());
    await flush();
    assert.equal(state(), "backoff");
    assert.equal(actor.getSnapshot().context.backoffUntil, t0 + 1_000);
    assert.equal(queue.delayed, 1, "the key itself is requeued");
    clock.increment(999);
    await flush();
    assert.equal(state(), "backoff");
    assert.equal(calls.length, 1, "no key is taken while backing off");
    clock.increment(1);
    await flush();
    assert.equal(state(), "reconciling");
    assert.equal(calls.length, 2);
    calls[1]!.reject(natsTimeout());
    await flush();
    assert.equal(state(), "backoff");
    assert.equal(actor.getSnapshot().context.backoffUntil, clock.now() + 2_000, "second pause is twice as long");
    clock.increment(2_000);
    await flush();
    calls[2]!.resolve();
    await flush();
    assert.equal(state(), "idle");
    assert.equal(actor.getSnapshot().context.globalFailures, 0);
  });

  test("a restored backoff is re-armed from the absolute deadline, not restarted", async () => {
    const first = setupWorker();
    const { queue, calls, actor, clock, input } = first;
    actor.send({ type: "SYNCED" });
    queue.add("k");
    await flush();
    calls[0]!.reject(natsTimeout());
    await flush();
    assert.equal(first.state(), "backoff");
    const deadline = actor.getSnapshot().context.backoffUntil;
    const persisted = actor.getPersistedSnapshot();
    actor.stop();

    clock.increment(600);
    const restored = createActor(workerMachine, { input, clock, snapshot: persisted });
    restored.subscribe({ error: () => {} });
    restored.start();
    const state = () => String(restored.getSnapshot().value);
    assert.equal(state(), "backoff");
    clock.increment(1_000);
    await flush();
    assert.equal(state(), "backoff", "timers are not restored from a snapshot");

    restored.send({ type: "RESUME" });
    assert.equal(restored.getSnapshot().context.backoffUntil, deadline, "the deadline is kept");
    // The deadline has passed already (600 + 1000 > 1000): the re-armed timer fires at once.
    clock.increment(0);
    await flush();
    assert.notEqual(state(), "backoff");
    restored.stop();
  });

  test("a re-armed backoff waits only for the time left", async () => {
    const { queue, calls, actor, state, clock } = setupWorker();
    actor.send({ type: "SYNCED" });
    queue.add("k");
    await flush();
    calls[0]!.reject(natsTimeout());
    await flush();
    clock.increment(700);
    actor.send({ type: "RESUME" }); // re-enter: the timer is armed for deadline - now = 300 ms
    clock.increment(299);
    await flush();
    assert.equal(state(), "backoff");
    clock.increment(1);
    await flush();
    assert.notEqual(state(), "backoff");
  });

  test("STOP while reconciling lets the sync finish and marks its key done", async () => {
    const { queue, calls, actor, state } = setupWorker();
    actor.send({ type: "SYNCED" });
    queue.add("k");
    await flush();
    actor.send({ type: "STOP" });
    await flush();
    assert.equal(state(), "reconciling");
    assert.equal(queue.inFlight, 1);
    calls[0]!.resolve();
    await flush();
    assert.equal(state(), "stopped");
    assert.equal(actor.getSnapshot().status, "done");
    assert.equal(queue.inFlight, 0);
  });

  test("shutting the queue down stops an idle worker", async () => {
    const { queue, actor, state } = setupWorker();
    actor.send({ type: "SYNCED" });
    await flush();
    assert.equal(state(), "idle");
    queue.shutDown();
    await flush();
    assert.equal(state(), "stopped");
  });

  test("keys waiting at once are synced in one pass, each marked done after its sync", async () => {
    const { queue, calls, actor, state, errors } = setupWorker();
    for (const k of ["a", "b", "c"]) queue.add(k);
    actor.send({ type: "SYNCED" });
    await flush();
    assert.deepEqual(calls.map((c) => c.key), ["a"]);
    calls[0]!.resolve();
    await flush();
    assert.deepEqual(calls.map((c) => c.key), ["a", "b"]);
    assert.equal(state(), "reconciling");
    assert.equal(queue.inFlight, 1, "a is done, b in flight");
    assert.equal(actor.getSnapshot().context.inFlight.key, "b");
    queue.add("a");
    await flush();
    calls[1]!.resolve();
    await flush();
    calls[2]!.resolve();
    await flush();
    assert.deepEqual(calls.map((c) => c.key), ["a", "b", "c", "a"], "a key added again waits its turn");
    calls[3]!.resolve();
    await flush();
    assert.equal(state(), "idle");
    assert.equal(queue.inFlight + queue.len, 0);
    assert.equal(actor.getSnapshot().context.syncs, 4);
    assert.equal(actor.getSnapshot().context.inFlight.key, undefined);
    assert.deepEqual(errors, []);
  });

  test("a pass ends at the first error, which is handled for the key that failed", async () => {
    const { queue, calls, actor, state } = setupWorker();
    for (const k of ["a", "b", "c"]) queue.add(k);
    actor.send({ type: "SYNCED" });
    await flush();
    calls[0]!.resolve();
    await flush();
    calls[1]!.reject(new TransientError("disk full"));
    await flush();
    assert.equal(queue.numRequeues("a"), 0);
    assert.equal(queue.numRequeues("b"), 1, "b is requeued with its backoff");
    assert.equal(queue.delayed, 1);
    assert.equal(actor.getSnapshot().context.failures, 1);
    assert.equal(actor.getSnapshot().context.syncs, 1);
    // The worker went back through idle and took c in a new pass.
    assert.equal(state(), "reconciling");
    assert.equal(actor.getSnapshot().context.key, "c");
    calls[2]!.resolve();
    await flush();
    assert.equal(state(), "idle");
  });

  test("NATS unavailable in the middle of a pass: backoff, the failing key requeued", async () => {
    const { queue, calls, actor, state } = setupWorker();
    for (const k of ["a", "b"]) queue.add(k);
    actor.send({ type: "SYNCED" });
    await flush();
    calls[0]!.resolve();
    await flush();
    calls[1]!.reject(natsTimeout());
    await flush();
    assert.equal(state(), "backoff");
    assert.equal(queue.delayed, 1);
    assert.equal(queue.numRequeues("b"), 1);
    assert.equal(queue.inFlight, 0);
  });

  test("a pass takes at most MAX_KEYS_PER_PASS keys before going back through idle", async () => {
    const { queue, calls, actor, state } = setupWorker();
    const keys = Array.from({ length: MAX_KEYS_PER_PASS + 2 }, (_, i) => `k${i}`);
    for (const k of keys) queue.add(k);
    actor.send({ type: "SYNCED" });
    for (let i = 0; i < keys.length; i++) {
      await flush();
      assert.equal(calls[i]!.key, keys[i]);
      assert.equal(actor.getSnapshot().context.key, i < MAX_KEYS_PER_PASS ? "k0" : keys[MAX_KEYS_PER_PASS], `pass of key ${i}`);
      calls[i]!.resolve();
    }
    await flush();
    assert.equal(state(), "idle");
    assert.equal(actor.getSnapshot().context.syncs, keys.length);
  });

  test("a queue shut down during a pass ends it: STOP then stops the worker without new keys", async () => {
    const { queue, calls, actor, state } = setupWorker();
    for (const k of ["a", "b"]) queue.add(k);
    actor.send({ type: "SYNCED" });
    await flush();
    queue.shutDown();
    actor.send({ type: "STOP" });
    calls[0]!.resolve();
    await flush();
    assert.equal(state(), "stopped");
    assert.deepEqual(calls.map((c) => c.key), ["a"]);
    assert.equal(queue.inFlight, 0);
  });

  test("syncs that finish without I/O give the event loop a turn once a slice is used", async () => {
    const order: string[] = [];
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const sync = async (key: string) => {
      order.push(key);
      busy(SLICE_MS + 2);
    };
    const { queue, actor, state } = setupWorker({ sync });
    for (const k of ["a", "b", "c"]) queue.add(k);
    actor.send({ type: "SYNCED" });
    setImmediate(() => order.push("event loop"));
    for (let i = 0; i < 20 && (state() !== "idle" || queue.inFlight + queue.len > 0); i++) await flush();
    assert.equal(state(), "idle");
    assert.deepEqual(order.filter((x) => x !== "event loop"), ["a", "b", "c"]);
    const turn = order.indexOf("event loop");
    assert.ok(turn > 0 && turn < order.length - 1, `the event loop ran between two syncs: ${order.join(", ")}`);
  });
});
