// What the DaemonSet controller watches: DaemonSets (their own key), Pods (mapped to the daemon
// set that controls them, before and after the change; an active orphan wakes the daemon sets
// of its namespace whose selector matches it - pod-ownership/owner-watches.ts), and Nodes - a
// node that joins, leaves, or changes its labels, taints or schedulability wakes every daemon
// set (there are few; a node's status updates wake none).
import type { DaemonSet, Node, Pod } from "@navarch/api";
import { watch, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { isDeepStrictEqual } from "node:util";
import { podOwnerWatches } from "../pod-ownership/owner-watches.js";
import { DAEMON_SET } from "./reconcile.js";

export interface DaemonSetInformers {
  daemonSets: Informer<DaemonSet>;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
}

export function daemonSetWatches(informers: DaemonSetInformers): Watch[] {
  return [
    ...podOwnerWatches(DAEMON_SET, informers.daemonSets, informers.pods),
    watch(informers.nodes, (e: StoreEvent<Node>) => (placementMayChange(e) ? informers.daemonSets.keys() : [])),
  ];
}

/** Whether a node event can change where daemon pods belong (not a condition or heartbeat update). */
export function placementMayChange(e: StoreEvent<Node>): boolean {
  if (e.type !== "MODIFIED" || !e.old) return true;
  const a = e.old;
  const b = e.object;
  return (
    !isDeepStrictEqual(a.metadata?.labels ?? {}, b.metadata?.labels ?? {}) ||
    !isDeepStrictEqual(a.spec?.taints ?? [], b.spec?.taints ?? []) ||
    !!a.spec?.unschedulable !== !!b.spec?.unschedulable
  );
}
