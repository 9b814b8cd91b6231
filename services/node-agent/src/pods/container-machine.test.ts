// The container machine on simulated time: crash -> immediate restart -> CrashLoopBackOff 10 s,
// 20 s -> reset after a stable run; image pull failures; termination; sandbox loss. The runtime
// calls are stubs that answer at once (this tests the sequencing; the Docker side has its own
// integration tests).
import { ImagePullError, type ContainerStatus as RuntimeContainerStatus } from "@navarch/runtime";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import { ContainerConfigError } from "./env.js";
import { containerMachine, containerView, terminationOf, type ContainerDeps, type ContainerInput } from "./container-machine.js";
import { DEFAULT_BACKOFF } from "./restart-policy.js";

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function harness(over: Partial<ContainerInput> = {}, depsOver: Partial<ContainerDeps> = {}) {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  let n = 0;
  const calls: string[] = [];
  const events: string[] = [];
  const removed: string[] = [];
  const deps: ContainerDeps = {
    now: () => clock.now(),
    ensureImage: async (image) => {
      calls.push(`pull ${image}`);
      return "sha256:abc";
    },
    createAndStart: async (attempt, sandbox) => {
      calls.push(`create ${attempt} in ${sandbox.id}`);
      return { id: `c${++n}` };
    },
    stop: async (id, grace) => {
      calls.push(`stop ${id} ${grace}`);
      return exitedStatus(id, 143, clock.now() - 1000, clock.now());
    },
    remove: (id) => removed.push(id),
    event: (type, reason) => events.push(`${type} ${reason}`),
    runProbe: async () => ({ ok: true, output: "" }),
    runHook: async () => ({ ok: true }),
    backoff: DEFAULT_BACKOFF,
    pullBackoff: { baseMs: 10_000, maxMs: 300_000 },
    podDescription: "web_default(u1)",
    ...depsOver,
  };
  const actor = createActor(containerMachine, {
    clock,
    input: { name: "app", image: "demo:1", pullPolicy: "IfNotPresent", policy: "Always", deps, ...over },
  });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  return { clock, actor, calls, events, removed, errors, view: () => containerView(actor.getSnapshot()), state: () => { const v = actor.getSnapshot().value; return typeof v === "string" ? v : JSON.stringify(v); } };
}

function exitedStatus(id: string, exitCode: number, startedAt: number, finishedAt: number, oomKilled = false): RuntimeContainerStatus {
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
    oomKilled,
    error: "",
    createdAt: new Date(startedAt),
    startedAt: new Date(startedAt),
    finishedAt: new Date(finishedAt),
  };
}

