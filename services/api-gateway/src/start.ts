// Starting the gateway on a NATS connection: open every kind's store and informer, make sure
// the system namespaces exist, then serve. Used by main.ts and by the all-in-one.
import * as grpc from "@grpc/grpc-js";
import { ALL_KINDS, AlreadyExistsError, KINDS, type Event, type KindInfo, type Namespace, type Secret } from "@navarch/api";
import type { Logger } from "@navarch/config";
import { AddressClaims, EVENT_TTL_MS, Informer, ResourceStore, SYSTEM_NAMESPACES, clusterIdentity } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import { TokenAuthenticator } from "./auth.js";
import { GatewayContext } from "./context.js";
import { CreateRequests } from "./create-requests.js";
import { ObjectsApi } from "./objects.js";
import type { GatewayOptions } from "./options.js";
import { createGateway } from "./server.js";
import type { WatchStats } from "./watch.js";
import { parseClusterIPRange, parseNodePortRange } from "./service-address-ranges.js";
import { ServiceAddresses } from "./service-addresses.js";
import { reportUndecodableValues } from "./undecodable.js";

export interface RunningGateway {
  /** host:port actually bound. */
  address: string;
  /** Open watches, the bytes they hold, and the informer subscriptions (watches are one each). */
  stats(): WatchStats & { subscriptions: number };
  stop(): Promise<void>;
}

/**
 * Where the gateway's caches come from when it shares them (the all-in-one passes its
 * SharedInformers, built with the gateway's watch history, so each kind is cached once per
 * process). The owner starts and stops them.
 */
export interface InformerSource {
  store(info: KindInfo): Promise<ResourceStore>;
  informer(info: KindInfo): Promise<Informer>;
  start(): Promise<void>;
}

export async function startGateway(deps: {
  nc: NatsConnection;
  logger: Logger;
  options: GatewayOptions;
  kvReplicas?: number;
  informers?: InformerSource;
}): Promise<RunningGateway> {
  const { nc, logger, options } = deps;
  const stores = new Map<string, ResourceStore>();
  const informers = new Map<string, Informer>();
  const shared = deps.informers;
  await Promise.all(
    ALL_KINDS.map(async (info) => {
      if (shared) {
        stores.set(info.kind, await shared.store(info));
        informers.set(info.kind, await shared.informer(info));
        return;
      }
      const store = await ResourceStore.open(nc, info, {
        replicas: deps.kvReplicas ?? 1,
        maxAgeMs: info.kind === "Event" ? EVENT_TTL_MS : 0,
      });
      const informer = new Informer(store, nc, {
        historySize: options.watchHistory,
        onWatchError: (err) => logger.warn({ err, kind: info.kind }, "watch failed; retrying"),
      });
      await informer.start();
      stores.set(info.kind, store);
      informers.set(info.kind, informer);
    }),
  );
  await shared?.start();
  const auth = new TokenAuthenticator(informers.get("Secret") as Informer<Secret>);
  const ctx = new GatewayContext(nc, stores, informers, auth, options, logger);
  const claims = await AddressClaims.open(nc, {
    replicas: deps.kvReplicas ?? 1,
    onWatchError: (err) => logger.warn({ err, bucket: "navarch-ip-allocations" }, "watch failed; retrying"),
  });
  await claims.start();
  ctx.serviceAddresses = new ServiceAddresses({
    claims,
    clusterIPs: parseClusterIPRange(options.serviceClusterIPRange ?? "10.96.0.0/16"),
    nodePorts: parseNodePortRange(options.serviceNodePortRange ?? "30000-32767"),
  });
  ctx.createRequests = await CreateRequests.open(nc, { replicas: deps.kvReplicas ?? 1 });
  await ensureSystemNamespaces(ctx);
  // Made here when the gateway is the cluster's first component (docs/adr/0014-cluster-id.md).
  const cluster = await clusterIdentity(nc, { replicas: deps.kvReplicas ?? 1 });
  const stopReporting = reportUndecodableValues(informers.values(), stores.get("Event") as ResourceStore<Event>, logger);

  const gateway = createGateway(ctx, nc.info?.version ?? "", cluster.id);
  const port = await new Promise<number>((resolve, reject) =>
    gateway.server.bindAsync(options.apiAddr, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  gateway.health.setStatus("", "SERVING");
  const host = options.apiAddr.slice(0, options.apiAddr.lastIndexOf(":"));
  const address = `${host}:${port}`;
  logger.info({ address }, "api-gateway serving");

  return {
    address,
    stats() {
      let subscriptions = 0;
      for (const informer of informers.values()) subscriptions += informer.subscribers;
      return { ...gateway.watches.stats(), subscriptions };
    },
    async stop() {
      gateway.health.setStatus("", "NOT_SERVING");
      stopReporting();
      gateway.watches.closeAll();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          gateway.server.forceShutdown();
          resolve();
        }, 5_000);
        gateway.server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      if (!shared) for (const informer of informers.values()) informer.stop();
      claims.stop();
    },
  };
}

async function ensureSystemNamespaces(ctx: GatewayContext): Promise<void> {
  const api = new ObjectsApi<Namespace>(ctx, KINDS.Namespace);
  for (const name of SYSTEM_NAMESPACES) {
    if (ctx.informer(KINDS.Namespace).get("", name)) continue;
    try {
      await api.create(KINDS.Namespace.codec.fromPartial({ metadata: { name } }));
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
  }
}
