// Scaling without a rollout step (Kubernetes' sync/scale): while paused, or when spec.replicas
// changed (an active replica set's desired-replicas annotation differs from it).
//   - one active replica set (or none: the newest): it gets spec.replicas;
//   - the new replica set saturated (all of spec.replicas available): old ones go to 0;
//   - a rolling update in flight: the difference to spec.replicas + maxSurge is spread over the
//     active replica sets in proportion to their size at the last scaling (max-replicas
//     annotation), largest first (newer first when scaling up, older first when scaling down),
//     the rounding leftover to the first.
import type { ReplicaSet } from "@navarch/api";
import { isRollingUpdate, maxSurge, replicasOf } from "./fenceposts.js";
import type { Found } from "./new-replica-set.js";
import type { Pass } from "./pass.js";
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION } from "./reasons.js";
import { active, byCreation, bySizeNewer, bySizeOlder, desiredCount, specReplicas } from "./replica-sets.js";
import { cleanupHistory } from "./rollout.js";
import { syncDeploymentStatus } from "./status.js";

/** Whether spec.replicas changed since the active replica sets were last scaled. */
export function isScalingEvent(pass: Pass, found: Found): boolean {
  const sets = found.newRS ? [...found.old, found.newRS] : found.old;
  const replicas = String(replicasOf(pass.d));
  return active(sets).some((rs) => {
    const desired = rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION];
    return desired !== undefined && desired !== replicas;
  });
}

/** A pass that scales and writes status (no progress judged); while paused it also prunes history. */
export function syncScaleOnly(pass: Pass, found: Found): void {
  scale(pass, found.newRS, found.old);
  if (pass.d.spec?.paused) cleanupHistory(pass, found.old);
  syncDeploymentStatus(pass, found.newRS ? [...found.old, found.newRS] : found.old, found.newRS);
}

export function scale(pass: Pass, newRS: ReplicaSet | undefined, old: readonly ReplicaSet[]): void {
  const d = pass.d;
  const replicas = replicasOf(d);
  const only = activeOrLatest(newRS, old);
  if (only) {
    if (specReplicas(only) !== replicas) pass.scale(only, replicas);
    return;
  }
  if (newRS && saturated(replicas, newRS)) {
    for (const rs of active(old)) pass.scale(rs, 0);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = active(newRS ? [...old, newRS] : [...old]);
  const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowed - desiredCount(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const sizes = new Map<ReplicaSet, number>();
  for (const rs of all) {
    if (toAdd === 0) {
      sizes.set(rs, specReplicas(rs));
      continue;
    }
    const p = proportion(rs, replicas, maxSurge(d), pass.stored.replicas, toAdd, added);
    sizes.set(rs, specReplicas(rs) + p);
    added += p;
  }
  all.forEach((rs, i) => {
    let size = sizes.get(rs)!;
    if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
    pass.scale(rs, size);
  });
}

/** The only active replica set; with none active, the new one or else the newest old one. */
function activeOrLatest(newRS: ReplicaSet | undefined, old: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && old.length === 0) return undefined;
  const newestFirst = [...old].sort(byCreation).reverse();
  const all = active(newRS ? [...newestFirst, newRS] : newestFirst);
  if (all.length === 0) return newRS ?? newestFirst[0];
  return all.length === 1 ? all[0] : undefined;
}

function saturated(replicas: number, rs: ReplicaSet): boolean {
  const desired = Number(rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION]);
  return desired === replicas && specReplicas(rs) === replicas && (rs.status?.availableReplicas ?? 0) === replicas;
}

/** Go's math.Round: halves away from zero. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** Kubernetes' GetProportion: this set's share of toAdd, bounded by what is left to add. */
export function proportion(rs: ReplicaSet, replicas: number, surge: number, statusReplicas: number, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (replicas === 0) {
    fraction = -specReplicas(rs);
  } else {
    const annotated = Number(rs.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION]);
    const base = Number.isInteger(annotated) && annotated > 0 ? annotated : statusReplicas;
    fraction = base > 0 ? roundHalfAway((specReplicas(rs) * (replicas + surge)) / base) - specReplicas(rs) : 0;
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}
