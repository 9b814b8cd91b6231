// The two strategies, as Kubernetes' deployment controller runs them, one step per pass (each
// step's writes bring the deployment back through its replica sets' events):
//
// RollingUpdate
//   1. scale the new replica set up, as far as maxSurge allows (spec.replicas of all sets count);
//   2. else scale old ones down, as far as maxUnavailable allows: first the old pods that are not
//      available anyway (oldest set first), then available ones while the available pods of all
//      sets stay above replicas - maxUnavailable;
//   3. else, once complete, prune the history.
// Recreate
//   1. scale every old replica set to 0; 2. wait until none of their pods runs; 3. create the new
//   replica set at full size (or scale it up); 4. prune the history once complete.
//
// A change of spec.replicas alone (or any pass while paused) only scales (proportionally.ts).
import type { ReplicaSet } from "@navarch/api";
import { maxUnavailable, replicasOf } from "./fenceposts.js";
import { createNewReplicaSet, newReplicaSetSize, type Found } from "./new-replica-set.js";
import type { Pass } from "./pass.js";
import { active, availableBound, byCreation, byRevision, desiredCount, specReplicas } from "./replica-sets.js";
import { deploymentComplete, syncRolloutStatus } from "./status.js";

export interface RolloutInputs {
  /** A replica set of the namespace by name (any owner): a taken name is a hash collision. */
  existing: (name: string) => ReplicaSet | undefined;
  /** Pods of a replica set that are not Succeeded or Failed (terminating ones included). */
  podsRunning: (rs: ReplicaSet) => number;
  /** The namespace is being deleted: make no new replica sets. */
  namespaceTerminating: boolean;
}

export function rolloutRolling(pass: Pass, found: Found, inputs: RolloutInputs): void {
  const newRS = found.newRS ?? (inputs.namespaceTerminating ? undefined : createNewReplicaSet(pass, found.old, inputs.existing));
  if (!newRS) {
    // A hash collision (the count went up; the status write brings the next pass) or no new one allowed.
    syncRolloutStatus(pass, found.old, undefined);
    return;
  }
  const all = [...found.old, newRS];
  if (reconcileNewReplicaSet(pass, all, newRS) || reconcileOldReplicaSets(pass, all, active(found.old), newRS)) {
    syncRolloutStatus(pass, all, newRS);
    return;
  }
  if (deploymentComplete(pass.d, pass.stored)) cleanupHistory(pass, found.old);
  syncRolloutStatus(pass, all, newRS);
}

/** Scales the new replica set toward spec.replicas within maxSurge; true when it changed size. */
export function reconcileNewReplicaSet(pass: Pass, all: readonly ReplicaSet[], newRS: ReplicaSet): boolean {
  const replicas = replicasOf(pass.d);
  if (specReplicas(newRS) === replicas) return false;
  if (specReplicas(newRS) > replicas) return pass.scale(newRS, replicas);
  return pass.scale(newRS, newReplicaSetSize(pass.d, all, newRS));
}

/** Scales old replica sets down within maxUnavailable; true when any changed size. */
export function reconcileOldReplicaSets(pass: Pass, all: readonly ReplicaSet[], oldActive: readonly ReplicaSet[], newRS: ReplicaSet): boolean {
  if (desiredCount(oldActive) === 0) return false;
  const minAvailable = replicasOf(pass.d) - maxUnavailable(pass.d);
  const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = desiredCount(all) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = cleanupUnhealthyReplicas(pass, oldActive, maxScaledDown);
  const scaled = scaleDownOldForRollingUpdate(pass, [...oldActive, newRS], oldActive);
  return cleaned + scaled > 0;
}

/** Old pods that are not available are the first to go, oldest replica set first. */
function cleanupUnhealthyReplicas(pass: Pass, old: readonly ReplicaSet[], maxCleanup: number): number {
  let total = 0;
  for (const rs of [...old].sort(byCreation)) {
    if (total >= maxCleanup) break;
    const size = specReplicas(rs);
    const availableNow = availableBound([rs]);
    if (size === 0 || size <= availableNow) continue;
    const down = Math.min(maxCleanup - total, size - availableNow);
    pass.scale(rs, size - down);
    total += down;
  }
  return total;
}

/**
 * Then available old pods, while the available pods of all sets stay at or above minAvailable.
 * Available pods are counted as availableBound (Kubernetes sums status.availableReplicas): a set
 * scaled down a pass ago still reports pods it is about to delete, and counting them would let
 * two passes in a row take the same pods away twice.
 */
function scaleDownOldForRollingUpdate(pass: Pass, all: readonly ReplicaSet[], old: readonly ReplicaSet[]): number {
  const minAvailable = replicasOf(pass.d) - maxUnavailable(pass.d);
  const availableNow = availableBound(all);
  if (availableNow <= minAvailable) return 0;
  const budget = availableNow - minAvailable;
  let total = 0;
  for (const rs of [...old].sort(byCreation)) {
    if (total >= budget) break;
    const size = specReplicas(rs);
    if (size === 0) continue;
    const down = Math.min(size, budget - total);
    pass.scale(rs, size - down);
    total += down;
  }
  return total;
}

export function rolloutRecreate(pass: Pass, found: Found, inputs: RolloutInputs): void {
  let newRS = found.newRS;
  const old = found.old;
  const all = () => (newRS ? [...old, newRS] : [...old]);
  let scaledDown = false;
  for (const rs of active(old)) if (pass.scale(rs, 0)) scaledDown = true;
  if (scaledDown) {
    syncRolloutStatus(pass, all(), newRS);
    return;
  }
  // Recreate means no old pod runs beside a new one: wait until the old ones are gone.
  const oldRunning = old.reduce((n, rs) => n + (rs.status?.replicas ?? 0) + inputs.podsRunning(rs), 0);
  if (oldRunning > 0) {
    syncRolloutStatus(pass, all(), newRS);
    return;
  }
  if (!newRS && !inputs.namespaceTerminating) newRS = createNewReplicaSet(pass, old, inputs.existing);
  if (newRS) pass.scale(newRS, replicasOf(pass.d));
  if (deploymentComplete(pass.d, pass.stored)) cleanupHistory(pass, old);
  syncRolloutStatus(pass, all(), newRS);
}

/**
 * Deletes the oldest revisions beyond revisionHistoryLimit - only replica sets scaled to 0 with
 * no pods left whose controller has seen their latest spec.
 */
export function cleanupHistory(pass: Pass, old: readonly ReplicaSet[]): void {
  const limit = pass.d.spec?.revisionHistoryLimit;
  if (limit === undefined) return;
  const alive = old.filter((rs) => !rs.metadata!.deletionTimestamp);
  const surplus = alive.length - limit;
  if (surplus <= 0) return;
  const oldestFirst = [...alive].sort(byRevision);
  for (let i = 0; i < surplus; i++) {
    const rs = oldestFirst[i]!;
    const seen = (rs.status?.observedGeneration ?? 0) >= (rs.metadata!.generation ?? 0);
    if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || !seen) continue;
    pass.delete(rs);
  }
}