describe("container machine", () => {
  test("waits for PROCEED, then pulls, creates and runs", async () => {
    const h = harness();
    await flush();
    assert.equal(h.state(), "ready");
    assert.deepEqual(h.view().state, { kind: "waiting", reason: "ContainerCreating", message: "" });
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    assert.equal(h.state(), "running");
    assert.deepEqual(h.calls, ["pull demo:1", "create 0 in sb1"]);
    assert.equal(h.view().containerId, "c1");
    assert.equal(h.view().restartCount, 0);
    assert.deepEqual(h.events, ["Normal Created", "Normal Started"]);
    assert.deepEqual(h.errors, []);
  });

  test("first crash restarts at once, then backoff 10 s, 20 s; a stable run resets it", async () => {
    const h = harness();
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    const crash = async (id: string, ranMs = 500) => {
      const now = h.clock.now();
      h.actor.send({ type: "OBSERVED", status: exitedStatus(id, 1, now - ranMs, now) });
      await flush();
    };

    await crash("c1");
    assert.equal(h.state(), "running", "first failure: restarted at once");
    assert.equal(h.view().containerId, "c2");
    assert.equal(h.view().restartCount, 1);
    assert.equal(h.view().lastTermination?.exitCode, 1);
    assert.equal(h.view().lastTermination?.reason, "Error");

    await crash("c2");
    assert.equal(h.state(), "backoff");
    assert.equal(h.view().state.kind, "waiting");
    assert.equal((h.view().state as { reason: string }).reason, "CrashLoopBackOff");
    assert.match((h.view().state as { message: string }).message, /back-off 10s restarting failed container=app pod=web_default\(u1\)/);
    assert.equal(h.view().restartCount, 1, "restartCount moves when the new container is created");
    assert.equal(h.view().lastTermination?.containerId, "c2");
    h.clock.increment(9_999);
    await flush();
    assert.equal(h.state(), "backoff");
    h.clock.increment(1);
    await flush();
    assert.equal(h.state(), "running");
    assert.equal(h.view().containerId, "c3");
    assert.equal(h.view().restartCount, 2);

    await crash("c3");
    assert.match((h.view().state as { message: string }).message, /back-off 20s/);
    h.clock.increment(19_999);
    await flush();
    assert.equal(h.state(), "backoff");
    h.clock.increment(1);
    await flush();
    assert.equal(h.view().containerId, "c4");

    await crash("c4");
    assert.match((h.view().state as { message: string }).message, /back-off 40s/);
    h.clock.increment(40_000);
    await flush();
    assert.equal(h.view().containerId, "c5");

    // c5 runs for the reset period: its crash restarts at once again, then 10 s.
    h.clock.increment(DEFAULT_BACKOFF.resetMs);
    await crash("c5", DEFAULT_BACKOFF.resetMs);
    assert.equal(h.state(), "running");
    assert.equal(h.view().containerId, "c6");
    await crash("c6");
    assert.match((h.view().state as { message: string }).message, /back-off 10s/);
    assert.ok(h.events.includes("Warning BackOff"));
    // Only the current and the previous container are kept.
    assert.deepEqual(h.removed, ["c1", "c2", "c3", "c4"]);
    assert.deepEqual(h.errors, []);
  });

  test("restartPolicy Never: an exit is final, with its reason", async () => {
    const h = harness({ policy: "Never" });
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    const now = h.clock.now();
    h.actor.send({ type: "OBSERVED", status: exitedStatus("c1", 137, now - 100, now, true) });
    await flush();
    assert.equal(h.state(), "terminated");
    const v = h.view();
    assert.equal(v.state.kind, "terminated");
    assert.equal((v.state as { termination: { reason: string; exitCode: number } }).termination.reason, "OOMKilled");
    assert.equal(v.restartCount, 0);
  });

  test("OnFailure: exit 0 is final, exit 1 restarts", async () => {
    const ok = harness({ policy: "OnFailure" });
    ok.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    ok.actor.send({ type: "OBSERVED", status: exitedStatus("c1", 0, ok.clock.now() - 10, ok.clock.now()) });
    await flush();
    assert.equal(ok.state(), "terminated");
    const bad = harness({ policy: "OnFailure" });
    bad.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    bad.actor.send({ type: "OBSERVED", status: exitedStatus("c1", 2, bad.clock.now() - 10, bad.clock.now()) });
    await flush();
    assert.equal(bad.state(), "running");
    assert.equal(bad.view().containerId, "c2");
  });

  test("an unrelated or stale observation changes nothing", async () => {
    const h = harness();
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    h.actor.send({ type: "OBSERVED", status: exitedStatus("other", 1, 0, h.clock.now()) });
    h.actor.send({ type: "OBSERVED", status: { ...exitedStatus("c1", 0, 0, 0), state: "running" } });
    // A list taken before c1 was created cannot say it is gone.
    h.actor.send({ type: "GONE", id: "c1", listedAt: h.clock.now() - 1 });
    await flush();
    assert.equal(h.state(), "running");
    assert.equal(h.view().containerId, "c1");
    h.actor.send({ type: "GONE", id: "c1", listedAt: h.clock.now() + 1 });
    await flush();
    assert.equal(h.view().containerId, "c2", "removed behind our back: recreated");
    assert.equal(h.view().lastTermination?.reason, "ContainerStatusUnknown");
  });

  test("image pull failure: ErrImagePull, then ImagePullBackOff, retried at the deadline", async () => {
    let fail = true;
    const h = harness({}, {
      ensureImage: async () => {
        if (fail) throw new Error("pull access denied for nope");
        return "sha256:x";
      },
    });
    await flush();
    assert.match(h.state(), /pullBackoff/);
    assert.deepEqual(h.view().state, { kind: "waiting", reason: "ErrImagePull", message: "pull access denied for nope" });
    h.clock.increment(1_000);
    await flush();
    assert.equal((h.view().state as { reason: string }).reason, "ImagePullBackOff");
    fail = false;
    h.clock.increment(8_999);
    await flush();
    assert.equal((h.view().state as { reason: string }).reason, "ImagePullBackOff");
    h.clock.increment(1);
    await flush();
    assert.equal(h.state(), "ready");
    assert.ok(h.events.includes("Warning Failed") && h.events.includes("Normal BackOff"));
  });

  test("a pull failure's Failed event names the image once, then the daemon's reason", async () => {
    const messages: string[] = [];
    const reason = 'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused';
    const h = harness({ image: "127.0.0.1:5999/navarch/none:1" }, {
      ensureImage: async () => {
        throw new ImagePullError(reason);
      },
      event: (type, r, message) => messages.push(`${type} ${r} ${message}`),
    });
    await flush();
    assert.deepEqual(h.view().state, { kind: "waiting", reason: "ErrImagePull", message: reason });
    assert.deepEqual(messages, [`Warning Failed Failed to pull image "127.0.0.1:5999/navarch/none:1": ${reason}`, "Warning Failed Error: ErrImagePull"]);
  });

  test("a config error is CreateContainerConfigError and is retried", async () => {
    let missing = true;
    const h = harness({}, {
      createAndStart: async () => {
        if (missing) throw new ContainerConfigError('configmap "cfg" not found');
        return { id: "c1" };
      },
    });
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    assert.deepEqual(h.view().state, { kind: "waiting", reason: "CreateContainerConfigError", message: 'configmap "cfg" not found' });
    missing = false;
    h.clock.increment(1_000);
    await flush();
    assert.equal(h.state(), "running");
  });

  test("a container found failed to start (Docker: created, 127, error) ended with StartError, exit 128", () => {
    const found: RuntimeContainerStatus = { ...exitedStatus("c1", 127, 0, 0), state: "created", startedAt: undefined, finishedAt: undefined, error: 'exec: "nope": executable file not found' };
    const t = terminationOf(found, "c1", 5_000);
    assert.deepEqual([t.exitCode, t.reason, t.message, t.finishedAt], [128, "StartError", 'exec: "nope": executable file not found', 5_000]);
  });

  test("a start failure counts as a crash (StartError, exit 128)", async () => {
    let n = 0;
    const h = harness({}, { createAndStart: async () => ({ id: `c${++n}`, startError: n === 1 ? 'exec: "nope": executable file not found' : undefined }) });
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    assert.equal(h.state(), "running");
    assert.equal(h.view().containerId, "c2");
    assert.equal(h.view().lastTermination?.reason, "StartError");
    assert.equal(h.view().lastTermination?.exitCode, 128);
  });

  test("TERMINATE stops the running container with the grace period", async () => {
    const h = harness();
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    h.actor.send({ type: "TERMINATE", graceSeconds: 7 });
    await flush();
    assert.equal(h.state(), "terminated");
    assert.ok(h.calls.includes("stop c1 7"));
    assert.ok(h.events.includes("Normal Killing"));
    assert.equal((h.view().state as { termination: { exitCode: number } }).termination.exitCode, 143);
  });

  test("TERMINATE during a create stops the new container once it exists", async () => {
    let release!: () => void;
    const h = harness({}, {
      createAndStart: () => new Promise((resolve) => (release = () => resolve({ id: "c1" }))),
    });
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    assert.equal(h.state(), "creating");
    h.actor.send({ type: "TERMINATE", graceSeconds: 3 });
    await flush();
    assert.equal(h.state(), "creating");
    release();
    await flush();
    assert.equal(h.state(), "terminated");
    assert.ok(h.calls.includes("stop c1 3"));
  });

  test("sandbox lost: the container is killed and recreated in the new sandbox", async () => {
    const h = harness();
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    h.actor.send({ type: "SANDBOX_LOST", restart: true });
    await flush();
    assert.equal(h.state(), "ready");
    assert.ok(h.calls.includes("stop c1 0"));
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb2", ip: "10.0.0.3" } });
    await flush();
    assert.equal(h.state(), "running");
    assert.ok(h.calls.includes("create 1 in sb2"));
    assert.equal(h.view().restartCount, 1);
  });

  test("adopts a running container without touching it", async () => {
    const status = { ...exitedStatus("old", 0, 5_000, 0), state: "running" as const, attempt: 3, finishedAt: undefined };
    const h = harness({ adopted: { current: status }, sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    assert.equal(h.state(), "running");
    assert.deepEqual(h.calls, []);
    assert.equal(h.view().containerId, "old");
    assert.equal(h.view().restartCount, 3);
  });

  test("a new image restarts the running container with it", async () => {
    const h = harness();
    h.actor.send({ type: "PROCEED", sandbox: { id: "sb1", ip: "10.0.0.2" } });
    await flush();
    h.actor.send({ type: "IMAGE_CHANGED", image: "demo:2", pullPolicy: "IfNotPresent", graceSeconds: 5 });
    await flush();
    assert.equal(h.state(), "running");
    assert.deepEqual(h.calls, ["pull demo:1", "create 0 in sb1", "stop c1 5", "pull demo:2", "create 1 in sb1"]);
    assert.equal(h.view().image, "demo:2");
    assert.equal(h.view().restartCount, 1);
    assert.equal(h.view().lastTermination?.exitCode, 143);
  });
});
