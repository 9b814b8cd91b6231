// The garbage collector's graph: for every owner uid, the objects (of any kind) whose
// ownerReferences name it. An owner's deletion then finds its dependents with one map lookup,
// never by scanning every object. Kept current by the informers' events; built from their
// caches when created (subscribing and reading happen in one turn of the event loop, so
// nothing is missed).
import type { KubeObject } from "@navarch/api";
import type { Informer } from "@navarch/store";

/** An object of the graph: its kind and its store key. */
export interface ObjectRef {
  kind: string;
  key: string;
}

export class DependentIndex {
  /** owner uid -> "<kind>\u0000<key>" of its dependents. */
  private readonly byOwner = new Map<string, Set<string>>();
  /** "<kind>\u0000<key>" -> the owner uids it is filed under. */
  private readonly filed = new Map<string, string[]>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(informers: readonly Informer<KubeObject>[]) {
    for (const informer of informers) {
      const kind = informer.store.info.kind;
      this.unsubscribe.push(
        informer.onEvent((e) => (e.type === "DELETED" ? this.put(kind, e.key, undefined) : this.put(kind, e.key, e.object))),
      );
      for (const key of informer.keys()) this.put(kind, key, informer.getByKey(key));
    }
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
  }

  /** The objects whose ownerReferences name this uid. */
  dependentsOf(uid: string): ObjectRef[] {
    return [...(this.byOwner.get(uid) ?? [])].map(parseRef);
  }

  hasDependents(uid: string): boolean {
    return (this.byOwner.get(uid)?.size ?? 0) > 0;
  }

  /** Owners with at least one dependent (tests, status pages). */
  get owners(): number {
    return this.byOwner.size;
  }

  private put(kind: string, key: string, obj: KubeObject | undefined): void {
    const ref = `${kind}\u0000${key}`;
    const owners = [...new Set((obj?.metadata?.ownerReferences ?? []).map((o) => o.uid).filter((u) => u !== ""))];
    const before = this.filed.get(ref) ?? [];
    if (before.length === owners.length && before.every((u, i) => u === owners[i])) return;
    for (const uid of before) {
      const set = this.byOwner.get(uid);
      set?.delete(ref);
      if (set?.size === 0) this.byOwner.delete(uid);
    }
    if (owners.length === 0) {
      this.filed.delete(ref);
      return;
    }
    this.filed.set(ref, owners);
    for (const uid of owners) {
      let set = this.byOwner.get(uid);
      if (!set) this.byOwner.set(uid, (set = new Set()));
      set.add(ref);
    }
  }
}

function parseRef(s: string): ObjectRef {
  const i = s.indexOf("\u0000");
  return { kind: s.slice(0, i), key: s.slice(i + 1) };
}
