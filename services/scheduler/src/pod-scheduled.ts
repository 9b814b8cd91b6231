// The Pod writes of the scheduler, both compare-and-swap on the revision the decision was made
// from: the binding (spec.nodeName plus PodScheduled=True) and the PodScheduled=False condition of
// a pod that fits nowhere. The scheduler is the one writer of PodScheduled while a pod is unbound;
// the pod status folder keeps the condition once the node agent reports.
import { ConflictError, PodStatus, type Condition, type Pod } from "@navarch/api";
import { timestamp, type ResourceStore } from "@navarch/store";

export const POD_SCHEDULED = "PodScheduled";
export const UNSCHEDULABLE_REASON = "Unschedulable";

export type BindOutcome =
  /** Written: the stored pod. */
  | { type: "bound"; pod: Pod }
  /** Someone else bound it first (another scheduler, or a client setting spec.nodeName). */
  | { type: "alreadyBound"; node: string }
  /** Deleted, replaced by another pod of the name, or being deleted. */
  | { type: "gone" }
  /** Changed since we looked, still unbound: decide again from this version. */
  | { type: "changed"; pod: Pod }
  | { type: "failed"; error: unknown };

/** The conditions with `next` in place of the one of its type; the transition time moves only with the status. */
export function withCondition(conditions: readonly Condition[] | undefined, next: Condition): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  if (i < 0) return [...list, next];
  const old = list[i]!;
  list[i] = old.status === next.status && old.lastTransitionTime ? { ...next, lastTransitionTime: old.lastTransitionTime } : next;
  return list;
}

export function podScheduledCondition(status: "True" | "False", reason: string, message: string, now: Date): Condition {
  return {
    type: POD_SCHEDULED,
    status,
    reason,
    message,
    lastTransitionTime: timestamp(now),
    lastUpdateTime: "",
    lastHeartbeatTime: "",
    lastProbeTime: "",
    observedGeneration: 0,
  };
}

/** The pod bound to `nodeName` (pure). */
export function boundPod(pod: Pod, nodeName: string, now: Date): Pod {
  const status = pod.status ?? PodStatus.fromPartial({ phase: "Pending" });
  return {
    ...pod,
    spec: { ...pod.spec!, nodeName },
    status: { ...status, conditions: withCondition(status.conditions, podScheduledCondition("True", "", "", now)) },
  };
}

/** The pod with PodScheduled=False/Unschedulable and `message`, or undefined if it already says so (pure). */
export function unschedulablePod(pod: Pod, message: string, now: Date): Pod | undefined {
  const current = pod.status?.conditions?.find((c) => c.type === POD_SCHEDULED);
  if (current?.status === "False" && current.reason === UNSCHEDULABLE_REASON && current.message === message) return undefined;
  const status = pod.status ?? PodStatus.fromPartial({ phase: "Pending" });
  return {
    ...pod,
    status: { ...status, phase: status.phase || "Pending", conditions: withCondition(status.conditions, podScheduledCondition("False", UNSCHEDULABLE_REASON, message, now)) },
  };
}

/** Why a pod read fresh from the store is no longer ours to bind, if it is not. */
function notBindable(fresh: Pod | undefined, uid: string): BindOutcome | undefined {
  if (!fresh || fresh.metadata?.uid !== uid || fresh.metadata?.deletionTimestamp) return { type: "gone" };
  if (fresh.spec?.nodeName) return { type: "alreadyBound", node: fresh.spec.nodeName };
  return undefined;
}

/**
 * Binds with compare-and-swap on the pod's resourceVersion. On a conflict the pod is read again:
 * bound by someone else or gone means we lost and skip it; otherwise it changed and the caller
 * decides again. A pod is therefore bound at most once, however many schedulers race.
 */
export async function bind(store: ResourceStore<Pod>, pod: Pod, nodeName: string, now: Date): Promise<BindOutcome> {
  try {
    const stored = await store.update(boundPod(pod, nodeName, now));
    return stored ? { type: "bound", pod: stored } : { type: "gone" };
  } catch (err) {
    if (!(err instanceof ConflictError)) return { type: "failed", error: err };
  }
  try {
    const fresh = await store.get(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "");
    return notBindable(fresh, pod.metadata?.uid ?? "") ?? { type: "changed", pod: fresh! };
  } catch (error) {
    return { type: "failed", error };
  }
}

/** Writes PodScheduled=False; a conflict means a newer version exists and the next attempt writes again. */
export async function markUnschedulable(store: ResourceStore<Pod>, pod: Pod, message: string, now: Date): Promise<Pod | undefined> {
  const next = unschedulablePod(pod, message, now);
  if (!next) return undefined;
  try {
    return await store.update(next);
  } catch (err) {
    if (err instanceof ConflictError) return undefined;
    throw err;
  }
}
