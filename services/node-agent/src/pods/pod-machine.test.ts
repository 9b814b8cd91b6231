// The pod machine on simulated time with stub runtime calls: ordered start, graceful and forced
// deletion, deletion while the sandbox is being made, sandbox loss, completion.
import { KINDS, type Container, type Pod } from "@navarch/api";
import type { ContainerStatus as RuntimeContainerStatus, Sandbox } from "@navarch/runtime";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createActor, SimulatedClock } from "xstate";
import type { ContainerDeps } from "./container-machine.js";
import { podContainerViews, podInitContainerViews, podMachine, type AdoptedPod, type PodDeps } from "./pod-machine.js";
import { computePodStatus } from "./pod-status.js";
import { DEFAULT_BACKOFF } from "./restart-policy.js";

const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function pod(restartPolicy = "Always", names = ["a", "b"], inits: string[] = []): Pod {
  return KINDS.Pod.codec.fromPartial({
    metadata: { name: "web", namespace: "default", uid: "u1" },
    spec: {
      restartPolicy,
      initContainers: inits.map((name) => ({ name, image: "img:1" })),
      containers: names.map((name) => ({ name, image: "img:1" })),
    },
  });
}

function status(id: string, name: string, role: "app" | "sandbox", state: RuntimeContainerStatus["state"], exitCode = 0): RuntimeContainerStatus {
  return {
    id, pod: { namespace: "default", name: "web", uid: "u1", node: "n1" }, name, role, attempt: 0, image: "img:1", imageID: "sha256:1",
    state, exitCode, oomKilled: false, error: "", createdAt: new Date(0), startedAt: new Date(1), finishedAt: new Date(2),
  };
}

function harness(p: Pod, opts: { holdSandbox?: boolean; holdCreate?: string; adopted?: AdoptedPod; ownNetwork?: boolean } = {}) {
  const clock = new SimulatedClock();
  clock.set(5_000_000);
  const log: string[] = [];
  const pulls: string[] = [];
  let sandboxes = 0;
  let containers = 0;
  const releases: (() => void)[] = [];
  const hold = <T>(value: () => T) => new Promise<T>((resolve) => releases.push(() => resolve(value())));
  const containerDeps = (c: Container): ContainerDeps => ({
    now: () => clock.now(),
    ensureImage: async () => {
      pulls.push(c.name);
      return "sha256:1";
    },
    createAndStart: async (attempt, sandbox) => {
      const make = () => {
        const id = `${c.name}${++containers}`;
        log.push(sandbox.id ? `create ${c.name}#${attempt} in ${sandbox.id} -> ${id}` : `create ${c.name}#${attempt} with IP ${sandbox.ip} -> ${id}`);
        return { id };
      };
      return opts.holdCreate === c.name ? hold(make) : make();
    },
    stop: async (id, grace) => {
      log.push(`stop ${id} grace ${grace}`);
      return status(id, c.name, "app", "exited", 143);
    },
    remove: (id) => log.push(`remove old ${id}`),
    event: () => undefined,
    runProbe: async () => ({ ok: true, output: "" }),
    runHook: async () => ({ ok: true }),
    backoff: DEFAULT_BACKOFF,
    pullBackoff: { baseMs: 10_000, maxMs: 300_000 },
    podDescription: "web_default(u1)",
  });
  const deps: PodDeps = {
    now: () => clock.now(),
    runSandbox: async () => {
      const make = (): Sandbox => {
        if (opts.ownNetwork) {
          log.push("own network");
          return { id: "", pod: { namespace: "default", name: "web", uid: "u1", node: "n1" }, ip: "10.244.16.2", state: "ready", createdAt: new Date(clock.now()) };
        }
        const id = `sb${++sandboxes}`;
        log.push(`sandbox ${id}`);
        return { id, pod: { namespace: "default", name: "web", uid: "u1", node: "n1" }, ip: `10.0.0.${sandboxes}`, state: "ready", createdAt: new Date(clock.now()) };
      };
      return opts.holdSandbox ? hold(make) : make();
    },
    stopSandbox: async (id) => void log.push(`stop sandbox ${id}`),
    removeAll: async (ids, sbs) => void log.push(`remove [${ids.join(" ")}] sandboxes [${sbs.join(" ")}]`),
    deletePodObject: async () => void log.push("delete pod object"),
    containerDeps,
    event: () => undefined,
    sandboxBackoff: { baseMs: 1_000, maxMs: 10_000 },
  };
  const actor = createActor(podMachine, { clock, input: { pod: p, deps, adopted: opts.adopted } });
  const errors: unknown[] = [];
  let done = false;
  actor.subscribe({ error: (e) => errors.push(e), complete: () => (done = true) });
  actor.start();
  return {
    clock, actor, log, pulls, errors, releases,
    state: () => JSON.stringify(actor.getSnapshot().value),
    views: () => podContainerViews(actor.getSnapshot()),
    done: () => done,
  };
}

