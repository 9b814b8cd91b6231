// The garbage collector's writes, every one compare-and-swap (read-modify-write retried from
// fresh state on a conflict). A dependent is deleted only after the store itself confirms that
// the owners the caches call absent are really gone (as Kubernetes' collector checks with a live
// lookup): the caches of different kinds follow different buckets, and one may lag behind.
import { ConflictError, NotFoundError, type KubeObject, type OwnerReference, type Pod } from "@navarch/api";
import { requestDeletion, timestamp, type Informer, type ResourceStore } from "@navarch/store";
import { deletePod } from "../pod-ownership/controlled-pods.js";
import { FOREGROUND_DELETION, ORPHAN, type Dependent } from "./reconcile.js";

export interface ApplyDeps {
  /** The informer of every kind the collector follows, by kind. */
  byKind: ReadonlyMap<string, Informer<KubeObject>>;
  now: () => Date;
}

function storeOf(deps: ApplyDeps, kind: string): ResourceStore<KubeObject> {
  const informer = deps.byKind.get(kind);
  if (!informer) throw new Error(`garbage collector: kind ${kind} is not followed`);
  return informer.store;
}

/** Drops the ownerReferences to these uids from the object (the same object: same uid). Resolves false when it is gone. */
export async function removeOwnerReferences(deps: ApplyDeps, kind: string, obj: KubeObject, uids: readonly string[]): Promise<boolean> {
  const meta = obj.metadata!;
  const stored = await storeOf(deps, kind).modify(meta.namespace, meta.name, (current) => {
    const m = current.metadata!;
    if (m.uid !== meta.uid) return undefined;
    const refs = m.ownerReferences ?? [];
    const kept = refs.filter((r) => !uids.includes(r.uid));
    if (kept.length === refs.length) return undefined;
    m.ownerReferences = kept;
    return current;
  });
  return stored !== undefined;
}

/** Throws ConflictError when one of `absent` still exists in the store (the cache is behind). */
export async function confirmAbsent(deps: ApplyDeps, namespace: string, absent: readonly OwnerReference[]): Promise<void> {
  for (const ref of absent) {
    const informer = deps.byKind.get(ref.kind);
    if (!informer) continue;
    const owner = await informer.store.get(informer.store.info.namespaced ? namespace : "", ref.name);
    if (owner?.metadata?.uid === ref.uid) {
      throw new ConflictError(`owner ${ref.kind}/${ref.name} (uid ${ref.uid}) still exists; the cache is behind`);
    }
  }
}

/**
 * Deletes a dependent. Background: as the gateway deletes it (a pod on a node gracefully).
 * Foreground: it gets the foregroundDeletion finalizer and a deletionTimestamp, so it waits for
 * its own dependents.
 */
export async function deleteDependent(deps: ApplyDeps, kind: string, obj: KubeObject, policy: "Background" | "Foreground"): Promise<void> {
  const store = storeOf(deps, kind);
  const now = deps.now();
  try {
    if (policy === "Background") {
      if (kind === "Pod") await deletePod(store as unknown as ResourceStore<Pod>, obj as Pod, { now }, () => undefined);
      else await requestDeletion(store, obj, now);
      return;
    }
    const meta = obj.metadata!;
    const pod = kind === "Pod" ? (obj as Pod) : undefined;
    const finished = pod?.status?.phase === "Succeeded" || pod?.status?.phase === "Failed";
    const grace = pod?.spec?.nodeName && !finished ? (pod.spec.terminationGracePeriodSeconds ?? 30) : 0;
    await store.update({
      ...obj,
      metadata: {
        ...meta,
        finalizers: [...(meta.finalizers ?? []).filter((f) => f !== FOREGROUND_DELETION), FOREGROUND_DELETION],
        deletionTimestamp: timestamp(now),
        deletionGracePeriodSeconds: grace,
      },
    });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

/** Removes one of the collector's finalizers from an owner (the same owner: same uid); the store deletes it when none is left. */
export async function removeFinalizer(deps: ApplyDeps, kind: string, owner: KubeObject, finalizer: typeof ORPHAN | typeof FOREGROUND_DELETION): Promise<void> {
  const meta = owner.metadata!;
  await storeOf(deps, kind).modify(meta.namespace, meta.name, (current) => {
    const m = current.metadata!;
    if (m.uid !== meta.uid || !(m.finalizers ?? []).includes(finalizer)) return undefined;
    m.finalizers = m.finalizers.filter((f) => f !== finalizer);
    return current;
  });
}

/** Orphans the dependents (drops their reference to the owner), then removes the orphan finalizer. */
export async function orphanDependents(deps: ApplyDeps, kind: string, owner: KubeObject, dependents: readonly Dependent[]): Promise<void> {
  const uid = owner.metadata!.uid;
  const results = await Promise.allSettled(dependents.map((d) => removeOwnerReferences(deps, d.kind, d.obj, [uid])));
  const failed = results.filter((r) => r.status === "rejected");
  // The finalizer stays until every dependent let go; the pass is retried (by the error's class).
  if (failed.length > 0) throw (failed[0] as PromiseRejectedResult).reason;
  await removeFinalizer(deps, kind, owner, ORPHAN);
}
