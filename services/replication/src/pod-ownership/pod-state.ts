// What the replication controllers read off a Pod: whether it still counts, whether it is ready
// (and since when), whether it is available, and which pods go first when scaling down.
import type { KubeObject, OwnerReference, Pod } from "@navarch/api";

/** A pod that counts toward replicas: not being deleted and not finished. */
export function isActive(pod: Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed";
}

/** The Ready condition is True. */
export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** Since when the pod has been ready (ms since the epoch), or undefined when it is not ready. */
export function readySince(pod: Pod): number | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === "Ready" && x.status === "True");
  if (!c) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Ready for at least minReadySeconds at `now`. `waitMs` is how long until a ready pod that is
 * not available yet becomes so (for a recheck), undefined otherwise.
 */
export function availability(pod: Pod, minReadySeconds: number, now: number): { available: boolean; waitMs?: number } {
  const since = readySince(pod);
  if (since === undefined) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const at = since + minReadySeconds * 1000;
  return at <= now ? { available: true } : { available: false, waitMs: at - now };
}

/** The ownerReference with controller=true, if any. */
export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((o) => o.controller === true);
}

function phaseRank(pod: Pod): number {
  switch (pod.status?.phase) {
    case "Pending":
    case "":
    case undefined:
      return 0;
    case "Unknown":
      return 1;
    default:
      return 2;
  }
}

function restarts(pod: Pod): number {
  let n = 0;
  for (const c of pod.status?.containerStatuses ?? []) n = Math.max(n, c.restartCount ?? 0);
  return n;
}

function created(pod: Pod): number {
  const t = Date.parse(pod.metadata?.creationTimestamp ?? "");
  return Number.isNaN(t) ? -Infinity : t;
}

/**
 * Orders pods so that the ones to delete first come first (Kubernetes' ActivePods ranking):
 * not scheduled before scheduled; Pending before Unknown before Running; not ready before ready;
 * ready for less time before ready for longer; more restarts before fewer; newer before older.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const aNode = a.spec?.nodeName ? 1 : 0;
  const bNode = b.spec?.nodeName ? 1 : 0;
  if (aNode !== bNode) return aNode - bNode;
  const phase = phaseRank(a) - phaseRank(b);
  if (phase !== 0) return phase;
  const aReady = isReady(a) ? 1 : 0;
  const bReady = isReady(b) ? 1 : 0;
  if (aReady !== bReady) return aReady - bReady;
  if (aReady === 1) {
    const since = (readySince(b) ?? 0) - (readySince(a) ?? 0);
    if (since !== 0) return since;
  }
  const r = restarts(b) - restarts(a);
  if (r !== 0) return r;
  const age = created(b) - created(a);
  if (age !== 0) return age;
  return (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}
