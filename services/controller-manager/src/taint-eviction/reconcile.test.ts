import { KINDS, TAINT_NOT_READY, TAINT_UNREACHABLE, type Node, type Pod, type Taint, type Toleration } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { reconcile } from "./reconcile.js";

const now = new Date("2026-11-22T10:00:10Z");
const UNREACHABLE = TAINT_UNREACHABLE;
const NOT_READY = TAINT_NOT_READY;
const taint = (key: string, timeAdded = "2026-11-22T10:00:09Z", effect = "NoExecute", value = ""): Taint => ({ key, value, effect, timeAdded });
const node = (...taints: Taint[]): Node => KINDS.Node.codec.fromPartial({ metadata: { name: "n1" }, spec: { taints } });
const tol = (key: string, seconds?: number, operator = "Exists", effect = "NoExecute", value = ""): Toleration => ({ key, operator, value, effect, tolerationSeconds: seconds });
const pod = (tolerations: Toleration[] = [], extra: { nodeName?: string; deleting?: boolean } = {}): Pod =>
  KINDS.Pod.codec.fromPartial({
    metadata: { name: "p", namespace: "default", uid: "u1", deletionTimestamp: extra.deleting ? "2026-11-22T10:00:00Z" : "" },
    spec: { nodeName: extra.nodeName ?? "n1", tolerations, containers: [{ name: "c", image: "i" }] },
  });
const DEFAULTS = [tol(NOT_READY, 2), tol(UNREACHABLE, 2)];

interface Row {
  name: string;
  pod: Pod | undefined;
  node: Node | undefined;
  want: string;
}

const rows: Row[] = [
  { name: "no pod", pod: undefined, node: node(), want: "none" },
  { name: "not bound", pod: pod([], { nodeName: "" }), node: node(taint(UNREACHABLE)), want: "none" },
  { name: "node gone", pod: pod(), node: undefined, want: "none" },
  { name: "no taints", pod: pod(), node: node(), want: "none" },
  { name: "only a NoSchedule taint", pod: pod(), node: node(taint("dedicated", undefined, "NoSchedule")), want: "none" },
  { name: "unreachable, not tolerated: force at once", pod: pod(), node: node(taint(UNREACHABLE)), want: "evict force" },
  { name: "not-ready, not tolerated: graceful at once", pod: pod(), node: node(taint(NOT_READY)), want: "evict graceful" },
  { name: "unreachable, tolerated 2 s, added 1 s ago: wait until +2 s", pod: pod(DEFAULTS), node: node(taint(UNREACHABLE)), want: "wait 2026-11-22T10:00:11.000Z" },
  { name: "unreachable, tolerated 2 s, added 2 s ago: force now", pod: pod(DEFAULTS), node: node(taint(UNREACHABLE, "2026-11-22T10:00:08Z")), want: "evict force" },
  { name: "tolerated without seconds: stays", pod: pod([tol(UNREACHABLE)]), node: node(taint(UNREACHABLE, "2026-11-22T09:00:00Z")), want: "none" },
  { name: "tolerate everything (empty key, Exists): stays", pod: pod([tol("")]), node: node(taint(UNREACHABLE, "2026-11-22T09:00:00Z"), taint("x")), want: "none" },
  { name: "one tolerated taint, one not: at once", pod: pod(DEFAULTS), node: node(taint(UNREACHABLE), taint("maintenance")), want: "evict force" },
  { name: "the earliest deadline over two taints", pod: pod([tol(UNREACHABLE, 30), tol("maintenance", 35)]), node: node(taint(UNREACHABLE), taint("maintenance", "2026-11-22T10:00:00Z")), want: "wait 2026-11-22T10:00:35.000Z" },
  { name: "tolerationSeconds 0: at once", pod: pod([tol(UNREACHABLE, 0)]), node: node(taint(UNREACHABLE)), want: "evict force" },
  { name: "the smallest of several matching tolerations", pod: pod([tol(UNREACHABLE, 60), tol("", 3)]), node: node(taint(UNREACHABLE)), want: "wait 2026-11-22T10:00:12.000Z" },
  { name: "terminating on a reachable node: left to the agent", pod: pod([], { deleting: true }), node: node(taint("maintenance")), want: "none" },
  { name: "terminating on an unreachable node: force", pod: pod([], { deleting: true }), node: node(taint(UNREACHABLE)), want: "evict force" },
  { name: "a taint without timeAdded counts from when it was first seen", pod: pod(DEFAULTS), node: node(taint(UNREACHABLE, "")), want: "wait 2026-11-22T10:00:12.000Z" },
];

for (const row of rows) {
  test(`taint eviction: ${row.name}`, () => {
    const plan = reconcile(row.pod, row.node, now);
    const got = plan.type === "evict" ? `evict ${plan.force ? "force" : "graceful"}` : plan.type === "wait" ? `wait ${plan.until.toISOString()}` : "none";
    assert.equal(got, row.want, JSON.stringify(plan));
  });
}
