import { KINDS, type Lease, type Node } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { READY_REASONS, reconcile } from "./reconcile.js";

const now = new Date("2026-11-22T10:00:10Z");
const node = (ready?: string, reason?: string): Node =>
  KINDS.Node.codec.fromPartial({ metadata: { name: "n1" }, status: { conditions: ready ? [{ type: "Ready", status: ready, reason }] : [] } });
const lease = (renewTime: string): Lease => KINDS.Lease.codec.fromPartial({ metadata: { name: "n1" }, spec: { holderIdentity: "n1", renewTime } });

test("a fresh heartbeat makes the node Ready and rechecks at its expiry", () => {
  const plan = reconcile(node(), lease("2026-11-22T10:00:09Z"), now, 4000);
  assert.equal(plan.condition?.status, "True");
  assert.equal(plan.condition?.reason, READY_REASONS.ready);
  assert.equal(plan.recheckAt?.toISOString(), "2026-11-22T10:00:13.000Z");
});

test("a stale heartbeat makes it Unknown", () => {
  const plan = reconcile(node("True", READY_REASONS.ready), lease("2026-11-22T10:00:05Z"), now, 4000);
  assert.equal(plan.condition?.status, "Unknown");
  assert.equal(plan.condition?.reason, READY_REASONS.stale);
  assert.equal(plan.recheckAt, undefined);
});

test("no heartbeat ever: Unknown, never updated", () => {
  assert.equal(reconcile(node(), undefined, now, 4000).condition?.reason, READY_REASONS.never);
});

test("no write when the condition already holds", () => {
  const plan = reconcile(node("True", READY_REASONS.ready), lease("2026-11-22T10:00:09Z"), now, 4000);
  assert.equal(plan.condition, undefined);
  assert.ok(plan.recheckAt);
});
