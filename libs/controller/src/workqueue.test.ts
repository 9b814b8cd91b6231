import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "./clock.js";
import { WorkQueue } from "./workqueue.js";

function queue(opts: ConstructorParameters<typeof WorkQueue>[0] = {}) {
  const clock = new FakeClock(1_000_000);
  return { clock, q: new WorkQueue({ clock, ...opts }) };
}

/** Lets promise callbacks run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

describe("WorkQueue", () => {
  test("a waiting key is queued once, in first-added order", async () => {
    const { q } = queue();
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(q.len, 2);
    assert.equal(await q.next(), "a");
    assert.equal(await q.next(), "b");
    assert.equal(q.len, 0);
  });

  test("a key being processed is not handed out again; added meanwhile, it comes back once after done", async () => {
    const { q } = queue();
    q.add("a");
    assert.equal(await q.next(), "a");
    q.add("a");
    q.add("a");
    assert.equal(q.len, 0, "not queued while in flight");
    let second: string | undefined;
    void q.next().then((k) => (second = k));
    await flush();
    assert.equal(second, undefined, "a second worker does not get the key in flight");
    q.done("a");
    await flush();
    assert.equal(second, "a", "re-queued by done");
    q.done("a");
    assert.equal(q.len, 0, "only once");
    assert.equal(q.inFlight, 0);
  });

  test("next() waits for a key and a waiting taker gets the next add", async () => {
    const { q } = queue();
    const p = q.next();
    q.add("x");
    assert.equal(await p, "x");
    assert.equal(q.inFlight, 1);
  });

  test("tryNext hands out a ready key at once, never one in flight, and nothing once shut down", () => {
    const { q } = queue();
    assert.equal(q.tryNext(), undefined, "empty");
    q.add("a");
    q.add("b");
    assert.equal(q.tryNext(), "a");
    q.add("a");
    assert.equal(q.tryNext(), "b", "a is in flight: not handed out again");
    assert.equal(q.tryNext(), undefined);
    assert.equal(q.inFlight, 2);
    q.done("a");
    assert.equal(q.tryNext(), "a", "re-queued by done");
    q.add("c");
    q.shutDown();
    assert.equal(q.tryNext(), undefined);
  });

  test("addAfter delays the key on the clock and keeps the earlier of two times", async () => {
    const { q, clock } = queue();
    q.addAfter("a", 100);
    q.addAfter("a", 50);
    q.addAfter("a", 500);
    q.addAfter("b", 70);
    assert.equal(q.len, 0);
    assert.equal(q.delayed, 2);
    clock.advance(49);
    assert.equal(q.len, 0);
    clock.advance(1);
    assert.equal(q.len, 1);
    assert.equal(await q.next(), "a");
    clock.advance(20);
    assert.equal(await q.next(), "b");
    clock.advance(1_000);
    assert.equal(q.len, 0, "the later times of a were dropped");
    assert.equal(q.delayed, 0);
  });

  test("per-key backoff doubles from the base and stops at the cap; forget resets it", () => {
    const { q } = queue({ baseDelayMs: 5, maxDelayMs: 1_000, qps: 1e9, burst: 1e9 });
    const delays = Array.from({ length: 10 }, () => q.addRateLimited("a"));
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    assert.equal(q.numRequeues("a"), 10);
    assert.equal(q.addRateLimited("b"), 5, "other keys have their own backoff");
    q.forget("a");
    assert.equal(q.numRequeues("a"), 0);
    assert.equal(q.addRateLimited("a"), 5);
  });

  test("default backoff: 5 ms base, 60 s cap", () => {
    const { q } = queue({ qps: 1e9, burst: 1e9 });
    let last = 0;
    for (let i = 0; i < 20; i++) last = q.addRateLimited("k");
    assert.equal(last, 60_000);
  });

  test("a rate-limited key becomes ready only after its delay", () => {
    const { q, clock } = queue();
    q.addRateLimited("a");
    q.addRateLimited("a");
    assert.equal(q.len, 0);
    clock.advance(4);
    assert.equal(q.len, 0);
    clock.advance(1);
    assert.equal(q.len, 1, "the earlier (5 ms) time wins");
  });

  test("the global token bucket spaces out rate-limited adds beyond the burst", () => {
    const { q, clock } = queue({ baseDelayMs: 1, qps: 10, burst: 3 });
    const delays = ["a", "b", "c", "d", "e", "f"].map((k) => q.addRateLimited(k));
    assert.deepEqual(delays, [1, 1, 1, 100, 200, 300]);
    clock.advance(1_000);
    // 1 s refills 10 tokens, but the bucket holds at most 3 (minus the 3 borrowed).
    assert.deepEqual(["g", "h", "i"].map((k) => q.addRateLimited(k)), [1, 1, 1]);
    assert.equal(q.addRateLimited("j"), 100);
  });

  test("default global limit: 300 at once, then 50/s", () => {
    const { q } = queue({ baseDelayMs: 0 });
    for (let i = 0; i < 300; i++) assert.equal(q.addRateLimited(`k${i}`), 0);
    assert.equal(q.addRateLimited("k300"), 20);
    assert.equal(q.addRateLimited("k301"), 40);
  });

  test("a conflict requeue skips the per-key backoff but not the global bucket", () => {
    const { q } = queue({ qps: 10, burst: 1 });
    assert.equal(q.addRateLimited("a", { backoff: false }), 0);
    assert.equal(q.numRequeues("a"), 0);
    assert.equal(q.addRateLimited("a", { backoff: false }), 100);
  });

  test("shutDown releases waiting takers, refuses new keys, and drained waits for keys in flight", async () => {
    const { q, clock } = queue();
    q.add("a");
    const a = await q.next();
    const waiting = q.next();
    q.addAfter("later", 10);
    q.add("b");
    const waiting2 = q.next(); // "b" went to the first taker
    assert.equal(await waiting, "b");
    q.shutDown();
    assert.equal(await waiting2, undefined);
    assert.equal(await q.next(), undefined);
    q.add("c");
    clock.advance(100);
    assert.equal(q.len, 0);
    assert.equal(clock.pending, 0, "the delay timer was cancelled");
    let drained = false;
    void q.drained().then(() => (drained = true));
    q.done(a!);
    await flush();
    assert.equal(drained, false, "b is still in flight");
    q.done("b");
    await flush();
    assert.equal(drained, true);
  });

  test("many delayed keys fire in time order", async () => {
    const { q, clock } = queue();
    const times = [50, 10, 40, 20, 30, 60, 5];
    times.forEach((t, i) => q.addAfter(`k${i}`, t));
    const order: string[] = [];
    for (let step = 0; step < 60; step++) {
      clock.advance(1);
      while (q.len > 0) order.push((await q.next())!);
    }
    assert.deepEqual(order, ["k6", "k1", "k3", "k4", "k2", "k0", "k5"]);
  });
});