describe("pod machine", () => {
  test("makes the sandbox, then starts the containers in order", async () => {
    const h = harness(pod(), { holdCreate: "a" });
    await flush();
    assert.deepEqual(h.log, ["sandbox sb1"], "b waits until a's create has finished");
    h.releases.shift()!();
    await flush();
    assert.deepEqual(h.log, ["sandbox sb1", "create a#0 in sb1 -> a1", "create b#0 in sb1 -> b2"]);
    assert.equal(h.state(), '"running"');
    assert.deepEqual(h.views().map((v) => v.state.kind), ["running", "running"]);
    assert.equal(h.actor.getSnapshot().context.sandbox?.ip, "10.0.0.1");
    assert.deepEqual(h.errors, []);
  });

  test("graceful deletion: TERMINATE with the grace period, remove everything, delete the object", async () => {
    const h = harness(pod());
    await flush();
    h.actor.send({ type: "DELETE", graceSeconds: 15, deleteObject: true });
    await flush();
    assert.ok(h.done());
    assert.deepEqual(h.log.slice(3), ["stop a1 grace 15", "stop b2 grace 15", "remove [a1 b2] sandboxes [sb1]", "delete pod object"]);
  });

  test("force deletion: grace 0 and the object is left alone", async () => {
    const h = harness(pod());
    await flush();
    h.actor.send({ type: "DELETE", graceSeconds: 0, deleteObject: false });
    await flush();
    assert.ok(h.done());
    assert.ok(!h.log.includes("delete pod object"));
    assert.ok(h.log.includes("stop a1 grace 0"));
  });

  test("deleted while the sandbox is being made: it is waited for, then removed", async () => {
    const h = harness(pod(), { holdSandbox: true });
    await flush();
    h.actor.send({ type: "DELETE", graceSeconds: 30, deleteObject: true });
    await flush();
    assert.ok(!h.done());
    h.releases.shift()!();
    await flush();
    assert.ok(h.done());
    assert.deepEqual(h.log, ["sandbox sb1", "remove [] sandboxes [sb1]", "delete pod object"]);
  });

  test("a dead sandbox is replaced and the containers restart in the new one", async () => {
    const h = harness(pod());
    await flush();
    h.actor.send({ type: "OBSERVED", status: status("sb1", "", "sandbox", "exited") });
    await flush();
    assert.equal(h.state(), '"running"');
    assert.deepEqual(h.log.slice(3), [
      "stop a1 grace 0",
      "stop b2 grace 0",
      "remove [] sandboxes [sb1]",
      "sandbox sb2",
      "create a#1 in sb2 -> a3",
      "create b#1 in sb2 -> b4",
    ]);
    assert.deepEqual(h.views().map((v) => v.restartCount), [1, 1]);
    assert.equal(h.actor.getSnapshot().context.sandbox?.ip, "10.0.0.2");
  });

  test("a resync that no longer lists the sandbox replaces it too; an older list does not", async () => {
    const h = harness(pod("Always", ["a"]));
    await flush();
    const since = h.actor.getSnapshot().context.sandboxSince;
    h.actor.send({ type: "RESYNC", containers: [], listedAt: since - 1 });
    await flush();
    assert.ok(!h.log.includes("sandbox sb2"));
    h.clock.increment(10);
    h.actor.send({ type: "RESYNC", containers: [status("a1", "a", "app", "running")], listedAt: h.clock.now() });
    await flush();
    assert.ok(h.log.includes("sandbox sb2"));
  });

  test("a pod without a sandbox: its container has the pod IP, restarts with it, and there is no sandbox to lose, stop or remove", async () => {
    const h = harness(pod("Always", ["a"]), { ownNetwork: true });
    await flush();
    assert.deepEqual(h.log, ["own network", "create a#0 with IP 10.244.16.2 -> a1"]);
    h.clock.increment(10);
    h.actor.send({ type: "RESYNC", containers: [status("a1", "a", "app", "running")], listedAt: h.clock.now() });
    await flush();
    assert.equal(h.state(), '"running"', "no sandbox container listed is no lost sandbox");
    h.actor.send({ type: "OBSERVED", status: status("a1", "a", "app", "exited", 1) });
    await flush();
    assert.deepEqual(h.log.slice(2), ["create a#1 with IP 10.244.16.2 -> a2"], "the crash restarts the container with the same IP");
    assert.equal(h.actor.getSnapshot().context.sandbox?.ip, "10.244.16.2");
    h.actor.send({ type: "DELETE", graceSeconds: 5, deleteObject: true });
    await flush();
    assert.ok(h.done());
    assert.deepEqual(h.log.slice(3), ["stop a2 grace 5", "remove [a1 a2] sandboxes []", "delete pod object"]);
  });

  test("a pod without a sandbox that completes stops no sandbox", async () => {
    const h = harness(pod("Never", ["a"]), { ownNetwork: true });
    await flush();
    h.actor.send({ type: "OBSERVED", status: status("a1", "a", "app", "exited", 0) });
    await flush();
    assert.equal(h.state(), '"completed"');
    assert.deepEqual(h.log, ["own network", "create a#0 with IP 10.244.16.2 -> a1"]);
  });

  test("restartPolicy Never: everything exited -> completed, the sandbox is stopped", async () => {
    const h = harness(pod("Never", ["a"]));
    await flush();
    h.actor.send({ type: "OBSERVED", status: status("a1", "a", "app", "exited", 0) });
    await flush();
    assert.equal(h.state(), '"completed"');
    assert.ok(h.log.includes("stop sandbox sb1"));
    h.actor.send({ type: "DELETE", graceSeconds: 30, deleteObject: true });
    await flush();
    assert.ok(h.done());
    assert.ok(h.log.includes("remove [a1] sandboxes [sb1]"));
  });

  test("an exit of one container restarts only that one", async () => {
    const h = harness(pod());
    await flush();
    h.actor.send({ type: "OBSERVED", status: status("b2", "b", "app", "exited", 1) });
    await flush();
    assert.deepEqual(h.views().map((v) => [v.containerId, v.restartCount]), [["a1", 0], ["b3", 1]]);
  });

  test("init containers run one at a time to completion before the app containers", async () => {
    const h = harness(pod("Always", ["a"], ["i1", "i2"]));
    await flush();
    assert.deepEqual(h.log, ["sandbox sb1", "create i1#0 in sb1 -> i11"]);
    h.actor.send({ type: "OBSERVED", status: status("i11", "i1", "app", "exited", 1) });
    await flush();
    assert.equal(h.log.at(-1), "create i1#1 in sb1 -> i12", "a failed init container is restarted (OnFailure)");
    h.actor.send({ type: "OBSERVED", status: status("i12", "i1", "app", "exited", 0) });
    await flush();
    assert.equal(h.log.at(-1), "create i2#0 in sb1 -> i23");
    h.actor.send({ type: "OBSERVED", status: status("i23", "i2", "app", "exited", 0) });
    await flush();
    assert.equal(h.log.at(-1), "create a#0 in sb1 -> a4");
    assert.equal(h.state(), '"running"');
    h.actor.send({ type: "DELETE", graceSeconds: 1, deleteObject: true });
    await flush();
    assert.ok(h.done());
    assert.ok(h.log.includes("remove [i11 i12 i23 a4] sandboxes [sb1]"));
  });

  test("restartPolicy Never: a failed init container fails the pod; the app containers never start", async () => {
    const h = harness(pod("Never", ["a"], ["i1"]));
    await flush();
    h.actor.send({ type: "OBSERVED", status: status("i11", "i1", "app", "exited", 2) });
    await flush();
    assert.equal(h.state(), '"completed"');
    assert.ok(!h.log.some((l) => l.startsWith("create a")));
  });

  test("a failed sandbox is retried after its backoff, or at once when a resync shows the runtime is back", async () => {
    const h = harness(pod("Always", ["a"]));
    await flush();
    let fail = true;
    const deps = h.actor.getSnapshot().context.deps;
    const run = deps.runSandbox;
    deps.runSandbox = async () => {
      if (fail) throw new Error("Cannot connect to the Docker daemon");
      return run();
    };
    // The sandbox is gone and cannot be made again for now.
    h.clock.increment(10);
    h.actor.send({ type: "RESYNC", containers: [], listedAt: h.clock.now() });
    await flush();
    assert.equal(h.state(), '"sandboxBackoff"');
    fail = false;
    h.actor.send({ type: "RESYNC", containers: [], listedAt: h.clock.now() });
    await flush();
    assert.equal(h.state(), '"running"');
    assert.ok(h.log.includes("sandbox sb2"));
  });

  describe("a pod adopted as finished (it completed before the agent restarted)", () => {
    const sandboxOf = (id: string): Sandbox => ({ id, pod: { namespace: "default", name: "web", uid: "u1", node: "n1" }, ip: "", state: "notready", createdAt: new Date(1_000) });
    const ended = (id: string, name: string, exitCode: number, attempt = 0): RuntimeContainerStatus => ({
      ...status(id, name, "app", "exited", exitCode), attempt, startedAt: new Date(10_000 + attempt), finishedAt: new Date(20_000 + attempt),
    });
    const statusOf = (h: ReturnType<typeof harness>, p: Pod) =>
      computePodStatus({
        pod: p,
        containers: h.views(),
        initContainers: podInitContainerViews(h.actor.getSnapshot()),
        podIP: h.actor.getSnapshot().context.sandbox?.ip ?? "10.0.0.9",
        hostIP: "127.0.0.1",
        startTime: h.actor.getSnapshot().context.startTime,
        runtimeName: "docker",
        previous: undefined,
        now: new Date(h.clock.now()),
      });

    test("restartPolicy Never, exit 0: completed at once; no sandbox, no pull, no container; Succeeded with the real exit", async () => {
      const p = pod("Never", ["a"]);
      const h = harness(p, { adopted: { sandbox: sandboxOf("sb-old"), containers: { a: { current: ended("a0", "a", 0) } }, finished: true } });
      await flush();
      assert.equal(h.state(), '"completed"');
      assert.deepEqual(h.log, [], "no sandbox made or stopped, no container created");
      assert.deepEqual(h.pulls, []);
      assert.equal(h.actor.getSnapshot().context.sandbox, undefined, "the stopped sandbox is not the pod's (no pod IP from it)");
      assert.equal(h.actor.getSnapshot().context.startTime, 1_000, "startTime: the sandbox's creation");
      const s = statusOf(h, p);
      assert.equal(s.phase, "Succeeded");
      const c = s.containerStatuses[0]!;
      assert.equal(c.restartCount, 0);
      assert.equal(c.containerID, "docker://a0");
      assert.deepEqual(
        [c.state!.terminated!.exitCode, c.state!.terminated!.reason, c.state!.terminated!.finishedAt, c.state!.terminated!.containerID],
        [0, "Completed", "1970-01-01T00:00:20Z", "docker://a0"],
      );
      // Observations of its containers change nothing.
      h.actor.send({ type: "RESYNC", containers: [ended("a0", "a", 0)], listedAt: h.clock.now() });
      h.actor.send({ type: "OBSERVED", status: ended("a0", "a", 0) });
      await flush();
      assert.equal(h.state(), '"completed"');
      assert.deepEqual(h.log, []);
      // Deleted: its containers and the stopped sandbox go.
      h.actor.send({ type: "DELETE", graceSeconds: 30, deleteObject: true });
      await flush();
      assert.ok(h.done());
      assert.deepEqual(h.log, ["remove [a0] sandboxes [sb-old]", "delete pod object"]);
      assert.deepEqual(h.errors, []);
    });

    test("restartPolicy OnFailure, exit 0 after a failure: Succeeded, restartCount and lastState kept", async () => {
      const p = pod("OnFailure", ["a", "b"]);
      const h = harness(p, {
        adopted: {
          sandbox: sandboxOf("sb-old"),
          containers: { a: { current: ended("a1", "a", 0, 1), previous: ended("a0", "a", 3, 0) }, b: { current: ended("b0", "b", 0) } },
          finished: true,
        },
      });
      await flush();
      assert.equal(h.state(), '"completed"');
      assert.deepEqual(h.log, []);
      const s = statusOf(h, p);
      assert.equal(s.phase, "Succeeded");
      const a = s.containerStatuses[0]!;
      assert.equal(a.restartCount, 1);
      assert.equal(a.lastState!.terminated!.exitCode, 3);
      assert.equal(a.state!.terminated!.exitCode, 0);
    });

    test("restartPolicy Never, a failed exit: Failed with its exit code", async () => {
      const p = pod("Never", ["a"]);
      const h = harness(p, { adopted: { sandbox: sandboxOf("sb-old"), containers: { a: { current: ended("a0", "a", 2) } }, finished: true } });
      await flush();
      const s = statusOf(h, p);
      assert.equal(s.phase, "Failed");
      assert.deepEqual([s.containerStatuses[0]!.state!.terminated!.exitCode, s.containerStatuses[0]!.state!.terminated!.reason], [2, "Error"]);
    });

    test("restartPolicy Never, a failed init container: Failed; the app container that never ran stays so", async () => {
      const p = pod("Never", ["a"], ["i"]);
      const h = harness(p, { adopted: { sandbox: sandboxOf("sb-old"), containers: { i: { current: ended("i0", "i", 1) } }, finished: true } });
      await flush();
      assert.equal(h.state(), '"completed"');
      assert.deepEqual(h.log, []);
      assert.deepEqual(h.pulls, []);
      const s = statusOf(h, p);
      assert.equal(s.phase, "Failed");
      assert.equal(s.initContainerStatuses[0]!.state!.terminated!.exitCode, 1);
      assert.equal(s.containerStatuses[0]!.state!.terminated!.reason, "ContainerStatusUnknown");
      assert.equal(s.containerStatuses[0]!.containerID, "");
    });
  });
});
