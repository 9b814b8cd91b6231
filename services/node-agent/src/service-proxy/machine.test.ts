import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import { proxyMachine } from "./machine.js";

/** A proxy loop on a simulated clock whose syncs finish when the test says so. */
function harness() {
  const clock = new SimulatedClock();
  const syncs: { force: boolean; finish: (err?: Error) => void }[] = [];
  const errors: number[] = [];
  const actor = createActor(proxyMachine, {
    clock,
    input: {
      coalesceMs: 50,
      resyncMs: 30_000,
      backoff: { baseMs: 500, maxMs: 4_000 },
      sync: (force) =>
        new Promise<void>((resolve, reject) => {
          syncs.push({ force, finish: (err) => (err ? reject(err) : resolve()) });
        }),
      onError: (_err, failures) => errors.push(failures),
    },
  });
  actor.start();
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    clock,
    syncs,
    errors,
    actor,
    state: () => actor.getSnapshot().value as string,
    async finish(err?: Error) {
      syncs.at(-1)!.finish(err);
      await settle();
    },
    changed: () => actor.send({ type: "CHANGED" }),
  };
}

describe("service proxy loop", () => {
  test("the first sync runs at once and is forced; later ones apply only changes", async () => {
    const h = harness();
    assert.equal(h.syncs.length, 1);
    assert.equal(h.syncs[0]!.force, true);
    await h.finish();
    assert.equal(h.state(), "idle");
    h.changed();
    h.clock.increment(50);
    assert.equal(h.syncs.length, 2);
    assert.equal(h.syncs[1]!.force, false);
  });

  test("a burst of changes is one sync, after the coalescing window", async () => {
    const h = harness();
    await h.finish();
    for (let i = 0; i < 20; i++) {
      h.changed();
      h.clock.increment(2);
    }
    assert.equal(h.syncs.length, 1, "nothing before the window ends");
    h.clock.increment(10);
    assert.equal(h.syncs.length, 2, "the window started with the first change");
    h.clock.increment(1_000);
    assert.equal(h.syncs.length, 2);
  });

  test("a change during a sync gets a sync of its own after it", async () => {
    const h = harness();
    h.changed();
    h.changed();
    await h.finish();
    assert.equal(h.state(), "waiting");
    h.clock.increment(50);
    assert.equal(h.syncs.length, 2);
    await h.finish();
    assert.equal(h.state(), "idle");
  });

  test("a failed sync is retried, forced, with doubling backoff; success resets it", async () => {
    const h = harness();
    await h.finish(new Error("nft: no such helper"));
    assert.equal(h.state(), "backoff");
    h.clock.increment(499);
    assert.equal(h.syncs.length, 1);
    h.clock.increment(1);
    assert.equal(h.syncs.length, 2);
    await h.finish(new Error("again"));
    h.clock.increment(999);
    assert.equal(h.syncs.length, 2);
    h.clock.increment(1);
    assert.equal(h.syncs.length, 3);
    assert.equal(h.syncs[2]!.force, true);
    await h.finish(new Error("and again"));
    h.clock.increment(2_000);
    assert.equal(h.syncs.length, 4);
    assert.deepEqual(h.errors, [1, 2, 3]);
    await h.finish();
    assert.equal(h.state(), "idle");
    h.changed();
    h.clock.increment(50);
    await h.finish(new Error("after a success"));
    h.clock.increment(500);
    assert.equal(h.syncs.length, 6, "the backoff starts over");
  });

  test("an idle proxy re-applies its table (forced) every resync period", async () => {
    const h = harness();
    await h.finish();
    h.clock.increment(29_999);
    assert.equal(h.syncs.length, 1);
    h.clock.increment(1);
    assert.equal(h.syncs.length, 2);
    assert.equal(h.syncs[1]!.force, true);
    await h.finish();
    h.clock.increment(30_000);
    assert.equal(h.syncs.length, 3);
  });
});
