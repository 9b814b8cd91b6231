// What the garbage collector follows: every kind but Namespace (the namespace controller empties
// those). Its queue holds two kinds of keys:
//   "dependent|<Kind>|<key>"  an object with ownerReferences: are its owners still there?
//   "owner|<Kind>|<key>"      an object being deleted with the orphan or foregroundDeletion
//                             finalizer: has the collector finished with its dependents?
// Events map to them without scanning: an object added (or whose ownerReferences changed) is
// checked as a dependent; an object deleted wakes its dependents (from the index) and its owners
// that wait for their dependents; an owner that starts a foreground deletion wakes its dependents.
import { ALL_KINDS, type KindInfo, type KubeObject, type OwnerReference } from "@navarch/api";
import { watch, type SharedInformers, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { isDeepStrictEqual } from "node:util";
import type { DependentIndex } from "./dependents.js";
import { hasCollectorFinalizer, isWaitingForDependents, type OwnerState, type OwnerView } from "./reconcile.js";

/** Namespaces are emptied and deleted by the namespace controller, never by the collector. */
export const COLLECTED_KINDS: readonly KindInfo[] = ALL_KINDS.filter((k) => k.kind !== "Namespace");

export async function collectorInformers(shared: SharedInformers): Promise<Map<string, Informer<KubeObject>>> {
  const informers = await Promise.all(COLLECTED_KINDS.map((k) => shared.informer(k)));
  return new Map(informers.map((i) => [i.store.info.kind, i as Informer<KubeObject>]));
}

export type Role = "dependent" | "owner";

export function queueKey(role: Role, kind: string, key: string): string {
  return `${role}|${kind}|${key}`;
}

export function parseQueueKey(s: string): { role: Role; kind: string; key: string } {
  const [role, kind, ...rest] = s.split("|");
  return { role: role as Role, kind: kind!, key: rest.join("|") };
}

/** The owner an ownerReference names, looked up in the cache of its kind (namespaced owners in the dependent's namespace). */
export function ownerOf(byKind: ReadonlyMap<string, Informer<KubeObject>>, namespace: string, ref: OwnerReference): { state: OwnerState; owner?: KubeObject } {
  const informer = byKind.get(ref.kind);
  if (!informer) return { state: "unknown" };
  const owner = informer.get(informer.store.info.namespaced ? namespace : "", ref.name);
  if (!owner || owner.metadata?.uid !== ref.uid) return { state: "absent" };
  return { state: isWaitingForDependents(owner) ? "waiting" : "solid", owner };
}

export function ownerViews(byKind: ReadonlyMap<string, Informer<KubeObject>>, obj: KubeObject): OwnerView[] {
  const ns = obj.metadata?.namespace ?? "";
  return (obj.metadata?.ownerReferences ?? []).map((ref) => ({ ref, state: ownerOf(byKind, ns, ref).state }));
}

export function collectorWatches(byKind: ReadonlyMap<string, Informer<KubeObject>>, index: DependentIndex): Watch[] {
  return [...byKind.entries()].map(([kind, informer]) => watch(informer, (e: StoreEvent<KubeObject>) => keysFor(byKind, index, kind, e)));
}

export function keysFor(byKind: ReadonlyMap<string, Informer<KubeObject>>, index: DependentIndex, kind: string, e: StoreEvent<KubeObject>): string[] {
  const keys: string[] = [];
  const obj = e.object;
  const uid = obj.metadata?.uid ?? "";
  const refs = obj.metadata?.ownerReferences ?? [];
  const wakeOwners = (these: readonly OwnerReference[]) => {
    for (const ref of these) {
      const { owner } = ownerOf(byKind, obj.metadata?.namespace ?? "", ref);
      if (owner && hasCollectorFinalizer(owner)) keys.push(queueKey("owner", ref.kind, byKind.get(ref.kind)!.store.keyOf(owner)));
    }
  };
  const wakeDependents = () => {
    for (const d of index.dependentsOf(uid)) keys.push(queueKey("dependent", d.kind, d.key));
  };
  if (e.type === "DELETED") {
    wakeDependents();
    wakeOwners(refs);
    return keys;
  }
  const oldRefs = e.old?.metadata?.ownerReferences ?? [];
  if (refs.length > 0 && (e.type === "ADDED" || !isDeepStrictEqual(refs, oldRefs))) keys.push(queueKey("dependent", kind, e.key));
  if (e.type === "MODIFIED" && !isDeepStrictEqual(refs, oldRefs)) wakeOwners(oldRefs.filter((r) => !refs.some((n) => n.uid === r.uid && n.blockOwnerDeletion === r.blockOwnerDeletion)));
  if (hasCollectorFinalizer(obj)) {
    keys.push(queueKey("owner", kind, e.key));
    if (isWaitingForDependents(obj) && !(e.old && isWaitingForDependents(e.old))) wakeDependents();
  }
  return keys;
}

/** Every key, once after the caches replayed: objects with owners, and owners being deleted by the collector. */
export function allKeys(byKind: ReadonlyMap<string, Informer<KubeObject>>): string[] {
  const keys: string[] = [];
  for (const [kind, informer] of byKind) {
    for (const key of informer.keys()) {
      const obj = informer.getByKey(key)!;
      if ((obj.metadata?.ownerReferences ?? []).length > 0) keys.push(queueKey("dependent", kind, key));
      if (hasCollectorFinalizer(obj)) keys.push(queueKey("owner", kind, key));
    }
  }
  return keys;
}
