import assert from "node:assert/strict";
import { test } from "node:test";
import { scheduledMessage, unschedulableMessage, NO_NODES } from "./messages.js";
import { findPlacement, PROFILES, type Placed } from "./stack.js";
import { nodeInfo, podInfo } from "./testing.js";

test("reasons are counted and sorted as kube-scheduler sorts them (as strings)", () => {
  const reasons = new Map([
    ["Insufficient memory", 2],
    ["node(s) had untolerated taint {dedicated: db}", 1],
  ]);
  assert.equal(unschedulableMessage(3, reasons), "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 Insufficient memory.");
});

test("one reason", () => {
  assert.equal(unschedulableMessage(2, new Map([["Insufficient cpu", 2]])), "0/2 nodes are available: 2 Insufficient cpu.");
});

test("string order, like Go's sort.Strings: 10 sorts before 2", () => {
  const m = unschedulableMessage(12, new Map([["Insufficient cpu", 2], ["node(s) were unschedulable", 10]]));
  assert.equal(m, "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu.");
});

test("no nodes at all", () => {
  assert.equal(unschedulableMessage(0, new Map()), NO_NODES);
});

test("a real pipeline result reads as Kubernetes says it", () => {
  const nodes = [
    nodeInfo("a", { memory: "1Gi" }),
    nodeInfo("b", { memory: "1Gi" }),
    nodeInfo("c", { memory: "64Gi", taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] }),
  ];
  const r = findPlacement({ pod: podInfo("big", { memory: "2Gi" }), nodes, start: 0, profile: PROFILES.spread });
  assert.equal(r.fit, false);
  assert.equal(!r.fit && unschedulableMessage(r.total, r.reasons), "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 Insufficient memory.");
});

test("the scheduled message names the node, the feasible count and the winner's scores", () => {
  const nodes = [nodeInfo("a"), nodeInfo("b", { unschedulable: true })];
  const r = findPlacement({ pod: podInfo("p", { cpu: "1", memory: "2Gi" }), nodes, start: 0, profile: PROFILES.spread }) as Placed;
  assert.equal(
    scheduledMessage("default", "p", r),
    "Successfully assigned default/p to a (1/2 nodes feasible; score 675 = least-allocated 75x1 + balanced-allocation 100x1 + owner-spread 100x2 + node-affinity 0x2 + taint-toleration 100x3)",
  );
});
