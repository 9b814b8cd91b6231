// Adoption and release of pods by a controller (ReplicaSet, DaemonSet), as Kubernetes'
// ControllerRefManager: each pod is re-read and re-checked (read-modify-CAS, retried on a
// conflict) before its controller reference is added or removed; any that cannot be done fails
// the pass with ConflictError before pods are created or deleted (the plan counted on it).
import { ConflictError, NotFoundError, type ObjectMeta, type OwnerReference, type Pod } from "@navarch/api";
import type { ResourceStore } from "@navarch/store";
import { controllerRef, isActive } from "./pod-state.js";

export interface PodClaims {
  /** The controller's own metadata and a controller reference to it. */
  owner: ObjectMeta;
  ownerRef: OwnerReference;
  /** Whether the controller's selector selects this pod. */
  selects: (pod: Pod) => boolean;
  /** The controller as stored now (not cached): adoption needs it alive, as this uid. */
  readOwner: () => Promise<{ metadata?: ObjectMeta } | undefined>;
  adopt: readonly Pod[];
  release: readonly Pod[];
}

export async function claimPods(claims: PodClaims, pods: ResourceStore<Pod>, wrote: (p: Pod) => void): Promise<void> {
  const { owner, adopt, release } = claims;
  if (adopt.length === 0 && release.length === 0) return;
  const what = `${claims.ownerRef.kind.toLowerCase()} ${owner.name}`;
  if (adopt.length > 0) {
    // Adopt only for a controller that still exists as this uid and is not being deleted (the
    // cache may be behind a delete), as Kubernetes' RecheckDeletionTimestamp.
    const fresh = await claims.readOwner();
    if (!fresh || fresh.metadata!.uid !== owner.uid || fresh.metadata!.deletionTimestamp) {
      throw new ConflictError(`${what} changed or is being deleted; not adopting pods`);
    }
  }
  let refused = 0;
  const modify = async (pod: Pod, change: (p: Pod) => Pod | undefined) => {
    try {
      const stored = await pods.modify(owner.namespace, pod.metadata!.name, (p) => (p.metadata!.uid === pod.metadata!.uid ? change(p) : undefined));
      if (stored) wrote(stored);
      else refused++;
    } catch (err) {
      if (err instanceof ConflictError || err instanceof NotFoundError) refused++;
      else throw err;
    }
  };
  await Promise.all([
    ...adopt.map((pod) =>
      modify(pod, (p) => {
        if (controllerRef(p) || !isActive(p) || !claims.selects(p)) return undefined;
        p.metadata!.ownerReferences = [...(p.metadata!.ownerReferences ?? []), claims.ownerRef];
        return p;
      }),
    ),
    ...release.map((pod) =>
      modify(pod, (p) => {
        if (controllerRef(p)?.uid !== owner.uid || claims.selects(p)) return undefined;
        p.metadata!.ownerReferences = (p.metadata!.ownerReferences ?? []).filter((o) => o.uid !== owner.uid);
        return p;
      }),
    ),
  ]);
  if (refused > 0) throw new ConflictError(`${what}: ${refused} pod(s) changed while being claimed or released`);
}
