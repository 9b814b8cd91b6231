// What the ReplicaSet controller watches: ReplicaSets (key: their own) and Pods, whose events map
// to the replica set that controls them (the ownerReference with controller=true, when it names
// a ReplicaSet of that uid in the cache) - before and after the change, so a pod that moves
// between owners wakes both. An active pod without a controller wakes the replica sets of its
// namespace whose selector matches it (they may adopt it).
import type { Pod, ReplicaSet } from "@navarch/api";
import { matches } from "@navarch/api";
import { watch, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { controllerRef, isActive } from "../pod-ownership/pod-state.js";
import { selectorOf } from "./reconcile.js";

export interface ReplicaSetInformers {
  replicaSets: Informer<ReplicaSet>;
  pods: Informer<Pod>;
}

export function replicaSetWatches(informers: ReplicaSetInformers): Watch[] {
  return [watch(informers.replicaSets, (e) => [e.key]), watch(informers.pods, (e: StoreEvent<Pod>) => podOwners(informers, e))];
}

/** The replica set keys a pod event concerns. */
export function podOwners(informers: ReplicaSetInformers, e: StoreEvent<Pod>): string[] {
  const keys = new Set<string>();
  for (const pod of e.old ? [e.old, e.object] : [e.object]) {
    const ref = controllerRef(pod);
    const ns = pod.metadata?.namespace ?? "";
    if (ref) {
      if (ref.kind !== "ReplicaSet") continue;
      const rs = informers.replicaSets.get(ns, ref.name);
      if (rs && rs.metadata?.uid === ref.uid) keys.add(informers.replicaSets.store.keyOf(rs));
    } else if (e.type !== "DELETED" && isActive(pod)) {
      for (const rs of informers.replicaSets.list(ns)) {
        const sel = selectorOf(rs);
        if (sel && matches(sel, pod.metadata?.labels)) keys.add(informers.replicaSets.store.keyOf(rs));
      }
    }
  }
  return [...keys];
}
