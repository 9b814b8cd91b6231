// The container machine with probes, on simulated time; the probe attempts are answered by the
// test (per container id), the runtime calls are stubs. What is checked: `ready` and `started`
// follow the probes, a failed liveness/startup probe kills the container with the probe's grace
// and restartPolicy restarts it with the crash backoff, a new container starts unready, and no
// probe runs against a container that is gone.
import type { ContainerStatus as RuntimeContainerStatus } from "@navarch/runtime";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import type { ProbeKind, ProbeSpec } from "../probes/spec.js";
import { containerMachine, containerView, type ContainerDeps, type ContainerInput } from "./container-machine.js";
import { computePodStatus } from "./pod-status.js";
import { DEFAULT_BACKOFF } from "./restart-policy.js";

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function probe(kind: ProbeKind, over: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    kind,
    action: { type: "http", scheme: "http", host: "", port: 8080, path: `/${kind}`, headers: [] },
    initialDelayMs: 0,
    periodMs: 1_000,
    timeoutMs: 1_000,
    successThreshold: 1,
    failureThreshold: 3,
    killGraceSeconds: 5,
    ...over,
  };
}

function exited(id: string, exitCode: number, startedAt: number, finishedAt: number): RuntimeContainerStatus {
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
    createdAt: new Date(startedAt),
    startedAt: new Date(startedAt),
    finishedAt: new Date(finishedAt),
  };
}

/** `healthy[kind]` answers that probe; `stopExit` is the exit code a stopped container reports. */
function harness(over: Partial<ContainerInput> = {}) {
  const clock = new SimulatedClock();
  clock.set(2_000_000);
  let n = 0;
  const healthy: Record<ProbeKind, boolean> = { startup: true, liveness: true, readiness: true };
  const probed: string[] = [];
  const calls: string[] = [];
  const events: string[] = [];
  let stopExit = 137;
  const deps: ContainerDeps = {
    now: () => clock.now(),
    ensureImage: async () => "sha256:abc",
    createAndStart: async (attempt) => {
      calls.push(`create ${attempt}`);
      return { id: `c${++n}` };
    },
    stop: async (id, grace) => {
      calls.push(`stop ${id} ${grace}`);
      return exited(id, stopExit, clock.now() - 1_000, clock.now());
    },
    remove: () => undefined,
    event: (type, reason, message) => events.push(`${type} ${reason} ${message}`),
    runProbe: async (spec, target) => {
      probed.push(`${spec.kind} ${target.containerId} ${target.podIP}`);
      return healthy[spec.kind] ? { ok: true, output: "ok" } : { ok: false, output: "HTTP probe failed with statuscode: 503" };
    },
    runHook: async () => ({ ok: true }),
    backoff: DEFAULT_BACKOFF,
    pullBackoff: { baseMs: 10_000, maxMs: 300_000 },
    podDescription: "web_default(u1)",
  };
  const actor = createActor(containerMachine, {
    clock,
    input: { name: "app", image: "demo:1", pullPolicy: "IfNotPresent", policy: "Always", deps, ...over },
  });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
  const tick = async (ms: number) => {
    await flush();
    clock.increment(0);
    await flush();
    for (let t = 0; t < ms; t += 1_000) {
      clock.increment(Math.min(1_000, ms - t));
      await flush();
    }
    clock.increment(0);
    await flush();
  };
  const state = () => {
    const v = actor.getSnapshot().value;
    return typeof v === "string" ? v : JSON.stringify(v);
  };
  const view = () => containerView(actor.getSnapshot());
  const podReady = () =>
    computePodStatus({
      pod: { metadata: { name: "web", namespace: "default", uid: "u1" }, spec: { containers: [] } } as never,
      containers: [view()],
      podIP: "10.0.0.2",
      hostIP: "127.0.0.1",
      startTime: 0,
      runtimeName: "docker",
      previous: undefined,
      now: new Date(clock.now()),
    });
  return { clock, actor, healthy, probed, calls, events, errors, tick, state, view, podReady, setStopExit: (c: number) => (stopExit = c) };
}

