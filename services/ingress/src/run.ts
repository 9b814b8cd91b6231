// The ingress controller: an HTTP reverse proxy serving the Ingresses of its class, routed from
// the Ingress, Service and Endpoints informers (routes/), straight to ready pod IPs (proxy/).
//
// Elected or not? Both. The proxy serves traffic, so every instance serves from the moment its
// caches have synced, whoever leads: electing it would leave all but one instance idle and make a
// leader change an outage. Only the status writer (status/) runs under the Lease
// navarch-system/ingress: it writes the Ingresses' status.loadBalancer, one fact with one writer,
// and unelected instances would overwrite each other's address forever. (So with several
// instances on different addresses, status names the leader's; a load balancer in front of them
// would be the address to publish, through NAVARCH_INGRESS_STATUS_ADDRESS.)
//
// The all-in-one calls run() with its own connection and shared informers; main.ts calls it
// standalone.
import { KINDS } from "@navarch/api";
import { runElected, SharedInformers, untilAborted, type Logger } from "@navarch/controller";
import type { NatsConnection } from "@nats-io/transport-node";
import { setTimeout as sleep } from "node:timers/promises";
import { defaultStatusAddress, parseListenAddress, type ListenAddress } from "./listen-address.js";
import { defaultOptions, type IngressOptions } from "./options.js";
import { IngressProxy } from "./proxy/server.js";
import { RouteWatcher } from "./routes/watch.js";
import { statusController } from "./status/controller.js";

export const LEASE_NAME = "ingress";

/** How long to wait before trying again to listen on an address another process holds. */
const ADDRESS_IN_USE_RETRY_MS = 5_000;

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<IngressOptions> & { kvReplicas?: number };
  /** Informers shared with other services of this process (the all-in-one). */
  shared?: SharedInformers;
  /** Called once the proxy listens, with the bound address (for port 0). */
  onListening?: (address: ListenAddress) => void;
}

export async function run({ nc, logger, signal, options = {}, shared, onListening }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  if (o.ingressAddr.trim() === "") {
    logger.info({}, "ingress disabled (NAVARCH_INGRESS_ADDR is empty)");
    await untilAborted(new Promise<never>(() => {}), signal);
    return;
  }
  const listen = parseListenAddress(o.ingressAddr);
  const informerSet = shared ?? new SharedInformers(nc, { logger, openOptions: () => ({ replicas: options.kvReplicas ?? 1 }) });
  const proxy = new IngressProxy({ logger, connectTimeoutMs: o.ingressConnectTimeoutSeconds * 1000, backendTimeoutMs: o.ingressBackendTimeoutSeconds * 1000 });
  let watcher: RouteWatcher | undefined;
  try {
    const informers = {
      ingresses: await informerSet.informer(KINDS.Ingress),
      services: await informerSet.informer(KINDS.Service),
      endpoints: await informerSet.informer(KINDS.Endpoints),
    };
    // Serving before the caches have replayed would answer 404 for routes that exist.
    if (!(await untilAborted(informerSet.start(), signal))) return;
    watcher = new RouteWatcher({ informers, ingressClass: o.ingressClass, onTable: (t) => proxy.setTable(t), logger });
    watcher.start();

    const bound = await listenWhenFree(proxy, listen, signal, logger);
    if (!bound) return;
    logger.info({ address: `${bound.host}:${bound.port}`, ingressClass: o.ingressClass }, "ingress listening");
    onListening?.(bound);

    const address = o.ingressStatusAddress || defaultStatusAddress(listen.host);
    await runElected({
      nc,
      logger,
      signal,
      leaseName: LEASE_NAME,
      election: o,
      shared: informerSet,
      kvReplicas: options.kvReplicas,
      prepare: async () => () => [statusController({ ingresses: informers.ingresses, ingressClass: o.ingressClass, address, logger })],
    });
  } finally {
    watcher?.stop();
    await proxy.close(o.ingressShutdownGraceSeconds * 1000);
    if (!shared) await informerSet.stop();
  }
}

/**
 * Listens; while another process holds the address, logs it and tries again every few seconds
 * (a port taken on a developer's machine must not take the whole all-in-one down). Resolves
 * undefined when aborted first.
 */
async function listenWhenFree(proxy: IngressProxy, at: ListenAddress, signal: AbortSignal, logger: Logger): Promise<ListenAddress | undefined> {
  for (;;) {
    try {
      const a = await proxy.listen(at.host, at.port);
      return { host: a.address, port: a.port };
    } catch (err) {
      if ((err as { code?: string }).code !== "EADDRINUSE") throw err;
      logger.error({ address: `${at.host}:${at.port}`, retryInMs: ADDRESS_IN_USE_RETRY_MS }, "ingress address in use (NAVARCH_INGRESS_ADDR); not serving until it is free");
    }
    const slept = await sleep(ADDRESS_IN_USE_RETRY_MS, true, { signal }).catch(() => false);
    if (!slept) return undefined;
  }
}
