// The container machine's lifecycle hooks on simulated time. Hooks and stops are answered by the
// test (each call waits until the test settles it), so what is checked is the order of things and
// the graces: preStop runs before the SIGTERM and counts against the grace, a hook that outlives
// the grace is left behind with a 2 s SIGTERM window, failures are Events, a force delete cuts the
// hook short while a repeated deletion does not, and postStart holds the container (and the pod's
// next container) until it returns, killing it when it fails.
import type { ContainerStatus as RuntimeContainerStatus } from "@navarch/runtime";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import type { ProbeSpec } from "../probes/spec.js";
import { containerMachine, containerView, type ContainerDeps, type ContainerInput } from "./container-machine.js";
import type { ContainerHooks, HookOutcome } from "./hooks.js";
import { DEFAULT_BACKOFF } from "./restart-policy.js";

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

const HOOKS: ContainerHooks = {
  preStop: { type: "exec", command: ["sh", "-c", "sleep 5"] },
  killGraceSeconds: 30,
};

function exited(id: string, exitCode: number, at: number): RuntimeContainerStatus {
  return {
    id,
    pod: { namespace: "default", name: "web", uid: "u1", node: "n1" },
    name: "app",
    role: "app",
    attempt: 0,
    image: "demo:1",
    imageID: "sha256:abc",
    state: "exited",
    exitCode,
    oomKilled: false,
    error: "",
    createdAt: new Date(at - 1_000),
    startedAt: new Date(at - 1_000),
    finishedAt: new Date(at),
  };
}

interface Pending<T> {
  what: string;
  at: number;
  settle: (v: T) => void;
}

function harness(over: Partial<ContainerInput> = {}) {
  const clock = new SimulatedClock();
  clock.set(5_000_000);
  let n = 0;
  const log: string[] = [];
  const events: string[] = [];
  const hooks: Pending<HookOutcome>[] = [];
  const stops: Pending<RuntimeContainerStatus | undefined>[] = [];
  const deps: ContainerDeps = {
    now: () => clock.now(),
    ensureImage: async () => "sha256:abc",
    createAndStart: async (attempt) => {
      log.push(`create ${attempt}`);
      return { id: `c${++n}` };
    },
    stop: (id, grace) => {
      log.push(`stop ${id} ${grace} at +${clock.now() - 5_000_000}`);
      return new Promise((resolve) => stops.push({ what: `${id} ${grace}`, at: clock.now(), settle: resolve }));
    },
    remove: () => undefined,
    event: (type, reason, message) => events.push(`${type} ${reason} ${message}`),
    runProbe: async (spec: ProbeSpec) => ({ ok: spec.kind !== "liveness", output: spec.kind === "liveness" ? "HTTP probe failed with statuscode: 500" : "" }),
    runHook: (action, target, timeoutMs) => {
      const what = `${action.type === "exec" ? action.command.join(" ") : action.type} on ${target.containerId} ${target.podIP}`;
      log.push(`hook ${what} timeout ${timeoutMs}`);
      return new Promise((resolve) => hooks.push({ what, at: clock.now(), settle: resolve }));
    },
    backoff: DEFAULT_BACKOFF,
    pullBackoff: { baseMs: 10_000, maxMs: 300_000 },
    podDescription: "web_default(u1)",
  };
  const actor = createActor(containerMachine, {
    clock,
    input: { name: "app", image: "demo:1", pullPolicy: "IfNotPresent", policy: "Always", deps, hooks: HOOKS, ...over },
  });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
  /** Lets `ms` of simulated time pass (0: timers already due fire). */
  const advance = async (ms: number) => {
    await flush();
    for (let t = 0; t < ms; t += 500) {
      clock.increment(Math.min(500, ms - t));
      await flush();
    }
    clock.increment(0);
    await flush();
  };
  const state = () => {
    const v = actor.getSnapshot().value;
    return typeof v === "string" ? v : JSON.stringify(v);
  };
  /** Settles the oldest unsettled stop: the container exited with `code`. */
  const finishStop = async (code = 143) => {
    const s = stops.shift();
    assert.ok(s, "a stop is pending");
    s.settle(exited(s.what.split(" ")[0]!, code, clock.now()));
    await flush();
  };
  return { clock, actor, log, events, hooks, stops, errors, advance, state, finishStop, view: () => containerView(actor.getSnapshot()) };
}

