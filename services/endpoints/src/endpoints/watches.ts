// What the endpoints controller watches, and which Service keys (<namespace>.<name>, the same
// key as the Endpoints) an event concerns:
//
// - a Service: its own key;
// - a Pod: the Services of its namespace whose selector matches it, before or after the change
//   (a relabelled pod leaves one Service and joins another). Only changes that can move an
//   endpoint count (IP, readiness, labels, ports, node, termination, hostname): a pod's restart
//   count or a container's state alone queues nothing. Services are found through the
//   informer's per-namespace index, never by a scan of all Services;
// - an Endpoints: its own key, so one edited or deleted by someone else is put back.
import { KINDS, type Endpoints, type Pod, type Service } from "@navarch/api";
import { watch, type SharedInformers, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { isManagedService, isPodReady, selects } from "./reconcile.js";

export interface EndpointsInformers {
  services: Informer<Service>;
  pods: Informer<Pod>;
  endpoints: Informer<Endpoints>;
}

export async function endpointsInformers(shared: SharedInformers): Promise<EndpointsInformers> {
  const [services, pods, endpoints] = await Promise.all([
    shared.informer(KINDS.Service),
    shared.informer(KINDS.Pod),
    shared.informer(KINDS.Endpoints),
  ]);
  return { services, pods, endpoints };
}

/** `onServiceDeleted` hears of each deleted Service's key before it is queued. */
export function endpointsWatches(informers: EndpointsInformers, onServiceDeleted: (key: string) => void): Watch[] {
  return [
    watch(informers.services, (e: StoreEvent<Service>) => {
      if (e.type === "DELETED") onServiceDeleted(e.key);
      return [e.key];
    }),
    watch(informers.pods, (e: StoreEvent<Pod>) => serviceKeysForPodEvent(informers.services, e)),
    watch(informers.endpoints, (e: StoreEvent<Endpoints>) => [e.key]),
  ];
}

export function serviceKeysForPodEvent(services: Informer<Service>, e: StoreEvent<Pod>): string[] {
  if (e.type === "MODIFIED" && e.old && endpointFacts(e.old) === endpointFacts(e.object)) return [];
  const keys = new Set(servicesSelecting(services, e.object));
  if (e.old) for (const key of servicesSelecting(services, e.old)) keys.add(key);
  return [...keys];
}

/** Keys of the managed Services in the pod's namespace that select it. */
export function servicesSelecting(services: Informer<Service>, pod: Pod): string[] {
  const keys: string[] = [];
  for (const svc of services.list(pod.metadata?.namespace ?? "")) {
    if (isManagedService(svc) && selects(svc, pod)) keys.push(services.store.keyOf(svc));
  }
  return keys;
}

/** Everything about a pod that its endpoints depend on. */
function endpointFacts(pod: Pod): string {
  return JSON.stringify([
    pod.metadata?.labels,
    pod.metadata?.deletionTimestamp,
    pod.status?.podIP,
    pod.status?.phase,
    isPodReady(pod),
    pod.spec?.nodeName,
    pod.spec?.hostname,
    pod.spec?.subdomain,
    pod.spec?.containers.map((c) => c.ports),
  ]);
}

/** The pods of the Service's namespace (the informer's namespace index). */
export function podsOf(informers: EndpointsInformers, namespace: string): Pod[] {
  return informers.pods.list(namespace);
}
