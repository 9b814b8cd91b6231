// Deleting an object the Kubernetes way: while finalizers remain, deletion only stamps
// deletionTimestamp (the finalizers' owners see it, do their work and remove themselves; the
// store deletes the object when the last one is gone); without finalizers the object is deleted
// at once. Both with compare-and-swap on the revision the caller saw.
import type { KubeObject } from "@navarch/api";
import { heldByFinalizers, type ResourceStore } from "./resource-store.js";

export interface DeletionResult<T> {
  /** True if the object is gone now; false if it waits for finalizers. */
  deleted: boolean;
  /** The object as it was deleted, or as stored with deletionTimestamp set. */
  object: T;
  /** The revision this wrote (the delete marker's, or the marked object's); 0 when it wrote nothing. */
  revision: number;
}

export async function requestDeletion<T extends KubeObject>(
  store: ResourceStore<T>,
  obj: T,
  now: Date = new Date(),
  gracePeriodSeconds?: number,
): Promise<DeletionResult<T>> {
  const meta = obj.metadata!;
  const rev = Number(meta.resourceVersion);
  if (!heldByFinalizers(obj)) {
    const revision = await store.delete(meta.namespace, meta.name, rev);
    return { deleted: true, object: obj, revision };
  }
  if (meta.deletionTimestamp) return { deleted: false, object: obj, revision: 0 };
  const marked = {
    ...obj,
    metadata: {
      ...meta,
      deletionTimestamp: timestamp(now),
      deletionGracePeriodSeconds: gracePeriodSeconds ?? meta.deletionGracePeriodSeconds ?? 0,
    },
  };
  const { stored, revision } = await store.write(marked);
  return { deleted: stored === undefined, object: stored ?? marked, revision };
}

/** RFC 3339 with seconds precision, as Kubernetes writes timestamps. */
export function timestamp(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
