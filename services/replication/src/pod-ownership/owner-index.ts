// An index over one informer: the objects each controller (by uid) owns, and the objects of each
// namespace that no controller owns (candidates for adoption). A replica set's sync then looks at
// its own pods and the orphans of its namespace, never at every pod (cost does not grow with the
// cluster). Kept current by the informer's events; built from its cache when created late.
import type { KubeObject } from "@navarch/api";
import type { Informer } from "@navarch/store";
import { controllerRef } from "./pod-state.js";

export class OwnerIndex<T extends KubeObject> {
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly orphansByNamespace = new Map<string, Set<string>>();
  /** key -> the owner uid it is filed under ("" for an orphan). */
  private readonly filed = new Map<string, { owner: string; namespace: string }>();
  private readonly unsubscribe: () => void;

  constructor(private readonly informer: Informer<T>) {
    // Subscribing and reading the cache happen in one turn of the event loop: nothing is missed.
    this.unsubscribe = informer.onEvent((e) => (e.type === "DELETED" ? this.remove(e.key) : this.put(e.key, e.object)));
    for (const key of informer.keys()) this.put(key, informer.getByKey(key)!);
  }

  stop(): void {
    this.unsubscribe();
  }

  /** Objects whose controller ownerReference has this uid. */
  owned(uid: string): T[] {
    return this.resolve(this.byOwner.get(uid));
  }

  /** Objects of the namespace without a controller ownerReference. */
  orphans(namespace: string): T[] {
    return this.resolve(this.orphansByNamespace.get(namespace));
  }

  private resolve(keys: Set<string> | undefined): T[] {
    const out: T[] = [];
    for (const k of keys ?? []) {
      const obj = this.informer.getByKey(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  private put(key: string, obj: T): void {
    const owner = controllerRef(obj)?.uid ?? "";
    const namespace = obj.metadata?.namespace ?? "";
    const before = this.filed.get(key);
    if (before && before.owner === owner && before.namespace === namespace) return;
    if (before) this.unfile(key, before);
    this.filed.set(key, { owner, namespace });
    const [map, bucket] = owner ? [this.byOwner, owner] : [this.orphansByNamespace, namespace];
    let set = map.get(bucket);
    if (!set) map.set(bucket, (set = new Set()));
    set.add(key);
  }

  private remove(key: string): void {
    const before = this.filed.get(key);
    if (!before) return;
    this.unfile(key, before);
    this.filed.delete(key);
  }

  private unfile(key: string, at: { owner: string; namespace: string }): void {
    const [map, bucket] = at.owner ? [this.byOwner, at.owner] : [this.orphansByNamespace, at.namespace];
    const set = map.get(bucket);
    set?.delete(key);
    if (set?.size === 0) map.delete(bucket);
  }
}
