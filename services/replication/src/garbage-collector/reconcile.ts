// What the garbage collector does about one object - pure functions of the object and what the
// caches say about its owners or its dependents (Kubernetes' attemptToDeleteItem,
// orphanDependents and processDeletingDependentsItem).
//
// As a dependent, each of its ownerReferences (matched by uid) is
//   absent   no object of that kind, name and uid: the owner is gone;
//   waiting  the owner is being deleted in the foreground (foregroundDeletion finalizer);
//   solid    the owner exists otherwise;
//   unknown  a kind the collector does not follow: treated as solid, never collected.
// and then:
//   - any solid owner: keep it, but drop the references to absent and waiting owners (a waiting
//     owner must not wait for a dependent that another owner keeps);
//   - otherwise, with a waiting owner and dependents of its own: delete it in the foreground too,
//     so the deletion goes down the chain while the owner waits;
//   - otherwise (every owner absent or waiting): delete it; its own finalizers still hold it.
//   An object that is already being deleted is left alone.
// As an owner being deleted:
//   - "orphan": drop the reference to it from every dependent, then remove the finalizer (which
//     deletes it when nothing else holds it);
//   - "foregroundDeletion": once no dependent with blockOwnerDeletion refers to it any more,
//     remove the finalizer. Its dependents are deleted as dependents of a waiting owner.
import type { KubeObject, OwnerReference } from "@navarch/api";

export const FOREGROUND_DELETION = "foregroundDeletion";
export const ORPHAN = "orphan";

export type OwnerState = "absent" | "waiting" | "solid" | "unknown";

export interface OwnerView {
  ref: OwnerReference;
  state: OwnerState;
}

export type DependentStep =
  | { type: "none" }
  | { type: "removeOwnerReferences"; uids: string[] }
  /** `absent`: the owners the caches say are gone; the applier confirms it from the store first. */
  | { type: "delete"; policy: "Background" | "Foreground"; absent: OwnerReference[] };

export function planDependent(obj: KubeObject, owners: readonly OwnerView[], hasDependents: boolean): DependentStep {
  if (owners.length === 0) return { type: "none" };
  const solid = owners.filter((o) => o.state === "solid" || o.state === "unknown");
  const absent = owners.filter((o) => o.state === "absent");
  const waiting = owners.filter((o) => o.state === "waiting");
  if (solid.length > 0) {
    const drop = [...absent, ...waiting].map((o) => o.ref.uid);
    return drop.length === 0 ? { type: "none" } : { type: "removeOwnerReferences", uids: [...new Set(drop)] };
  }
  if (obj.metadata?.deletionTimestamp) return { type: "none" };
  const policy = waiting.length > 0 && hasDependents ? "Foreground" : "Background";
  return { type: "delete", policy, absent: absent.map((o) => o.ref) };
}

export interface Dependent {
  kind: string;
  obj: KubeObject;
}

export type OwnerStep =
  | { type: "none" }
  /** Drop the owner's reference from these dependents, then remove the orphan finalizer. */
  | { type: "orphan"; dependents: Dependent[] }
  | { type: "waitForDependents"; blocking: number }
  | { type: "removeFinalizer"; finalizer: typeof FOREGROUND_DELETION };

export function planOwner(owner: KubeObject, dependents: readonly Dependent[]): OwnerStep {
  const meta = owner.metadata!;
  if (!meta.deletionTimestamp) return { type: "none" };
  const finalizers = meta.finalizers ?? [];
  const mine = (d: Dependent) => (d.obj.metadata?.ownerReferences ?? []).filter((r) => r.uid === meta.uid);
  if (finalizers.includes(ORPHAN)) {
    return { type: "orphan", dependents: dependents.filter((d) => mine(d).length > 0) };
  }
  if (finalizers.includes(FOREGROUND_DELETION)) {
    const blocking = dependents.filter((d) => mine(d).some((r) => r.blockOwnerDeletion === true)).length;
    return blocking > 0 ? { type: "waitForDependents", blocking } : { type: "removeFinalizer", finalizer: FOREGROUND_DELETION };
  }
  return { type: "none" };
}

/** Whether an owner is in the foreground deletion its dependents must follow. */
export function isWaitingForDependents(obj: KubeObject): boolean {
  return !!obj.metadata?.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(FOREGROUND_DELETION);
}

/** Whether the collector has work on this object as an owner being deleted. */
export function hasCollectorFinalizer(obj: KubeObject): boolean {
  const f = obj.metadata?.finalizers ?? [];
  return !!obj.metadata?.deletionTimestamp && (f.includes(ORPHAN) || f.includes(FOREGROUND_DELETION));
}
