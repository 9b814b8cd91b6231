// The endpoints service: the endpoints controller (each selecting Service's ready and not-ready
// pod addresses) and the address repair loop (Service cluster IP and node port claims), run while
// this process holds the Lease navarch-system/endpoints (see runElected). The all-in-one calls
// run() with its own connection and shared informers; main.ts calls it standalone.
import { KINDS } from "@navarch/api";
import { runElected, type Logger, type SharedInformers } from "@navarch/controller";
import { AddressClaims } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import { addressRepairController } from "./address-repair/controller.js";
import { endpointsController } from "./endpoints/controller.js";
import { endpointsInformers } from "./endpoints/watches.js";
import { defaultOptions, type EndpointsOptions } from "./options.js";

export const LEASE_NAME = "endpoints";

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<EndpointsOptions> & { kvReplicas?: number };
  /** Informers shared with other services of this process (the all-in-one). */
  shared?: SharedInformers;
}

export async function run({ nc, logger, signal, options = {}, shared }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  const claims = await AddressClaims.open(nc, {
    replicas: options.kvReplicas ?? 1,
    onWatchError: (err) => logger.warn({ err: String(err) }, "address claims watch failed; retrying"),
  });
  try {
    await runElected({
      nc,
      logger,
      signal,
      leaseName: LEASE_NAME,
      election: o,
      shared,
      kvReplicas: options.kvReplicas,
      prepare: async (informerSet) => {
        const informers = await endpointsInformers(informerSet);
        const events = await informerSet.store(KINDS.Event);
        await claims.start();
        return () => [
          endpointsController({
            informers,
            events,
            workers: o.endpointsWorkers,
            resyncPeriodMs: o.endpointsResyncSeconds * 1000,
            logger,
          }),
          addressRepairController({
            services: informers.services,
            claims,
            events,
            graceMs: o.addressRepairGraceSeconds * 1000,
            repairPeriodMs: o.addressRepairSeconds * 1000,
            logger,
          }),
        ];
      },
    });
  } finally {
    claims.stop();
  }
}
