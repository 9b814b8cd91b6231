import { KINDS, type Pod } from "@navarch/api";
import { REPORTED_BY_ANNOTATION } from "@navarch/store";
import assert from "node:assert/strict";
import { test } from "node:test";
import { reconcile } from "./reconcile.js";

const pod = (node: string, uid = "u1", phase = "Pending"): Pod =>
  KINDS.Pod.codec.fromPartial({ metadata: { name: "p", namespace: "default", uid }, spec: { nodeName: node }, status: { phase } });
const report = (node: string, uid = "u1", phase = "Running"): Pod =>
  KINDS.Pod.codec.fromPartial({ metadata: { name: "p", namespace: "default", uid, annotations: { [REPORTED_BY_ANNOTATION]: node } }, status: { phase, podIP: "172.18.0.5" } });

test("a report from the pod's node is folded into its status", () => {
  const d = reconcile(pod("n1"), report("n1"));
  assert.equal(d.type, "fold");
  assert.equal(d.type === "fold" && d.status.podIP, "172.18.0.5");
});

test("an equal status is not written again", () => {
  const p = pod("n1");
  p.status = report("n1").status;
  assert.equal(reconcile(p, report("n1")).type, "none");
});

test("a report from another node is refused (fencing)", () => {
  const d = reconcile(pod("n2"), report("n1"));
  assert.equal(d.type, "none");
  assert.match(d.type === "none" ? d.why : "", /bound to "n2"/);
});

test("a report for an earlier pod of the same name is refused", () => {
  assert.equal(reconcile(pod("n1", "u2"), report("n1", "u1")).type, "none");
});

test("a report for an unbound pod is refused", () => {
  assert.equal(reconcile(pod(""), report("n1")).type, "none");
});

test("the report of a deleted pod is dropped", () => {
  assert.equal(reconcile(undefined, report("n1")).type, "dropReport");
});

test("the scheduler's PodScheduled condition is kept over the reported one", () => {
  const p = pod("n1");
  const scheduled = { type: "PodScheduled", status: "True", reason: "", message: "", lastTransitionTime: "2025-01-01T00:00:00Z" };
  p.status!.conditions = [KINDS.Pod.codec.fromPartial({ status: { conditions: [scheduled] } }).status!.conditions[0]!];
  const r = report("n1");
  r.status!.conditions = KINDS.Pod.codec.fromPartial({
    status: { conditions: [{ type: "Ready", status: "True" }, { type: "PodScheduled", status: "True", lastTransitionTime: "2025-01-01T00:00:05Z" }] },
  }).status!.conditions;
  const d = reconcile(p, r);
  assert.equal(d.type, "fold");
  const conds = d.type === "fold" ? d.status.conditions : [];
  assert.deepEqual(conds.map((c) => [c.type, c.lastTransitionTime]), [["Ready", ""], ["PodScheduled", "2025-01-01T00:00:00Z"]]);
  assert.equal(d.type === "fold" && d.status.podIP, "172.18.0.5");
});

test("a report without PodScheduled keeps the pod's (nothing to write if the rest is equal)", () => {
  const p = pod("n1");
  const r = report("n1");
  p.status = KINDS.Pod.codec.fromPartial({ status: { ...r.status, conditions: [{ type: "PodScheduled", status: "True" }] } }).status;
  assert.equal(reconcile(p, r).type, "none");
});
