// What the namespace controller watches: Namespaces (key: the namespace's name) and every
// namespaced kind, whose object events map to their namespace's key - but only while that
// namespace is being deleted, so the churn of live namespaces (pods, events) costs one map
// lookup and queues nothing. A namespace that starts terminating is queued by its own event.
import { ALL_KINDS, KINDS, type KindInfo, type KubeObject, type Namespace } from "@navarch/api";
import { watch, type SharedInformers, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import type { ContentItem } from "./reconcile.js";

export interface NamespaceInformers {
  namespaces: Informer<Namespace>;
  /** One informer per namespaced kind (Event and Lease included). */
  contents: Informer<KubeObject>[];
}

/** Every namespaced kind: everything a namespace can contain. */
export const CONTENT_KINDS: readonly KindInfo[] = ALL_KINDS.filter((k) => k.namespaced);

export async function namespaceInformers(shared: SharedInformers): Promise<NamespaceInformers> {
  const [namespaces, ...contents] = await Promise.all([
    shared.informer(KINDS.Namespace),
    ...CONTENT_KINDS.map((k) => shared.informer(k)),
  ]);
  return { namespaces: namespaces as Informer<Namespace>, contents: contents as Informer<KubeObject>[] };
}

export function namespaceWatches(informers: NamespaceInformers): Watch[] {
  const terminating = (namespace: string | undefined): boolean =>
    !!namespace && !!informers.namespaces.get("", namespace)?.metadata?.deletionTimestamp;
  return [
    watch(informers.namespaces, (e) => [e.key]),
    ...informers.contents.map((informer) =>
      watch(informer, (e: StoreEvent<KubeObject>) => {
        const namespace = e.object.metadata?.namespace;
        return terminating(namespace) ? [namespace!] : [];
      }),
    ),
  ];
}

/** Everything in one namespace, across all kinds, from the caches (indexed by namespace: no scan). */
export function contentsOf(informers: NamespaceInformers, namespace: string): ContentItem[] {
  const items: ContentItem[] = [];
  for (const informer of informers.contents) {
    for (const obj of informer.list(namespace)) {
      const meta = obj.metadata!;
      items.push({
        kind: informer.store.info.kind,
        namespace: meta.namespace,
        name: meta.name,
        finalizers: meta.finalizers ?? [],
        deletionTimestamp: meta.deletionTimestamp ?? "",
        resourceVersion: meta.resourceVersion,
      });
    }
  }
  return items;
}
