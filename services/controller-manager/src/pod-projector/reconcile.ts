// The pod projector's plan: the per-node view (navarch-node-pods) must hold exactly the pods bound
// to each node, as their metadata and spec (status changes are not copied, so a node agent is not
// woken by its own reports coming back).
import { KINDS, type Pod } from "@navarch/api";
import { sameData } from "../same-data.js";

/** One stored projection of a pod, as the projector's cache keeps it (digests.ts). */
export interface Projection {
  node: string;
  namespace: string;
  name: string;
  revision: string;
  /** Digest of its stored JSON. */
  digest: string;
}

export type Step =
  | { type: "put"; node: string; pod: Pod; expectedRevision: string | undefined }
  | { type: "remove"; node: string; namespace: string; name: string; expectedRevision: string };

/** What a node sees of a pod: everything but status and resourceVersion. */
export function project(pod: Pod): Pod {
  const meta = { ...pod.metadata!, resourceVersion: "" };
  return KINDS.Pod.codec.fromPartial({ apiVersion: "v1", kind: "Pod", metadata: meta, spec: pod.spec });
}

/**
 * Same metadata (but resourceVersion) and spec: what a node sees of both pods is the same. Both
 * come from the same decoder (every field present), so a structural comparison is exact; it is
 * the check that skips a status-only change, about every second write of a pod (watches.ts), so
 * it must not serialise anything.
 */
export function sameContent(a: Pod, b: Pod): boolean {
  return sameData(a.spec, b.spec) && sameData({ ...a.metadata, resourceVersion: "" }, { ...b.metadata, resourceVersion: "" });
}

/**
 * `pod` is the current Pod (undefined if deleted), `existing` every projection of that pod
 * (normally zero or one; a pod never moves between nodes, but a stale copy must still go);
 * `digest` is what the projection of `pod` (`projected`) digests to once stored (digests.ts).
 */
export function reconcile(pod: Pod | undefined, existing: Projection[], digest: (pod: Pod, projected: Pod) => string): Step[] {
  const node = pod?.spec?.nodeName || undefined;
  const steps: Step[] = [];
  for (const p of existing) {
    if (p.node !== node) steps.push({ type: "remove", node: p.node, namespace: p.namespace, name: p.name, expectedRevision: p.revision });
  }
  if (pod && node) {
    const current = existing.find((p) => p.node === node);
    const projected = project(pod);
    if (!current || current.digest !== digest(pod, projected)) {
      steps.push({ type: "put", node, pod: projected, expectedRevision: current?.revision });
    }
  }
  return steps;
}
