// What the DaemonSet controller watches: DaemonSets (their own key), Pods (mapped to the daemon
// set that controls them, before and after the change; an active orphan wakes the daemon sets
// of its namespace whose selector matches it), and Nodes - a node that joins, leaves, or changes
// its labels, taints or schedulability wakes every daemon set (there are few; a node's status
// updates wake none).
import { fromLabelSelector, matches, type DaemonSet, type Node, type Pod } from "@navarch/api";
import { watch, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { isDeepStrictEqual } from "node:util";
import { controllerRef, isActive } from "../pod-ownership/pod-state.js";

export interface DaemonSetInformers {
  daemonSets: Informer<DaemonSet>;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
}

export function daemonSetWatches(informers: DaemonSetInformers): Watch[] {
  return [
    watch(informers.daemonSets, (e) => [e.key]),
    watch(informers.pods, (e: StoreEvent<Pod>) => podOwners(informers, e)),
    watch(informers.nodes, (e: StoreEvent<Node>) => (placementMayChange(e) ? informers.daemonSets.keys() : [])),
  ];
}

/** The daemon set keys a pod event concerns. */
export function podOwners(informers: Pick<DaemonSetInformers, "daemonSets">, e: StoreEvent<Pod>): string[] {
  const keys = new Set<string>();
  for (const pod of e.old ? [e.old, e.object] : [e.object]) {
    const ref = controllerRef(pod);
    const ns = pod.metadata?.namespace ?? "";
    if (ref) {
      if (ref.kind !== "DaemonSet") continue;
      const ds = informers.daemonSets.get(ns, ref.name);
      if (ds && ds.metadata?.uid === ref.uid) keys.add(informers.daemonSets.store.keyOf(ds));
    } else if (e.type !== "DELETED" && isActive(pod)) {
      for (const ds of informers.daemonSets.list(ns)) {
        const sel = ds.spec?.selector ? fromLabelSelector(ds.spec.selector) : [];
        if (sel.length > 0 && matches(sel, pod.metadata?.labels)) keys.add(informers.daemonSets.store.keyOf(ds));
      }
    }
  }
  return [...keys];
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