describe("preStop", () => {
  test("runs before the SIGTERM, which gets what is left of the grace", async () => {
    const h = harness();
    await h.advance(0);
    assert.equal(h.state(), "running");
    h.actor.send({ type: "TERMINATE", graceSeconds: 10 });
    await h.advance(0);
    assert.equal(h.state(), JSON.stringify({ stopping: { preStop: "timing" } }));
    assert.deepEqual(h.log.slice(1), ["hook sh -c sleep 5 on c1 10.0.0.2 timeout 11000"], "the hook runs in the container, bounded by the grace (and a second: our deadline comes first)");
    assert.equal(h.stops.length, 0, "no SIGTERM while the hook runs");
    assert.equal(h.view().state.kind, "running", "the container still runs (and serves) during its preStop");

    await h.advance(3_000);
    assert.equal(h.stops.length, 0);
    h.hooks[0]!.settle({ ok: true });
    await h.advance(0);
    assert.deepEqual(h.log.slice(2), ["stop c1 7 at +3000"], "10 s grace - 3 s of hook");
    await h.finishStop();
    assert.equal(h.state(), "terminated");
    assert.ok(!h.events.some((e) => e.includes("FailedPreStopHook")));
    assert.deepEqual(h.errors, []);
  });

  test("a hook that outlives the grace is left behind: SIGTERM at the deadline with the 2 s minimum window", async () => {
    const h = harness();
    await h.advance(0);
    h.actor.send({ type: "TERMINATE", graceSeconds: 4 });
    await h.advance(3_500);
    assert.equal(h.stops.length, 0, "still within the grace");
    await h.advance(500);
    assert.deepEqual(h.log.slice(2), ["stop c1 2 at +4000"]);
    // The hook ending later (the exec's stream breaks as the container dies) changes nothing.
    h.hooks[0]!.settle({ ok: false, error: "error: command 'sh -c sleep 5' timed out" });
    await h.finishStop(137);
    assert.equal(h.state(), "terminated");
    assert.equal(h.log.filter((l) => l.startsWith("stop")).length, 1);
    assert.ok(!h.events.some((e) => e.includes("FailedPreStopHook")), "a hook the grace ran out on did not fail");
  });

  test("a failed hook is a FailedPreStopHook Warning, and the SIGTERM follows at once", async () => {
    const h = harness();
    await h.advance(0);
    h.actor.send({ type: "TERMINATE", graceSeconds: 30 });
    await h.advance(1_000);
    h.hooks[0]!.settle({ ok: false, error: `error: command 'sh -c sleep 5' exited with 1: , message: "boom"` });
    await h.advance(0);
    assert.ok(
      h.events.includes(
        `Warning FailedPreStopHook Exec lifecycle hook ([sh -c sleep 5]) for Container "app" in Pod "web_default(u1)" failed - error: command 'sh -c sleep 5' exited with 1: , message: "boom"`,
      ),
      h.events.join("\n"),
    );
    assert.deepEqual(h.log.slice(2), ["stop c1 29 at +1000"]);
  });

  test("a force delete during the hook cuts it short; a repeated deletion does not", async () => {
    const h = harness();
    await h.advance(0);
    h.actor.send({ type: "TERMINATE", graceSeconds: 30 });
    await h.advance(1_000);
    h.actor.send({ type: "TERMINATE", graceSeconds: 30 });
    await h.advance(1_000);
    assert.equal(h.stops.length, 0, "the same grace again: the hook goes on");
    h.actor.send({ type: "TERMINATE", graceSeconds: 0 });
    await h.advance(0);
    assert.deepEqual(h.log.slice(2), ["stop c1 0 at +2000"], "grace 0: killed now");
    await h.finishStop(137);
    assert.equal(h.state(), "terminated");
  });

  test("a liveness failure runs preStop within the probe's grace, then the container restarts", async () => {
    const liveness: ProbeSpec = {
      kind: "liveness",
      action: { type: "http", scheme: "http", host: "", port: 8080, path: "/", headers: [] },
      initialDelayMs: 0,
      periodMs: 1_000,
      timeoutMs: 1_000,
      successThreshold: 1,
      failureThreshold: 1,
      killGraceSeconds: 6,
    };
    const h = harness({ probes: { liveness } });
    await h.advance(1_000);
    assert.equal(h.state(), JSON.stringify({ stopping: { preStop: "timing" } }));
    assert.match(h.log[1]!, /^hook sh -c sleep 5 on c1 10\.0\.0\.2 timeout 7000$/);
    await h.advance(2_000);
    h.hooks[0]!.settle({ ok: true });
    await h.advance(0);
    assert.match(h.log[2]!, /^stop c1 4 at /);
    await h.finishStop();
    assert.equal(h.log[3], "create 1", "restarted after the stop");
  });

  test("a changed image runs preStop before the old container goes", async () => {
    const h = harness();
    await h.advance(0);
    h.actor.send({ type: "IMAGE_CHANGED", image: "demo:2", pullPolicy: "IfNotPresent", graceSeconds: 5 });
    await h.advance(0);
    assert.match(h.log[1]!, /^hook sh -c sleep 5 on c1/);
    h.hooks[0]!.settle({ ok: true });
    await h.advance(0);
    await h.finishStop();
    assert.deepEqual(h.log.slice(2), ["stop c1 5 at +0", "create 1"]);
  });

  test("no hook for a stop without grace (force delete, lost sandbox), nor without a preStop", async () => {
    for (const [hooks, event] of [
      [HOOKS, { type: "TERMINATE", graceSeconds: 0 }],
      [HOOKS, { type: "SANDBOX_LOST", restart: false }],
      [{ killGraceSeconds: 30 }, { type: "TERMINATE", graceSeconds: 10 }],
    ] as const) {
      const h = harness({ hooks });
      await h.advance(0);
      h.actor.send(event);
      await h.advance(0);
      assert.deepEqual(h.hooks, [], JSON.stringify(event));
      assert.equal(h.stops.length, 1);
    }
  });
});

