// Writes an eviction, compare-and-swap on the pod as the plan saw it (a conflict requeues the
// pod and the plan is made again from fresh state):
//   - force: the Pod is deleted now (the agent, if it is there at all, kills the containers on
//     seeing it gone); with finalizers it is only marked, as any deletion.
//   - graceful: deletionTimestamp and the pod's grace period are stamped, as the gateway does for
//     a client's delete; the node agent stops the containers and deletes the Pod.
// A pod that already finished (Succeeded / Failed) has nothing to stop: it is deleted at once.
import type { Pod } from "@navarch/api";
import { timestamp, type ResourceStore } from "@navarch/store";

export const DEFAULT_GRACE_SECONDS = 30;

export type EvictionResult = "deleted" | "marked";

export async function evict(store: ResourceStore<Pod>, pod: Pod, force: boolean, now: Date): Promise<EvictionResult> {
  const meta = pod.metadata!;
  const finished = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
  const held = (meta.finalizers ?? []).length > 0;
  if ((force || finished) && !held) {
    await store.delete(meta.namespace, meta.name, Number(meta.resourceVersion));
    return "deleted";
  }
  if (meta.deletionTimestamp) return "marked";
  const grace = force ? 0 : (pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
  const marked: Pod = { ...pod, metadata: { ...meta, deletionTimestamp: timestamp(now), deletionGracePeriodSeconds: grace } };
  return (await store.update(marked)) ? "marked" : "deleted";
}
