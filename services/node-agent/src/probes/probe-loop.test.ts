// One probe loop on simulated time with scripted attempt results: when attempts happen (initial
// delay, period, a slow attempt), and when verdicts change (thresholds, hold after a liveness
// failure, startup passing once).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assign, createActor, setup, SimulatedClock } from "xstate";
import { probeLoop, type ProbeLoopEmitted } from "./probe-loop.js";
import type { ProbeOutcome } from "./prober.js";
import type { ProbeKind, ProbeSpec } from "./spec.js";

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

const T0 = 1_000_000;

function spec(kind: ProbeKind, over: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    kind,
    action: { type: "exec", command: ["true"] },
    initialDelayMs: 0,
    periodMs: 10_000,
    timeoutMs: 1_000,
    successThreshold: 1,
    failureThreshold: 3,
    killGraceSeconds: 30,
    ...over,
  };
}

/**
 * Runs a loop under a parent that records what it emits. `results` answers the attempts in order
 * (true/false; the last one repeats); `pending` holds attempts open until resolved by the test.
 */
function harness(s: ProbeSpec, results: boolean[], opts: { startedAt?: number; hold?: boolean } = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const attempts: number[] = [];
  const pending: Array<(o: ProbeOutcome) => void> = [];
  const run = async (): Promise<ProbeOutcome> => {
    attempts.push(clock.now() - T0);
    const ok = results[Math.min(attempts.length - 1, results.length - 1)]!;
    const outcome = { ok, output: ok ? "" : `failure ${attempts.length}` };
    if (opts.hold) return new Promise((resolve) => pending.push(() => resolve(outcome)));
    return outcome;
  };
  const parent = setup({
    types: { context: {} as { emitted: ProbeLoopEmitted[] }, events: {} as ProbeLoopEmitted },
    actors: { loop: probeLoop },
  }).createMachine({
    context: { emitted: [] },
    invoke: { id: "loop", src: "loop", input: { spec: s, startedAt: opts.startedAt ?? T0, deps: { now: () => clock.now(), run } } },
    on: { "*": { actions: assign(({ context, event }) => ({ emitted: [...context.emitted, event] })) } },
  });
  const actor = createActor(parent, { clock });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  const verdicts = () => actor.getSnapshot().context.emitted.filter((e) => e.type === "PROBE.VERDICT").map((e) => (e as { healthy: boolean }).healthy);
  const loopState = () => JSON.stringify(actor.getSnapshot().children.loop?.getSnapshot().value);
  /** Advances simulated time in steps, letting each attempt's promise settle. */
  const advance = async (ms: number, step = 1_000) => {
    await flush();
    // increment(0) fires what is due now (a zero delay).
    clock.increment(0);
    await flush();
    for (let t = 0; t < ms; ) {
      const d = Math.min(step, ms - t);
      clock.increment(d);
      t += d;
      await flush();
    }
  };
  const loopStatus = () => actor.getSnapshot().children.loop?.getSnapshot().status;
  return { clock, actor, attempts, pending, verdicts, loopState, loopStatus, advance, errors, emitted: () => actor.getSnapshot().context.emitted };
}

describe("probe loop", () => {
  test("first attempt at start + initialDelaySeconds, then one every periodSeconds", async () => {
    const h = harness(spec("readiness", { initialDelayMs: 5_000, periodMs: 2_000 }), [true]);
    await h.advance(4_000);
    assert.deepEqual(h.attempts, [], "nothing before the initial delay");
    await h.advance(5_000);
    assert.deepEqual(h.attempts, [5_000, 7_000, 9_000]);
    assert.deepEqual(h.errors, []);
  });

  test("an adopted container whose initial delay has passed is probed at once", async () => {
    const h = harness(spec("readiness", { initialDelayMs: 30_000 }), [true], { startedAt: T0 - 60_000 });
    await h.advance(0);
    assert.deepEqual(h.attempts, [0]);
    assert.deepEqual(h.verdicts(), [true]);
  });

  test("readiness: not ready until successThreshold successes in a row; not ready again after failureThreshold failures", async () => {
    // ok, fail, ok, ok (ready), fail, fail, ok (streak broken), fail, fail, fail (not ready), ok, ok (ready)
    const results = [true, false, true, true, false, false, true, false, false, false, true, true];
    const h = harness(spec("readiness", { periodMs: 1_000, successThreshold: 2, failureThreshold: 3 }), results);
    const seen: boolean[][] = [];
    for (let i = 0; i < results.length; i++) {
      await h.advance(i === 0 ? 0 : 1_000);
      seen.push(h.verdicts());
    }
    assert.equal(h.attempts.length, results.length);
    // The verdict changes at attempts 4 (ready), 10 (not ready) and 12 (ready) only.
    assert.deepEqual(seen.map((v) => v.length), [0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 3]);
    assert.deepEqual(h.verdicts(), [true, false, true]);
    // Every attempt is reported, failed or not.
    assert.equal(h.emitted().filter((e) => e.type === "PROBE.RESULT").length, results.length);
  });

  test("liveness: healthy until failureThreshold failures in a row, then on hold (no more attempts)", async () => {
    const h = harness(spec("liveness", { periodMs: 1_000, failureThreshold: 3 }), [true, false, false, true, false, false, false, true]);
    await h.advance(5_000);
    assert.deepEqual(h.verdicts(), [], "two failures then a success: still healthy");
    await h.advance(2_000);
    assert.deepEqual(h.verdicts(), [false]);
    assert.equal(h.loopState(), '"onHold"');
    const n = h.attempts.length;
    await h.advance(60_000, 5_000);
    assert.equal(h.attempts.length, n, "a failed liveness probe stops probing until the container is replaced");
    const last = h.emitted().at(-1)!;
    assert.deepEqual(last, { type: "PROBE.VERDICT", kind: "liveness", healthy: false, output: "failure 7" });
  });

  test("startup: the first success passes it and the loop ends; failures before that do not count as a verdict", async () => {
    const h = harness(spec("startup", { periodMs: 1_000, failureThreshold: 5 }), [false, false, true]);
    await h.advance(3_000);
    assert.deepEqual(h.verdicts(), [true]);
    assert.equal(h.loopStatus(), "done", "the loop reached its final state");
    assert.equal(h.attempts.length, 3);
  });

  test("startup: failureThreshold failures fail it", async () => {
    const h = harness(spec("startup", { periodMs: 1_000, failureThreshold: 2 }), [false]);
    await h.advance(2_000);
    assert.deepEqual(h.verdicts(), [false]);
    assert.equal(h.loopState(), '"onHold"');
  });

  test("an attempt that outlasts the period delays the next one instead of overlapping it", async () => {
    const h = harness(spec("readiness", { periodMs: 1_000 }), [true], { hold: true });
    await h.advance(5_000);
    assert.deepEqual(h.attempts, [0], "one attempt at a time");
    h.pending.shift()!({ ok: true, output: "" });
    await h.advance(0);
    assert.deepEqual(h.attempts, [0, 5_000], "the next one starts as soon as the late one ended");
  });

  test("stopping the loop mid-attempt leaves no timer behind", async () => {
    const h = harness(spec("readiness", { periodMs: 1_000 }), [true], { hold: true });
    await h.advance(0);
    h.actor.stop();
    h.pending.shift()!({ ok: true, output: "" });
    await h.advance(10_000);
    assert.deepEqual(h.attempts, [0]);
  });
});
