// The Service and Endpoints informers (all namespaces; both kinds are small) a node follows: one
// watch per bucket, shared by the service proxy and the cluster DNS. Opened only when one of them
// runs, so hollow nodes keep no such watch.
import { KINDS, type Endpoints, type Service } from "@navarch/api";
import type { LogSink as Logger } from "@navarch/config";
import { Informer, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";

export interface ServiceInformers {
  services: Informer<Service>;
  endpoints: Informer<Endpoints>;
  stop(): void;
}

/** Opens both informers and waits for their replay. */
export async function openServiceInformers(nc: NatsConnection, replicas: number, logger: Logger): Promise<ServiceInformers> {
  const [serviceStore, endpointsStore] = await Promise.all([
    ResourceStore.open<Service>(nc, KINDS.Service, { replicas }),
    ResourceStore.open<Endpoints>(nc, KINDS.Endpoints, { replicas }),
  ]);
  const onWatchError = (kind: string) => (err: unknown) => logger.warn({ err: String(err) }, `watch of ${kind} failed; retrying`);
  // No event history: nothing serves watches from these caches.
  const services = new Informer<Service>(serviceStore, nc, { historySize: 0, onWatchError: onWatchError("Services") });
  const endpoints = new Informer<Endpoints>(endpointsStore, nc, { historySize: 0, onWatchError: onWatchError("Endpoints") });
  await Promise.all([services.start(), endpoints.start()]);
  return {
    services,
    endpoints,
    stop() {
      services.stop();
      endpoints.stop();
    },
  };
}
