// The last step of a graceful pod deletion: once its containers are stopped and removed, the node
// deletes the Pod object from navarch-pods (kubelet's delete with grace 0). Read fresh, and delete
// only the same pod (uid), only while it is being deleted, with compare-and-swap on the revision
// just read - a conflict reads again. A pod that is already gone is fine. Finalizers still holding
// it: its grace period is set to 0 instead (its termination is done), so the update that removes
// the last finalizer deletes it.
import { ConflictError, NotFoundError, type Pod } from "@navarch/api";
import type { ResourceStore } from "@navarch/store";

export type DeleteOutcome = "deleted" | "gone" | "replaced" | "not-deleting" | "held-by-finalizers";

export async function deletePodObject(store: ResourceStore<Pod>, namespace: string, name: string, uid: string, attempts = 10): Promise<DeleteOutcome> {
  for (let i = 0; ; i++) {
    const current = await store.get(namespace, name);
    if (!current) return "gone";
    const meta = current.metadata!;
    if (meta.uid !== uid) return "replaced";
    // Never delete a pod nobody asked to delete (a projection entry that disappeared is not that).
    if (!meta.deletionTimestamp) return "not-deleting";
    try {
      if ((meta.finalizers ?? []).length > 0) {
        if (meta.deletionGracePeriodSeconds !== 0) await store.update({ ...current, metadata: { ...meta, deletionGracePeriodSeconds: 0 } });
        return "held-by-finalizers";
      }
      await store.delete(namespace, name, Number(meta.resourceVersion));
      return "deleted";
    } catch (err) {
      if (err instanceof NotFoundError) return "gone";
      if (err instanceof ConflictError && i + 1 < attempts) continue;
      throw err;
    }
  }
}