describe("container machine with probes", () => {
  test("readiness: running but not ready until the probe passes; failing it again makes it unready without a restart", async () => {
    const h = harness({ probes: { readiness: probe("readiness", { failureThreshold: 2 }) } });
    h.healthy.readiness = false;
    await h.tick(2_000);
    assert.equal(h.state(), "running");
    assert.equal(h.view().ready, false);
    const before = h.podReady();
    assert.equal(before.containerStatuses[0]!.ready, false);
    assert.equal(before.containerStatuses[0]!.started, true, "no startup probe: started while running");
    assert.deepEqual(
      before.conditions.filter((c) => c.type === "Ready" || c.type === "ContainersReady").map((c) => [c.status, c.message]),
      [["False", "containers with unready status: [app]"], ["False", "containers with unready status: [app]"]],
    );
    assert.ok(h.probed.every((p) => p === "readiness c1 10.0.0.2"), "the probe targets the container and the pod IP");

    h.healthy.readiness = true;
    await h.tick(1_000);
    assert.equal(h.view().ready, true);
    assert.ok(h.podReady().conditions.every((c) => c.status === "True"));

    h.healthy.readiness = false;
    await h.tick(2_000);
    assert.equal(h.view().ready, false);
    assert.equal(h.state(), "running");
    assert.equal(h.view().restartCount, 0);
    assert.ok(!h.calls.some((c) => c.startsWith("stop")), "a readiness failure never kills");
    assert.deepEqual(h.errors, []);
  });

  test("liveness: a failure at the threshold kills with the probe's grace and restarts; the new container starts over", async () => {
    const h = harness({ probes: { liveness: probe("liveness"), readiness: probe("readiness") } });
    await h.tick(1_000);
    assert.equal(h.view().ready, true);
    h.healthy.liveness = false;
    h.healthy.readiness = false;
    await h.tick(3_000);
    assert.deepEqual(h.calls, ["create 0", "stop c1 5", "create 1"]);
    assert.ok(h.events.includes("Normal Killing Container app failed liveness probe, will be restarted"));
    const killing = h.events.indexOf("Normal Killing Container app failed liveness probe, will be restarted");
    assert.equal(h.events.slice(0, killing).filter((e) => e === "Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 503").length, 3);
    assert.equal(h.view().restartCount, 1);
    assert.equal(h.view().containerId, "c2");
    assert.equal(h.view().lastTermination?.exitCode, 137);
    assert.equal(h.view().ready, false, "a new container is not ready before its readiness probe passes");
    h.healthy.liveness = true;
    h.healthy.readiness = true;
    await h.tick(1_000);
    assert.equal(h.view().ready, true);
    assert.ok(h.probed.slice(-2).every((p) => p.includes(" c2 ")), "probes follow the new container");
  });

  test("a second liveness kill waits for the crash backoff (CrashLoopBackOff)", async () => {
    const h = harness({ probes: { liveness: probe("liveness", { failureThreshold: 1 }) } });
    h.healthy.liveness = false;
    await h.tick(0);
    assert.equal(h.view().containerId, "c2", "first kill: restarted at once");
    await h.tick(1_000);
    assert.equal(h.state(), "backoff");
    assert.match((h.view().state as { message: string }).message, /back-off 10s restarting failed container=app/);
    await h.tick(10_000);
    assert.equal(h.view().containerId, "c3");
  });

  test("OnFailure restarts a container a probe killed even when it exited 0; Never does not", async () => {
    const onFailure = harness({ policy: "OnFailure", probes: { liveness: probe("liveness", { failureThreshold: 1 }) } });
    onFailure.setStopExit(0);
    onFailure.healthy.liveness = false;
    await onFailure.tick(0);
    assert.equal(onFailure.view().restartCount, 1);
    assert.equal(onFailure.view().lastTermination?.exitCode, 0);

    const never = harness({ policy: "Never", probes: { liveness: probe("liveness", { failureThreshold: 1 }) } });
    never.healthy.liveness = false;
    await never.tick(0);
    assert.equal(never.state(), "terminated");
    assert.equal(never.view().restartCount, 0);
    assert.equal((never.view().state as { kind: string }).kind, "terminated");
  });

  test("startup: not started (nor ready) until the startup probe passes; liveness waits for it", async () => {
    const h = harness({ probes: { startup: probe("startup", { failureThreshold: 10 }), liveness: probe("liveness") } });
    h.healthy.startup = false;
    h.healthy.liveness = false;
    await h.tick(3_000);
    assert.equal(h.view().started, false);
    assert.equal(h.view().ready, false, "no readiness probe: ready once started");
    const status = h.podReady().containerStatuses[0]!;
    assert.deepEqual([status.started, status.ready], [false, false]);
    assert.ok(h.probed.every((p) => p.startsWith("startup")), "liveness is held back");
    h.healthy.startup = true;
    h.healthy.liveness = true;
    await h.tick(1_000);
    assert.deepEqual([h.view().started, h.view().ready], [true, true]);
    assert.ok(h.probed.some((p) => p.startsWith("liveness")));
  });

  test("a failed startup probe kills the container like a liveness probe", async () => {
    const h = harness({ probes: { startup: probe("startup", { failureThreshold: 2, killGraceSeconds: 3 }) } });
    h.healthy.startup = false;
    await h.tick(1_000);
    assert.ok(h.calls.includes("stop c1 3"));
    assert.ok(h.events.includes("Normal Killing Container app failed startup probe, will be restarted"));
    assert.equal(h.view().restartCount, 1);
  });

  test("probes stop with their container: none runs while it is dead or after the pod is deleted", async () => {
    const h = harness({ policy: "Never", probes: { readiness: probe("readiness") } });
    await h.tick(1_000);
    const now = h.clock.now();
    h.actor.send({ type: "OBSERVED", status: exited("c1", 1, now - 1_000, now) });
    await h.tick(0);
    assert.equal(h.state(), "terminated");
    assert.equal(h.view().ready, false);
    const n = h.probed.length;
    await h.tick(30_000);
    assert.equal(h.probed.length, n);
    assert.equal(h.podReady().containerStatuses[0]!.ready, false);
  });

  test("an adopted running container keeps its reported readiness; its successor starts unready", async () => {
    const now = 2_000_000;
    const current = { ...exited("c0", 0, now - 60_000, 0), state: "running" as const, finishedAt: undefined };
    const h = harness({
      adopted: { current, reported: { started: true, ready: true } },
      sandbox: { id: "sb0", ip: "10.0.0.9" },
      probes: { startup: probe("startup"), readiness: probe("readiness", { failureThreshold: 1 }), liveness: probe("liveness", { failureThreshold: 1 }) },
    });
    h.healthy.startup = false;
    await h.tick(0);
    assert.equal(h.state(), "running");
    assert.deepEqual([h.view().started, h.view().ready], [true, true], "as reported before the agent restarted");
    assert.ok(!h.probed.some((p) => p.startsWith("startup")));
    h.healthy.liveness = false;
    await h.tick(1_000);
    assert.equal(h.view().containerId, "c1", "killed and replaced");
    assert.deepEqual([h.view().started, h.view().ready], [false, false], "the new container earns both again");
  });

  test("a pod deleted while a probe kill is stopping the container is not restarted", async () => {
    const h = harness({ probes: { liveness: probe("liveness", { failureThreshold: 1, killGraceSeconds: 30 }) } });
    const held: Array<() => void> = [];
    // Hold the stops so the deletion arrives during the probe's.
    const deps = h.actor.getSnapshot().context.deps;
    const stop = deps.stop;
    deps.stop = (id, grace) => new Promise((resolve) => held.push(() => void stop(id, grace).then(resolve)));
    h.healthy.liveness = false;
    await h.tick(0);
    assert.equal(h.state(), JSON.stringify({ stopping: "signalling" }));
    h.actor.send({ type: "TERMINATE", graceSeconds: 2 });
    await h.tick(0);
    assert.equal(held.length, 2, "the deletion's shorter grace is a second, harder stop");
    for (const release of held) release();
    await h.tick(0);
    assert.equal(h.state(), "terminated");
    assert.ok(!h.calls.includes("create 1"));
  });
});
