import { KINDS, type Lease, type Node, type Taint } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from "./reasons.js";
import { applyPlan, READY_REASONS, reconcile } from "./reconcile.js";

const now = new Date("2026-11-22T10:00:10Z");
const GRACE = 4000;
const node = (ready?: string, reason?: string, taints: Partial<Taint>[] = [], created = "2026-11-22T09:00:00Z"): Node =>
  KINDS.Node.codec.fromPartial({
    metadata: { name: "n1", creationTimestamp: created },
    spec: { taints },
    status: { conditions: ready ? [{ type: "Ready", status: ready, reason, lastTransitionTime: "2026-11-22T09:30:00Z" }] : [] },
  });
const lease = (renewTime: string, leaseDurationSeconds = 4): Lease =>
  KINDS.Lease.codec.fromPartial({ metadata: { name: "n1" }, spec: { holderIdentity: "n1", renewTime, leaseDurationSeconds } });
const FRESH = lease("2026-11-22T10:00:09Z");
const STALE = lease("2026-11-22T10:00:05Z");
const unreachable = { key: TAINT_UNREACHABLE, effect: "NoExecute", timeAdded: "2026-11-22T10:00:01.250Z" };
const notReady = { key: TAINT_NOT_READY, effect: "NoExecute", timeAdded: "2026-11-22T10:00:01Z" };
const dedicated = { key: "dedicated", value: "db", effect: "NoSchedule" };

interface Row {
  name: string;
  node: Node;
  lease: Lease | undefined;
  /** Ready status written, or "-" for no write. */
  ready: string;
  reason?: string;
  /** Taint keys afterwards (in order), or "-" for no change. */
  taints: string[] | "-";
  event?: string;
  recheck?: string;
}

const rows: Row[] = [
  { name: "fresh heartbeat, new node: Ready, rechecked at the lease's expiry", node: node(), lease: FRESH, ready: "True", reason: READY_REASONS.ready, taints: "-", event: "NodeReady", recheck: "2026-11-22T10:00:13.000Z" },
  { name: "fresh heartbeat, already Ready: no write", node: node("True", READY_REASONS.ready), lease: FRESH, ready: "-", taints: "-", recheck: "2026-11-22T10:00:13.000Z" },
  { name: "stale heartbeat: Unknown and the unreachable taint", node: node("True", READY_REASONS.ready, [dedicated]), lease: STALE, ready: "Unknown", reason: READY_REASONS.stale, taints: ["dedicated", TAINT_UNREACHABLE], event: "NodeNotReady" },
  { name: "stale, already Unknown and tainted: nothing", node: node("Unknown", READY_REASONS.stale, [unreachable]), lease: STALE, ready: "-", taints: "-" },
  { name: "stale, Unknown but the taint was removed by hand: tainted again", node: node("Unknown", READY_REASONS.stale), lease: STALE, ready: "-", taints: [TAINT_UNREACHABLE] },
  { name: "heartbeat back: Ready, the taint goes, other taints stay", node: node("Unknown", READY_REASONS.stale, [dedicated, unreachable]), lease: FRESH, ready: "True", reason: READY_REASONS.ready, taints: ["dedicated"], event: "NodeReady", recheck: "2026-11-22T10:00:13.000Z" },
  { name: "never heartbeated, older than the grace: Unknown, unreachable", node: node(), lease: undefined, ready: "Unknown", reason: READY_REASONS.never, taints: [TAINT_UNREACHABLE], event: "NodeNotReady" },
  { name: "never heartbeated, registered just now: wait for the grace", node: node(undefined, undefined, [], "2026-11-22T10:00:08Z"), lease: undefined, ready: "-", taints: "-", recheck: "2026-11-22T10:00:12.000Z" },
  { name: "never -> stale: same status, new reason, no event", node: node("Unknown", READY_REASONS.never, [unreachable]), lease: STALE, ready: "Unknown", reason: READY_REASONS.stale, taints: "-" },
  { name: "Ready=False from the node itself, heartbeat fresh: kept, not-ready taint", node: node("False", "ContainerRuntimeNotReady"), lease: FRESH, ready: "-", taints: [TAINT_NOT_READY], recheck: "2026-11-22T10:00:13.000Z" },
  { name: "Ready=False, then the heartbeat stops: unreachable replaces not-ready", node: node("False", "ContainerRuntimeNotReady", [notReady]), lease: STALE, ready: "Unknown", reason: READY_REASONS.stale, taints: [TAINT_UNREACHABLE], event: "NodeNotReady" },
  { name: "a lease that says it lasts longer than the grace: still fresh", node: node("True", READY_REASONS.ready), lease: lease("2026-11-22T10:00:05Z", 40), ready: "-", taints: "-", recheck: "2026-11-22T10:00:45.000Z" },
  { name: "a lease shorter than the grace: the grace counts", node: node("True", READY_REASONS.ready), lease: lease("2026-11-22T10:00:09Z", 1), ready: "-", taints: "-", recheck: "2026-11-22T10:00:13.000Z" },
  { name: "a NoSchedule taint with the same key is not ours", node: node("True", READY_REASONS.ready, [{ key: TAINT_UNREACHABLE, effect: "NoSchedule" }]), lease: FRESH, ready: "-", taints: "-", recheck: "2026-11-22T10:00:13.000Z" },
];

