// The taint eviction controller's plan for one pod (Kubernetes' NoExecute taint manager), pure:
//
//   - A pod bound to a node with a NoExecute taint it does not tolerate is evicted at once.
//   - Tolerated for tolerationSeconds: evicted when that many seconds have passed since the
//     taint's timeAdded (the earliest such deadline over the node's NoExecute taints). Counting
//     from timeAdded, not from when this controller noticed, keeps the deadline across restarts
//     and leader changes of the controller-manager.
//   - Tolerated without seconds: it stays.
//   - Eviction is a graceful delete (the node's agent stops the containers within the grace
//     period and then deletes the pod), except on an unreachable node: its agent cannot confirm,
//     so the pod is force-deleted. That is safe only because an agent that lost its lease has
//     fenced itself - stopped its containers - before the toleration runs out (docs/adr/0006).
//   - A pod already terminating on a reachable node is left to its agent.
import { TAINT_UNREACHABLE, toleratedSeconds, type Node, type Pod, type Taint } from "@navarch/api";
import { NO_EXECUTE } from "./reasons.js";

export type EvictionPlan =
  | { type: "none"; why: string }
  /** Look again at this time (a toleration runs out then). */
  | { type: "wait"; until: Date; taint: string }
  | { type: "evict"; force: boolean; taint: string };

/** When a taint was added, in ms; `fallback` (when this controller first saw it) if unset or unreadable. */
export function taintAddedAt(taint: Taint, fallback: number): number {
  const t = Date.parse(taint.timeAdded);
  return Number.isNaN(t) ? fallback : t;
}

export function reconcile(pod: Pod | undefined, node: Node | undefined, now: Date, firstSeen: (taint: Taint) => number = () => now.getTime()): EvictionPlan {
  if (!pod) return { type: "none", why: "pod gone" };
  const nodeName = pod.spec?.nodeName ?? "";
  if (!nodeName) return { type: "none", why: "not bound" };
  if (!node) return { type: "none", why: `node ${nodeName} not found` };
  const taints = (node.spec?.taints ?? []).filter((t) => t.effect === NO_EXECUTE);
  if (taints.length === 0) return { type: "none", why: "no NoExecute taints" };
  const unreachable = taints.some((t) => t.key === TAINT_UNREACHABLE);
  if (pod.metadata?.deletionTimestamp && !unreachable) return { type: "none", why: "terminating; its node agent finishes it" };

  const tolerations = pod.spec?.tolerations ?? [];
  let earliest: { at: number; taint: string } | undefined;
  for (const taint of taints) {
    const seconds = toleratedSeconds(tolerations, taint);
    if (seconds === Infinity) continue;
    const at = seconds === 0 ? -Infinity : taintAddedAt(taint, firstSeen(taint)) + seconds * 1000;
    if (!earliest || at < earliest.at) earliest = { at, taint: taint.key };
  }
  if (!earliest) return { type: "none", why: "every NoExecute taint tolerated without a time limit" };
  if (earliest.at > now.getTime()) return { type: "wait", until: new Date(earliest.at), taint: earliest.taint };
  return { type: "evict", force: unreachable, taint: earliest.taint };
}
