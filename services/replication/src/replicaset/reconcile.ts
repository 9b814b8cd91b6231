// What to do about one replica set - a pure function of the replica set, its pods and the time.
//
//   1. Claim pods (Kubernetes' ClaimPods): an active orphan of the namespace that matches the
//      selector is adopted (an ownerReference with controller=true is added); an owned pod whose
//      labels no longer match is released (the ownerReference is removed). A replica set being
//      deleted claims and releases nothing.
//   2. Count the active pods it then has (not terminating, not Succeeded/Failed) against
//      spec.replicas: create the missing ones, or delete the surplus in deletionOrder (not
//      scheduled, then Pending/not ready, then ready for less time, then newest) - but only once
//      the cache has observed the previous pass's creations and deletions (expectations), and
//      never more than BURST_REPLICAS in one pass.
//   3. Status (computeStatus) from the claimed pods: replicas, fullyLabeledReplicas,
//      readyReplicas, availableReplicas (ready for minReadySeconds; `recheckMs` says when the next
//      pod becomes available), observedGeneration, and ReplicaFailure while creates or deletes fail.
import { matches, type Condition, type Pod, type ReplicaSet, type ReplicaSetStatus } from "@navarch/api";
import { timestamp } from "@navarch/store";
import { selectorOf, type PodOwnerKind } from "../pod-ownership/owner-kind.js";
import { availability, controllerRef, deletionOrder, isActive, isReady } from "../pod-ownership/pod-state.js";
import type { Failure } from "../pod-ownership/reasons.js";
import { ReplicaFailure } from "./reasons.js";

/** At most this many pods are created or deleted in one pass (as Kubernetes' burstReplicas). */
export const BURST_REPLICAS = 500;

export interface ReplicaSetState {
  rs: ReplicaSet;
  /** Pods whose controller ownerReference is this replica set (by uid). */
  owned: readonly Pod[];
  /** Pods of the namespace without a controller ownerReference. */
  orphans: readonly Pod[];
  /** Every creation and deletion of earlier passes is in the cache (or expired). */
  expectationsSatisfied: boolean;
  /** The namespace is being deleted: no new pods can be created in it. */
  namespaceTerminating: boolean;
}

export interface Plan {
  adopt: Pod[];
  release: Pod[];
  /** Pods to create from the template. */
  create: number;
  /** Pods to delete, the first to go first. */
  delete: Pod[];
  /** The active pods the replica set has after claiming (what status counts). */
  pods: Pod[];
}

/** A replica set as the owner of its pods: it adopts the orphans its selector matches. */
export const REPLICA_SET: PodOwnerKind<ReplicaSet> = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "replicaset", selector: selectorOf };

export function reconcile(state: ReplicaSetState): Plan {
  const { rs } = state;
  const uid = rs.metadata!.uid;
  const deleting = !!rs.metadata!.deletionTimestamp;
  const selector = selectorOf(rs);
  const selects = (pod: Pod) => selector !== undefined && matches(selector, pod.metadata?.labels);

  const plan: Plan = { adopt: [], release: [], create: 0, delete: [], pods: [] };
  for (const pod of state.owned) {
    if (controllerRef(pod)?.uid !== uid) continue;
    if (!isActive(pod)) continue;
    if (selects(pod) || deleting) plan.pods.push(pod);
    else plan.release.push(pod);
  }
  if (!deleting) {
    for (const pod of state.orphans) {
      if (controllerRef(pod) || !isActive(pod) || !selects(pod)) continue;
      plan.adopt.push(pod);
      plan.pods.push(pod);
    }
  }
  if (deleting || !state.expectationsSatisfied) return plan;

  const want = Math.max(0, rs.spec?.replicas ?? 1);
  const diff = plan.pods.length - want;
  if (diff < 0 && !state.namespaceTerminating) {
    plan.create = Math.min(-diff, BURST_REPLICAS);
  } else if (diff > 0) {
    plan.delete = [...plan.pods].sort(deletionOrder).slice(0, Math.min(diff, BURST_REPLICAS));
  }
  return plan;
}

export function computeStatus(
  rs: ReplicaSet,
  pods: readonly Pod[],
  now: Date,
  /** Why the last pass could not create or delete pods (the ReplicaFailure condition). */
  failure?: Failure,
): { status: ReplicaSetStatus; recheckMs?: number } {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  let recheckMs: number | undefined;
  for (const pod of pods) {
    const labels = pod.metadata?.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (!isReady(pod)) continue;
    ready++;
    const a = availability(pod, minReady, now.getTime());
    if (a.available) available++;
    else if (a.waitMs !== undefined) recheckMs = Math.min(recheckMs ?? Infinity, a.waitMs);
  }
  const current = rs.status?.conditions ?? [];
  let conditions = current.filter((c) => c.type !== ReplicaFailure);
  if (failure) {
    const before = current.find((c) => c.type === ReplicaFailure);
    const same = before && before.status === "True" && before.reason === failure.reason && before.message === failure.message;
    conditions = [...conditions, same ? before : condition(ReplicaFailure, "True", failure.reason, failure.message, now)];
  }
  return {
    status: {
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.metadata?.generation ?? 0,
      conditions,
    },
    ...(recheckMs !== undefined ? { recheckMs } : {}),
  };
}

/** Whether writing `next` would change what is stored (timestamps of unchanged conditions aside). */
export function statusChanged(current: ReplicaSetStatus | undefined, next: ReplicaSetStatus): boolean {
  const c = current;
  if (!c) return true;
  if (
    c.replicas !== next.replicas ||
    c.fullyLabeledReplicas !== next.fullyLabeledReplicas ||
    c.readyReplicas !== next.readyReplicas ||
    c.availableReplicas !== next.availableReplicas ||
    c.observedGeneration !== next.observedGeneration
  ) {
    return true;
  }
  const key = (x: Condition) => `${x.type}\u0000${x.status}\u0000${x.reason}\u0000${x.message}`;
  const a = (c.conditions ?? []).map(key).sort();
  const b = next.conditions.map(key).sort();
  return a.length !== b.length || a.some((k, i) => k !== b[i]);
}

export function condition(type: string, status: string, reason: string, message: string, now: Date): Condition {
  const t = timestamp(now);
  return { type, status, reason, message, lastTransitionTime: t, lastUpdateTime: "", lastHeartbeatTime: "", lastProbeTime: "", observedGeneration: 0 };
}
