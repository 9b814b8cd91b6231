import { KINDS, type Pod } from "@navarch/api";
import type { ContainerStatus, Sandbox } from "@navarch/runtime";
import assert from "node:assert/strict";
import { test } from "node:test";
import { planAdoption } from "./adoption.js";

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