describe("postStart", () => {
  const POST: ContainerHooks = { postStart: { type: "http", scheme: "http", host: "", port: 8080, path: "/warm", headers: [] }, preStop: HOOKS.preStop, killGraceSeconds: 8 };

  test("holds the container as ContainerCreating (and the pod's next container) until it returns", async () => {
    const h = harness({ hooks: POST });
    await h.advance(0);
    assert.equal(h.state(), "postStarting");
    assert.equal(h.log[1], `hook http on c1 10.0.0.2 timeout ${2 ** 31 - 1}`, "no timeout of its own");
    const v = h.view();
    assert.deepEqual([v.state.kind, v.state.kind === "waiting" && v.state.reason, v.ready], ["waiting", "ContainerCreating", false]);
    assert.equal(h.actor.getSnapshot().context.firstAttemptDone, false, "the next container waits");
    await h.advance(5_000);
    h.hooks[0]!.settle({ ok: true });
    await h.advance(0);
    assert.equal(h.state(), "running");
    assert.equal(h.view().ready, true);
    assert.equal(h.actor.getSnapshot().context.firstAttemptDone, true);
  });

  test("a failure is a FailedPostStartHook Warning and kills the container (its preStop first); restartPolicy restarts it", async () => {
    const h = harness({ hooks: POST });
    await h.advance(0);
    h.hooks[0]!.settle({ ok: false, error: "error: HTTP probe failed with statuscode: 500" });
    await h.advance(0);
    assert.ok(
      h.events.includes(`Warning FailedPostStartHook HTTP lifecycle hook (/warm) for Container "app" in Pod "web_default(u1)" failed - error: HTTP probe failed with statuscode: 500`),
      h.events.join("\n"),
    );
    assert.equal(h.actor.getSnapshot().context.firstAttemptDone, true, "the next container may go");
    assert.match(h.log[2]!, /^hook sh -c sleep 5 on c1 10\.0\.0\.2 timeout 9000$/, "killed with the pod's grace, preStop first");
    assert.equal(h.view().ready, false);
    h.hooks[1]!.settle({ ok: true });
    await h.advance(0);
    await h.finishStop();
    assert.deepEqual(h.log.slice(3, 5), ["stop c1 8 at +0", "create 1"]);
    assert.equal(h.view().restartCount, 1);
    assert.equal(h.state(), "postStarting", "the new container runs its postStart again");
  });

  test("a deletion during postStart stops the container (preStop first)", async () => {
    const h = harness({ hooks: POST });
    await h.advance(0);
    h.actor.send({ type: "TERMINATE", graceSeconds: 3 });
    await h.advance(0);
    assert.equal(h.state(), JSON.stringify({ stopping: { preStop: "timing" } }));
    h.hooks[0]!.settle({ ok: true });
    h.hooks[1]!.settle({ ok: true });
    await h.advance(0);
    await h.finishStop();
    assert.equal(h.state(), "terminated");
    assert.equal(h.log.filter((l) => l.startsWith("create")).length, 1);
  });

  test("the container exiting during its postStart is an ordinary exit", async () => {
    const h = harness({ hooks: POST });
    await h.advance(0);
    h.actor.send({ type: "OBSERVED", status: exited("c1", 1, h.clock.now()) });
    await h.advance(0);
    assert.equal(h.log[2], "create 1", "restarted at once (first crash)");
  });
});
