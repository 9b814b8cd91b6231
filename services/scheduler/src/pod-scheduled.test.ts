import assert from "node:assert/strict";
import { test } from "node:test";
import { boundPod, unschedulablePod, withCondition, podScheduledCondition } from "./pod-scheduled.js";
import { makePod } from "./testing.js";

const T0 = new Date("2025-01-01T00:00:00Z");
const T1 = new Date("2025-01-01T00:01:00Z");

test("binding sets spec.nodeName and PodScheduled=True", () => {
  const p = boundPod(makePod("p"), "n1", T0);
  assert.equal(p.spec?.nodeName, "n1");
  assert.deepEqual(p.status?.conditions.map((c) => [c.type, c.status, c.lastTransitionTime]), [["PodScheduled", "True", "2025-01-01T00:00:00Z"]]);
});

test("binding a pod that was unschedulable flips the condition and its transition time", () => {
  const before = unschedulablePod(makePod("p"), "0/1 nodes are available: 1 Insufficient cpu.", T0)!;
  const p = boundPod(before, "n1", T1);
  assert.deepEqual(p.status?.conditions.map((c) => [c.status, c.reason, c.message, c.lastTransitionTime]), [["True", "", "", "2025-01-01T00:01:00Z"]]);
});

test("unschedulable: PodScheduled=False, reason Unschedulable, the message; nothing to write when it already says so", () => {
  const msg = "0/2 nodes are available: 2 Insufficient memory.";
  const p = unschedulablePod(makePod("p"), msg, T0)!;
  const c = p.status!.conditions[0]!;
  assert.deepEqual([c.type, c.status, c.reason, c.message], ["PodScheduled", "False", "Unschedulable", msg]);
  assert.equal(p.status?.phase, "Pending");
  assert.equal(unschedulablePod(p, msg, T1), undefined);
  // A new message keeps the transition time (the status did not change).
  const q = unschedulablePod(p, "0/3 nodes are available: 3 Insufficient memory.", T1)!;
  assert.equal(q.status!.conditions[0]!.lastTransitionTime, "2025-01-01T00:00:00Z");
});

test("withCondition keeps the other conditions in place", () => {
  const others = [
    { ...podScheduledCondition("True", "", "", T0), type: "Ready" },
    podScheduledCondition("False", "Unschedulable", "x", T0),
    { ...podScheduledCondition("True", "", "", T0), type: "Initialized" },
  ];
  const out = withCondition(others, podScheduledCondition("True", "", "", T1));
  assert.deepEqual(out.map((c) => `${c.type}=${c.status}`), ["Ready=True", "PodScheduled=True", "Initialized=True"]);
});
