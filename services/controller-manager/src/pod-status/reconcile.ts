// The pod status folder's plan: Pod.status is what the node agent of the pod's node last
// reported, for this very pod (same uid). A report from another node (a stale agent after the
// pod moved or was replaced) or for an earlier pod of the same name is refused: fencing by
// identity, so a stale writer cannot resurrect what the control plane changed.
// PodScheduled is the scheduler's fact (it wrote it when it bound the pod): the Pod's own
// condition is kept over the one in the report.
//
// A pod whose node is not ready (its Node's Ready condition is Unknown or False: the heartbeat
// stopped, or the node says so) cannot be vouched for: its last report is stale. Its Ready and
// ContainersReady conditions that say True are folded as False (reason NodeNotReady), at once, so
// Services stop routing to it long before it is evicted - Kubernetes' MarkPodsNotReady. The report
// itself is untouched: once the node is Ready again its report wins again. A node without a Ready
// condition yet (just registered) or without a Node object is taken at its agent's word.
import { KINDS, type Condition, type Node, type Pod, type PodStatus } from "@navarch/api";
import { REPORTED_BY_ANNOTATION, timestamp } from "@navarch/store";
import { sameData } from "../same-data.js";
import { MESSAGE_NODE_NOT_READY, READINESS_CONDITIONS, REASON_NODE_NOT_READY } from "./reasons.js";

export type Decision =
  | { type: "none"; why: string }
  /** `markedNotReady`: this write turns the pod's Ready from True to False because of its node. */
  | { type: "fold"; status: PodStatus; markedNotReady: boolean }
  | { type: "dropReport" };

/**
 * Statuses as decoded from the store have every field, and the plan builds on those, so a
 * structural comparison decides "up to date" without serialising both (once per report).
 */
function sameStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return sameData(a ?? EMPTY_STATUS, b ?? EMPTY_STATUS);
}

const EMPTY_STATUS: PodStatus = KINDS.Pod.codec.fromPartial({ status: {} }).status!;

/** The node's Ready status says the pods on it cannot be vouched for (Unknown or False; not absent). */
export function nodeNotReady(node: Node | undefined): boolean {
  const ready = node?.status?.conditions.find((c) => c.type === "Ready");
  return ready !== undefined && ready.status !== "True";
}

/** `node` is the Node the pod is bound to (undefined when there is none); `now` stamps a transition. */
export function reconcile(pod: Pod | undefined, report: Pod | undefined, node: Node | undefined, now: Date): Decision {
  if (!report) return { type: "none", why: "no report" };
  if (!pod) return { type: "dropReport" };
  if (report.metadata?.uid !== pod.metadata?.uid) return { type: "none", why: "report is for another pod of that name" };
  const reporter = report.metadata?.annotations?.[REPORTED_BY_ANNOTATION] ?? "";
  if (!pod.spec?.nodeName || reporter !== pod.spec.nodeName) {
    return { type: "none", why: `report from node "${reporter}", pod is bound to "${pod.spec?.nodeName ?? ""}"` };
  }
  const reported = keepPodScheduled(report.status, pod.status);
  const status = node?.metadata?.name === pod.spec.nodeName && nodeNotReady(node) ? markNotReady(reported, pod.status, now) : reported;
  if (sameStatus(status, pod.status)) return { type: "none", why: "up to date" };
  const markedNotReady = readyStatus(pod.status) === "True" && readyStatus(reported) === "True" && readyStatus(status) === "False";
  return { type: "fold", status, markedNotReady };
}

function readyStatus(status: PodStatus | undefined): string | undefined {
  return status?.conditions.find((c) => c.type === "Ready")?.status;
}

/**
 * Ready and ContainersReady that say True become False with NodeNotReady. The transition time is
 * the pod's own when its condition already said False (nothing transitions; a second pass writes
 * nothing), else `now`. Conditions already False keep their reason, as Kubernetes does.
 */
function markNotReady(status: PodStatus, current: PodStatus | undefined, now: Date): PodStatus {
  const conditions = status.conditions.map((c): Condition => {
    if (!READINESS_CONDITIONS.includes(c.type) || c.status !== "True") return c;
    const before = current?.conditions.find((x) => x.type === c.type);
    const lastTransitionTime = before && before.status === "False" ? before.lastTransitionTime : timestamp(now);
    return { ...c, status: "False", reason: REASON_NODE_NOT_READY, message: MESSAGE_NODE_NOT_READY, lastTransitionTime };
  });
  return { ...status, conditions };
}

/** The reported status with the pod's PodScheduled condition (if it has one) in place of the report's. */
function keepPodScheduled(reported: PodStatus | undefined, current: PodStatus | undefined): PodStatus {
  const status = reported ?? KINDS.Pod.codec.fromPartial({ status: {} }).status!;
  const scheduled = current?.conditions?.find((c) => c.type === "PodScheduled");
  if (!scheduled) return status;
  const conditions = status.conditions.filter((c) => c.type !== "PodScheduled");
  const at = status.conditions.findIndex((c) => c.type === "PodScheduled");
  conditions.splice(at < 0 ? conditions.length : at, 0, scheduled);
  return { ...status, conditions };
}
