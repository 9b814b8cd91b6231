// What the Deployment controller reads off its replica sets: revisions, sizes, order, and which
// one is the deployment's current ("new") one.
import type { Deployment, ReplicaSet } from "@navarch/api";
import { REVISION_ANNOTATION } from "./reasons.js";
import { equalIgnoringHash } from "./template-hash.js";

/** The replica set's revision annotation as a number (0 when absent or not a number). */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } | undefined }): number {
  const n = Number(obj.metadata?.annotations?.[REVISION_ANNOTATION] ?? "");
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export function maxRevision(sets: readonly ReplicaSet[]): number {
  return sets.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

export const specReplicas = (rs: ReplicaSet): number => rs.spec?.replicas ?? 1;

/** Sum of spec.replicas: the pods the replica sets are asked for. */
export function desiredCount(sets: readonly ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + specReplicas(rs), 0);
}

/**
 * Pods the replica sets may have right now: per set the larger of spec.replicas and
 * status.replicas - a set just scaled down still runs its old pods until its controller has
 * deleted them (its status shows when), so a surge is counted against those too.
 */
export function podsBound(sets: readonly ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + Math.max(specReplicas(rs), rs.status?.replicas ?? 0), 0);
}

/**
 * Available pods the replica sets will still have once they reach their spec: per set the
 * smaller of status.availableReplicas and spec.replicas (a set scaled down may delete available
 * pods its status still counts).
 */
export function availableBound(sets: readonly ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + Math.min(specReplicas(rs), rs.status?.availableReplicas ?? 0), 0);
}

/** Sum of status.replicas: the pods they have. */
export function actualCount(sets: readonly ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
}

export function readyCount(sets: readonly ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + (rs.status?.readyReplicas ?? 0), 0);
}

export function availableCount(sets: readonly ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
}

/** Replica sets asked for at least one pod. */
export function active(sets: readonly ReplicaSet[]): ReplicaSet[] {
  return sets.filter((rs) => specReplicas(rs) > 0);
}

function created(rs: ReplicaSet): number {
  const t = Date.parse(rs.metadata?.creationTimestamp ?? "");
  return Number.isNaN(t) ? 0 : t;
}

/** Oldest first; equal times by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return created(a) - created(b) || (a.metadata!.name < b.metadata!.name ? -1 : a.metadata!.name > b.metadata!.name ? 1 : 0);
}

/** Lowest revision first; equal revisions oldest first. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** Largest first; equal sizes newest first (scaling up favours the newer ones). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(b, a);
}

/** Largest first; equal sizes oldest first (scaling down takes from the older ones). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(a, b);
}

/** The deployment's current replica set: the oldest whose template equals the deployment's. */
export function findNew(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...sets].sort(byCreation).find((rs) => equalIgnoringHash(rs.spec?.template, d.spec?.template));
}
