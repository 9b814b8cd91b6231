// Which owners a pod event concerns: the owner that controls the pod (the ownerReference with
// controller=true, when it names an owner of that kind and uid in the cache) - before and after
// the change, so a pod that moves between owners wakes both. For a kind that adopts, an active
// pod without a controller wakes the owners of its namespace whose selector matches it.
import { matches, type KubeObject, type Pod } from "@navarch/api";
import { watch, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import type { PodOwnerKind } from "./owner-kind.js";
import { controllerRef, isActive } from "./pod-state.js";

/** The owners' own events (their key) and the pods' events (the keys of the owners they concern). */
export function podOwnerWatches<O extends KubeObject>(kind: PodOwnerKind<O>, owners: Informer<O>, pods: Informer<Pod>): Watch[] {
  return [watch(owners, (e) => [e.key]), watch(pods, (e: StoreEvent<Pod>) => podOwners(kind, owners, e))];
}

/** What podOwners reads of the owners' informer. */
export type OwnerCache<O extends KubeObject> = Pick<Informer<O>, "get" | "list"> & { store: Pick<Informer<O>["store"], "keyOf"> };

/** The owner keys a pod event concerns. */
export function podOwners<O extends KubeObject>(kind: PodOwnerKind<O>, owners: OwnerCache<O>, e: StoreEvent<Pod>): string[] {
  const keys = new Set<string>();
  for (const pod of e.old ? [e.old, e.object] : [e.object]) {
    const ref = controllerRef(pod);
    const ns = pod.metadata?.namespace ?? "";
    if (ref) {
      if (ref.kind !== kind.kind) continue;
      const owner = owners.get(ns, ref.name);
      if (owner && owner.metadata?.uid === ref.uid) keys.add(owners.store.keyOf(owner));
    } else if (kind.selector && e.type !== "DELETED" && isActive(pod)) {
      for (const owner of owners.list(ns)) {
        const sel = kind.selector(owner);
        if (sel && matches(sel, pod.metadata?.labels)) keys.add(owners.store.keyOf(owner));
      }
    }
  }
  return [...keys];
}
