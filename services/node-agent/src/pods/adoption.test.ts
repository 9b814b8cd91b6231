import { KINDS, type Pod } from "@navarch/api";
import type { ContainerStatus, Sandbox } from "@navarch/runtime";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { planAdoption, podFinished } from "./adoption.js";

const pod = (uid: string, ...containers: string[]): Pod =>
  KINDS.Pod.codec.fromPartial({ metadata: { name: `p-${uid}`, namespace: "default", uid }, spec: { containers: containers.map((name) => ({ name, image: "img" })) } });

const sandbox = (id: string, uid: string, state: "ready" | "notready" = "ready", at = 1): Sandbox => ({
  id, pod: { namespace: "default", name: `p-${uid}`, uid, node: "n1" }, ip: "172.17.0.2", state, createdAt: new Date(at),
});

const app = (id: string, uid: string, name: string, attempt: number, state: ContainerStatus["state"] = "running"): ContainerStatus => ({
  id, pod: { namespace: "default", name: `p-${uid}`, uid, node: "n1" }, name, role: "app", attempt, image: "img", imageID: "sha", state,
  exitCode: state === "exited" ? 1 : 0, oomKilled: false, error: "", createdAt: new Date(attempt + 1), startedAt: new Date(attempt + 1), finishedAt: undefined,
});

test("adopts running pods, keeps the newest container and the previous one, removes the rest", () => {
  const plan = planAdoption(
    [pod("u1", "a", "b"), pod("u2", "a"), pod("u3", "a")],
    [
      app("a0", "u1", "a", 0, "exited"), app("a1", "u1", "a", 1, "exited"), app("a2", "u1", "a", 2),
      app("b0", "u1", "b", 0, "exited"),
      app("x0", "u1", "gone-from-spec", 0),
      app("c0", "u2", "a", 0),
      app("o0", "other", "a", 0),
      app("n0", "u3", "a", 0, "created"),
    ],
    [sandbox("s1", "u1"), sandbox("s1-old", "u1", "notready"), sandbox("s2", "u2", "notready"), sandbox("so", "other"), sandbox("s3", "u3")],
  );
  assert.deepEqual([...plan.adopt.keys()].sort(), ["u1", "u3"]);
  const u1 = plan.adopt.get("u1")!;
  assert.equal(u1.sandbox.id, "s1");
  assert.equal(u1.containers.a!.current.id, "a2");
  assert.equal(u1.containers.a!.previous!.id, "a1");
  assert.equal(u1.containers.b!.current.id, "b0", "an exited newest container is adopted too (its pod machine decides)");
  assert.deepEqual(plan.adopt.get("u3")!.containers, {}, "a never-started container is not adopted");
  assert.deepEqual(plan.removeContainers.sort(), ["a0", "c0", "n0", "o0", "x0"]);
  assert.deepEqual(plan.removeSandboxes.sort(), ["s1-old", "s2", "so"]);
});

test("nothing desired: everything goes", () => {
  const plan = planAdoption([], [app("a", "u", "a", 0)], [sandbox("s", "u")]);
  assert.equal(plan.adopt.size, 0);
  assert.deepEqual(plan.removeContainers, ["a"]);
  assert.deepEqual(plan.removeSandboxes, ["s"]);
});

test("init containers of an adopted pod are kept (their log, their completion)", () => {
  const p = KINDS.Pod.codec.fromPartial({ metadata: { name: "p-u1", namespace: "default", uid: "u1" }, spec: { initContainers: [{ name: "init", image: "img" }], containers: [{ name: "a", image: "img" }] } });
  const plan = planAdoption([p], [app("i0", "u1", "init", 0, "exited"), app("a0", "u1", "a", 0)], [sandbox("s1", "u1")]);
  assert.deepEqual(plan.removeContainers, []);
  assert.equal(plan.adopt.get("u1")!.containers.init!.current.id, "i0");
});

