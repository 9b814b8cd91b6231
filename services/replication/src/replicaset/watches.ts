// What the ReplicaSet controller watches: ReplicaSets (key: their own) and Pods, mapped to the
// replica set that controls them, before and after the change; an active pod without a
// controller wakes the replica sets of its namespace whose selector matches it (they may adopt
// it). See pod-ownership/owner-watches.ts.
import type { Pod, ReplicaSet } from "@navarch/api";
import type { Watch } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { podOwnerWatches } from "../pod-ownership/owner-watches.js";
import { REPLICA_SET } from "./reconcile.js";

export interface ReplicaSetInformers {
  replicaSets: Informer<ReplicaSet>;
  pods: Informer<Pod>;
}

export function replicaSetWatches(informers: ReplicaSetInformers): Watch[] {
  return podOwnerWatches(REPLICA_SET, informers.replicaSets, informers.pods);
}
