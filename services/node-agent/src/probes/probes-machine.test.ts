// The probes of one container on simulated time, with scripted attempt results per probe kind:
// the startup probe holds the others back, a failed liveness or startup probe asks for a kill,
// readiness verdicts reach the container, failed attempts become Unhealthy events.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { assign, createActor, setup, SimulatedClock } from "xstate";
import type { ProbeOutcome } from "./prober.js";
import { probesMachine, type ProbesEmitted } from "./probes-machine.js";
import type { ContainerProbes, ProbeKind, ProbeSpec } from "./spec.js";

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

const T0 = 5_000_000;

function spec(kind: ProbeKind, over: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    kind,
    action: { type: "exec", command: [kind] },
    initialDelayMs: 0,
    periodMs: 1_000,
    timeoutMs: 1_000,
    successThreshold: 1,
    failureThreshold: 3,
    killGraceSeconds: 7,
    ...over,
  };
}

/** `healthy[kind]()` answers that probe's attempts; the test flips them as it goes. */
function harness(probes: ContainerProbes, seed?: { started: boolean; ready: boolean }) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const healthy: Record<ProbeKind, boolean> = { startup: false, liveness: true, readiness: false };
  const attempts: string[] = [];
  const events: string[] = [];
  const run = async (s: ProbeSpec): Promise<ProbeOutcome> => {
    attempts.push(`${s.kind}@${clock.now() - T0}`);
    return healthy[s.kind] ? { ok: true, output: "" } : { ok: false, output: `${s.kind} says no` };
  };
  const parent = setup({
    types: { context: {} as { got: ProbesEmitted[] }, events: {} as ProbesEmitted },
    actors: { probes: probesMachine },
  }).createMachine({
    context: { got: [] },
    invoke: {
      id: "probes",
      src: "probes",
      input: { probes, startedAt: T0, seed, deps: { now: () => clock.now(), run, event: (type, reason, message) => events.push(`${type} ${reason} ${message}`) } },
    },
    on: { "*": { actions: assign(({ context, event }) => ({ got: [...context.got, event] })) } },
  });
  const actor = createActor(parent, { clock });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  const advance = async (ms: number) => {
    await flush();
    clock.increment(0);
    await flush();
    for (let t = 0; t < ms; t += 1_000) {
      clock.increment(Math.min(1_000, ms - t));
      await flush();
      // What the last step started with a zero delay (a loop released by the startup probe).
      clock.increment(0);
      await flush();
    }
  };
  const got = () => actor.getSnapshot().context.got.filter((e) => e.type.startsWith("PROBE_"));
  return { clock, actor, healthy, attempts, events, errors, advance, got };
}

describe("probes of a container", () => {
  test("a startup probe holds liveness and readiness back until it passes", async () => {
    const h = harness({ startup: spec("startup", { failureThreshold: 30 }), liveness: spec("liveness"), readiness: spec("readiness") });
    await h.advance(3_000);
    assert.deepEqual(h.attempts, ["startup@0", "startup@1000", "startup@2000", "startup@3000"]);
    assert.deepEqual(h.got(), []);
    h.healthy.startup = true;
    h.healthy.readiness = true;
    await h.advance(1_000);
    // Passed at 4000: liveness and readiness are probed at once (their initial delay is long past).
    assert.deepEqual(h.attempts.slice(4), ["startup@4000", "liveness@4000", "readiness@4000"]);
    assert.deepEqual(h.got(), [{ type: "PROBE_STARTED" }, { type: "PROBE_READY", ready: true }]);
    await h.advance(2_000);
    assert.ok(!h.attempts.slice(7).some((a) => a.startsWith("startup")), "a passed startup probe is not run again");
    assert.deepEqual(h.errors, []);
  });

  test("a failed startup probe asks for a kill with its grace, and nothing else is probed", async () => {
    const h = harness({ startup: spec("startup", { failureThreshold: 2, killGraceSeconds: 4 }), liveness: spec("liveness") });
    await h.advance(5_000);
    assert.deepEqual(h.attempts, ["startup@0", "startup@1000"]);
    assert.deepEqual(h.got(), [{ type: "PROBE_UNHEALTHY", probe: "startup", graceSeconds: 4 }]);
    assert.deepEqual(h.events, ["Warning Unhealthy Startup probe failed: startup says no", "Warning Unhealthy Startup probe failed: startup says no"]);
  });

  test("liveness failures below the threshold are events only; at the threshold, a kill", async () => {
    const h = harness({ liveness: spec("liveness", { failureThreshold: 3 }) });
    await h.advance(1_000);
    h.healthy.liveness = false;
    await h.advance(1_000);
    assert.deepEqual(h.got(), []);
    assert.equal(h.events.length, 1);
    await h.advance(2_000);
    assert.deepEqual(h.got(), [{ type: "PROBE_UNHEALTHY", probe: "liveness", graceSeconds: 7 }]);
    assert.deepEqual(h.events, Array(3).fill("Warning Unhealthy Liveness probe failed: liveness says no"));
    const n = h.attempts.length;
    await h.advance(10_000);
    assert.equal(h.attempts.length, n, "probing stops once the kill is asked for");
  });

  test("readiness goes back and forth without a kill", async () => {
    const h = harness({ readiness: spec("readiness", { failureThreshold: 2 }), liveness: spec("liveness") });
    await h.advance(2_000);
    assert.deepEqual(h.got(), [], "not ready before a success (no verdict change to report)");
    h.healthy.readiness = true;
    await h.advance(1_000);
    h.healthy.readiness = false;
    await h.advance(2_000);
    h.healthy.readiness = true;
    await h.advance(1_000);
    assert.deepEqual(h.got(), [
      { type: "PROBE_READY", ready: true },
      { type: "PROBE_READY", ready: false },
      { type: "PROBE_READY", ready: true },
    ]);
    assert.ok(h.events.every((e) => e.startsWith("Warning Unhealthy Readiness probe failed")));
  });

  test("without a startup probe the container counts as started at once: liveness and readiness begin", async () => {
    const h = harness({ readiness: spec("readiness", { initialDelayMs: 2_000 }) });
    await h.advance(3_000);
    assert.deepEqual(h.attempts, ["readiness@2000", "readiness@3000"]);
  });

  test("an adopted container goes on from its reported state: started skips the startup probe, ready stays until failureThreshold failures", async () => {
    const h = harness(
      { startup: spec("startup"), liveness: spec("liveness"), readiness: spec("readiness", { failureThreshold: 2 }) },
      { started: true, ready: true },
    );
    h.healthy.readiness = true;
    await h.advance(1_000);
    assert.ok(!h.attempts.some((a) => a.startsWith("startup")), "started before the agent restarted: no startup probe");
    assert.deepEqual(h.got(), [], "already ready: nothing to report");
    h.healthy.readiness = false;
    await h.advance(1_000);
    assert.deepEqual(h.got(), [], "one failure is below the threshold");
    await h.advance(1_000);
    assert.deepEqual(h.got(), [{ type: "PROBE_READY", ready: false }]);
  });

  test("an adopted container that had not started runs its startup probe", async () => {
    const h = harness({ startup: spec("startup"), readiness: spec("readiness") }, { started: false, ready: false });
    await h.advance(0);
    assert.deepEqual(h.attempts, ["startup@0"]);
  });

  test("stopping the probes (the container stopped) ends every loop", async () => {
    const h = harness({ liveness: spec("liveness"), readiness: spec("readiness") });
    await h.advance(1_000);
    h.actor.stop();
    const n = h.attempts.length;
    await h.advance(10_000);
    assert.equal(h.attempts.length, n);
  });
});