describe("a pod whose sandbox is stopped: finished (adopted as completed) or started over", () => {
  const podOf = (restartPolicy: string, containers: string[], inits: string[] = []): Pod =>
    KINDS.Pod.codec.fromPartial({
      metadata: { name: "p-u1", namespace: "default", uid: "u1" },
      spec: { restartPolicy, initContainers: inits.map((name) => ({ name, image: "img" })), containers: containers.map((name) => ({ name, image: "img" })) },
    });
  const ended = (id: string, name: string, exitCode: number, attempt = 0, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
    ...app(id, "u1", name, attempt, "exited"),
    exitCode,
    finishedAt: new Date(100 + attempt),
    ...extra,
  });
  const startError = (id: string, name: string): ContainerStatus => ({
    ...app(id, "u1", name, 0, "created"),
    exitCode: 127,
    startedAt: undefined,
    error: 'exec: "nope": executable file not found in $PATH',
  });

  const cases: {
    name: string;
    pod: Pod;
    containers: ContainerStatus[];
    sandboxState?: "ready" | "notready";
    finished: boolean;
  }[] = [
    { name: "Never, exit 0", pod: podOf("Never", ["a"]), containers: [ended("a0", "a", 0)], finished: true },
    { name: "Never, exit 1", pod: podOf("Never", ["a"]), containers: [ended("a0", "a", 1)], finished: true },
    { name: "Never, OOMKilled", pod: podOf("Never", ["a"]), containers: [ended("a0", "a", 137, 0, { oomKilled: true })], finished: true },
    { name: "Never, failed to start (StartError)", pod: podOf("Never", ["a"]), containers: [startError("a0", "a")], finished: true },
    { name: "Never, two containers both exited", pod: podOf("Never", ["a", "b"]), containers: [ended("a0", "a", 0), ended("b0", "b", 2)], finished: true },
    { name: "Never, one container still running", pod: podOf("Never", ["a", "b"]), containers: [ended("a0", "a", 0), app("b0", "u1", "b", 0)], finished: false },
    { name: "Never, a container that never ran", pod: podOf("Never", ["a", "b"]), containers: [ended("a0", "a", 0)], finished: false },
    { name: "Never, created but not started (no error)", pod: podOf("Never", ["a"]), containers: [app("a0", "u1", "a", 0, "created")], finished: false },
    { name: "Never, a failed init container (the app never ran)", pod: podOf("Never", ["a"], ["i"]), containers: [ended("i0", "i", 1)], finished: true },
    { name: "Never, init completed, app exited", pod: podOf("Never", ["a"], ["i"]), containers: [ended("i0", "i", 0), ended("a0", "a", 0)], finished: true },
    { name: "Never, init completed, app never ran", pod: podOf("Never", ["a"], ["i"]), containers: [ended("i0", "i", 0)], finished: false },
    { name: "OnFailure, exit 0", pod: podOf("OnFailure", ["a"]), containers: [ended("a0", "a", 0)], finished: true },
    { name: "OnFailure, exit 0 after a failure (newest decides)", pod: podOf("OnFailure", ["a"]), containers: [ended("a0", "a", 1, 0), ended("a1", "a", 0, 1)], finished: true },
    { name: "OnFailure, exit 1 (will restart)", pod: podOf("OnFailure", ["a"]), containers: [ended("a0", "a", 1)], finished: false },
    { name: "OnFailure, exit 0 but OOMKilled (will restart)", pod: podOf("OnFailure", ["a"]), containers: [ended("a0", "a", 0, 0, { oomKilled: true })], finished: false },
    { name: "OnFailure, one exit 0 and one exit 1", pod: podOf("OnFailure", ["a", "b"]), containers: [ended("a0", "a", 0), ended("b0", "b", 1)], finished: false },
    { name: "OnFailure, a failed init container (it restarts)", pod: podOf("OnFailure", ["a"], ["i"]), containers: [ended("i0", "i", 1)], finished: false },
    { name: "Always, exit 0", pod: podOf("Always", ["a"]), containers: [ended("a0", "a", 0)], finished: false },
    { name: "Always, exit 1", pod: podOf("Always", ["a"]), containers: [ended("a0", "a", 1)], finished: false },
    { name: "default policy (Always), exit 0", pod: podOf("", ["a"]), containers: [ended("a0", "a", 0)], finished: false },
  ];

  for (const c of cases) {
    test(`${c.name}: ${c.finished ? "adopted as completed" : "not finished: starts over"}`, () => {
      const byName = new Map<string, ContainerStatus[]>();
      for (const x of [...c.containers].sort((p, q) => q.attempt - p.attempt)) byName.set(x.name, [...(byName.get(x.name) ?? []), x]);
      assert.equal(podFinished(c.pod, byName), c.finished);
      const plan = planAdoption([c.pod], c.containers, [sandbox("s-old", "u1", "notready", 1), sandbox("s1", "u1", "notready", 2)]);
      assert.deepEqual(plan.removeSandboxes.sort(), c.finished ? ["s-old"] : ["s-old", "s1"]);
      if (!c.finished) {
        assert.equal(plan.adopt.size, 0);
        assert.deepEqual(plan.removeContainers.sort(), c.containers.map((x) => x.id).sort(), "everything of it goes");
        return;
      }
      const adopted = plan.adopt.get("u1")!;
      assert.equal(adopted.finished, true);
      assert.equal(adopted.sandbox.id, "s1", "the newest (stopped) sandbox is kept");
      assert.deepEqual(plan.removeContainers, [], "its ended containers are kept (logs, exit codes)");
      const newest = new Map<string, ContainerStatus>();
      for (const x of c.containers) if ((newest.get(x.name)?.attempt ?? -1) < x.attempt) newest.set(x.name, x);
      assert.deepEqual(
        Object.fromEntries(Object.entries(adopted.containers).map(([n, a]) => [n, a.current.id])),
        Object.fromEntries([...newest].map(([n, x]) => [n, x.id])),
      );
    });
  }

  test("a running sandbox wins: the pod is adopted running, not finished", () => {
    const p = podOf("Never", ["a"]);
    const plan = planAdoption([p], [ended("a0", "a", 0)], [sandbox("s1", "u1", "ready", 1), sandbox("s2", "u1", "notready", 2)]);
    assert.equal(plan.adopt.get("u1")!.sandbox.id, "s1");
    assert.equal(plan.adopt.get("u1")!.finished, undefined);
    assert.deepEqual(plan.removeSandboxes, ["s2"]);
  });

  test("a finished pod without any sandbox left starts over (nothing to adopt it by)", () => {
    const plan = planAdoption([podOf("Never", ["a"])], [ended("a0", "a", 0)], []);
    assert.equal(plan.adopt.size, 0);
    assert.deepEqual(plan.removeContainers, ["a0"]);
  });
});

