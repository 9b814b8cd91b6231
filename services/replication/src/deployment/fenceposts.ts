// maxSurge and maxUnavailable ("3" or "25%") resolved against a replica count as Kubernetes
// does: a percentage of surge rounds up, of unavailable rounds down; when both come out 0,
// unavailable becomes 1 (validation refuses 0/0, but rounding can produce it, and a rollout must
// be able to move).
import type { Deployment } from "@navarch/api";

/** "3" -> 3; "25%" of total -> rounded up or down; "" -> the Kubernetes default 25%. */
export function scaledValue(value: string, total: number, roundUp: boolean): number {
  const v = value === "" ? "25%" : value;
  const m = /^(\d+)(%?)$/.exec(v.trim());
  if (!m) throw new Error(`invalid value for IntOrString: "${value}"`);
  const n = Number(m[1]);
  if (m[2] !== "%") return n;
  const exact = (n * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function resolveFenceposts(maxSurge: string, maxUnavailable: string, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type || "RollingUpdate") === "RollingUpdate";
}

export function replicasOf(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

/** Extra pods a rolling update may run above spec.replicas (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge ?? "", ru?.maxUnavailable ?? "", replicasOf(d)).surge;
}

/** Pods a rolling update may be short of spec.replicas (0 for Recreate or no replicas), at most spec.replicas. */
export function maxUnavailable(d: Deployment): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge ?? "", ru?.maxUnavailable ?? "", replicas);
  return Math.min(unavailable, replicas);
}
