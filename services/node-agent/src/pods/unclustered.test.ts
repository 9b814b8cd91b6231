import type { ContainerStatus } from "@navarch/runtime";
import assert from "node:assert/strict";
import { test } from "node:test";
import { planUnclustered } from "./unclustered.js";

function container(id: string, uid: string): ContainerStatus {
  return {
    id,
    pod: { namespace: "default", name: "p", uid, node: "n1" },
    name: "app",
    role: "app",
    attempt: 0,
    image: "navarch/busybox:1",
    imageID: "",
    state: "running",
    exitCode: 0,
    oomKilled: false,
    error: "",
    createdAt: new Date(0),
  };
}

test("an unclustered container is replaced only when its pod uid is one of this node's pods; anything else is left", () => {
  const plan = planUnclustered([container("a", "u1"), container("b", "u2"), container("c", ""), container("d", "u1")], new Set(["u1"]));
  assert.deepEqual(plan.replace.map((c) => c.id), ["a", "d"]);
  assert.deepEqual(plan.leave.map((c) => c.id), ["b", "c"], "an unknown or missing uid may be another cluster's");
});