for (const row of rows) {
  test(`node lifecycle: ${row.name}`, () => {
    const plan = reconcile(row.node, row.lease, now, GRACE);
    assert.equal(plan.condition?.status ?? "-", row.ready, "Ready status");
    if (row.reason) assert.equal(plan.condition?.reason, row.reason);
    assert.deepEqual(plan.taints ? plan.taints.map((t) => t.key) : "-", row.taints, "taints");
    assert.equal(plan.event?.reason, row.event, "event");
    assert.equal(plan.recheckAt?.toISOString(), row.recheck, "recheck");
  });
}

test("a taint that stays keeps its timeAdded; a new one is stamped now, to the millisecond", () => {
  const kept = reconcile(node("Unknown", READY_REASONS.never, [unreachable]), STALE, now, GRACE);
  assert.equal(kept.taints, undefined);
  const added = reconcile(node("True", READY_REASONS.ready), STALE, new Date("2026-11-22T10:00:10.375Z"), GRACE);
  assert.deepEqual(added.taints, [{ key: TAINT_UNREACHABLE, value: "", effect: "NoExecute", timeAdded: "2026-11-22T10:00:10.375Z" }]);
});

test("the event names the node; the transition time moves only when the status does", () => {
  const down = reconcile(node("True", READY_REASONS.ready), STALE, now, GRACE);
  assert.equal(down.event?.message, "Node n1 status is now: NodeNotReady");
  assert.equal(down.condition?.lastTransitionTime, "2026-11-22T10:00:10Z");
  const reason = reconcile(node("Unknown", READY_REASONS.never), STALE, now, GRACE);
  assert.equal(reason.condition?.lastTransitionTime, "2026-11-22T09:30:00Z");
});

test("applyPlan writes the condition and the taints and keeps the rest", () => {
  const n = node("True", READY_REASONS.ready, [dedicated]);
  n.status!.conditions.push(KINDS.Node.codec.fromPartial({ status: { conditions: [{ type: "MemoryPressure", status: "False" }] } }).status!.conditions[0]!);
  n.status!.capacity = { cpu: "2" };
  const next = applyPlan(n, reconcile(n, STALE, now, GRACE));
  assert.deepEqual(next.status!.conditions.map((c) => `${c.type}=${c.status}`), ["MemoryPressure=False", "Ready=Unknown"]);
  assert.deepEqual(next.spec!.taints.map((t) => t.key), ["dedicated", TAINT_UNREACHABLE]);
  assert.deepEqual(next.status!.capacity, { cpu: "2" });
  assert.deepEqual(n.spec!.taints.map((t) => t.key), ["dedicated"], "the input is not changed");
});