describe("pods without a sandbox (the only container holds the network, its IP in its label)", () => {
  const own = (c: ContainerStatus, ip: string): ContainerStatus => ({ ...c, podIP: ip });
  const withPolicy = (uid: string, restartPolicy: string): Pod =>
    KINDS.Pod.codec.fromPartial({ metadata: { name: `p-${uid}`, namespace: "default", uid }, spec: { restartPolicy, containers: [{ name: "a", image: "img" }] } });

  test("adopted with the IP from its container: newest and previous kept, nothing orphaned", () => {
    const plan = planAdoption(
      [pod("u1", "a")],
      [own(app("a0", "u1", "a", 0, "exited"), "10.244.16.5"), own(app("a1", "u1", "a", 1, "exited"), "10.244.16.5"), own(app("a2", "u1", "a", 2), "10.244.16.5")],
      [],
    );
    const u1 = plan.adopt.get("u1")!;
    assert.equal(u1.sandbox.id, "", "no sandbox container");
    assert.equal(u1.sandbox.ip, "10.244.16.5");
    assert.equal(u1.sandbox.state, "ready");
    assert.deepEqual(u1.sandbox.createdAt, new Date(1), "the pod started with its first container");
    assert.equal(u1.finished, undefined);
    assert.equal(u1.containers.a!.current.id, "a2");
    assert.equal(u1.containers.a!.previous!.id, "a1");
    assert.deepEqual(plan.removeContainers, ["a0"]);
    assert.deepEqual(plan.removeSandboxes, []);
  });

  test("an exited container of a pod that restarts is adopted (its machine restarts it, same IP); a pod that had finished is adopted finished", () => {
    const crashed = planAdoption([withPolicy("u1", "Always")], [own(app("a0", "u1", "a", 0, "exited"), "10.244.16.6")], []);
    assert.equal(crashed.adopt.get("u1")!.finished, undefined);
    assert.equal(crashed.adopt.get("u1")!.containers.a!.current.id, "a0");
    const done = planAdoption([withPolicy("u1", "Never")], [own(app("a0", "u1", "a", 0, "exited"), "10.244.16.6")], []);
    assert.equal(done.adopt.get("u1")!.finished, true);
    assert.equal(done.adopt.get("u1")!.sandbox.ip, "10.244.16.6");
    assert.deepEqual(done.removeContainers, []);
  });

  test("containers of a pod not bound here, or never started, go; a container without IP and without sandbox goes", () => {
    const plan = planAdoption(
      [pod("u1", "a"), pod("u2", "a")],
      [own(app("o0", "other", "a", 0), "10.244.16.7"), own(app("n0", "u1", "a", 0, "created"), "10.244.16.8"), app("x0", "u2", "a", 0)],
      [],
    );
    assert.deepEqual(plan.removeContainers.sort(), ["n0", "o0", "x0"]);
    assert.deepEqual([...plan.adopt.keys()], ["u1"], "u1 is adopted with its IP and starts a new container");
    assert.deepEqual(plan.adopt.get("u1")!.containers, {});
    assert.equal(plan.adopt.get("u1")!.sandbox.ip, "10.244.16.8");
  });
});
