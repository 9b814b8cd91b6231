// The scheduler: binds pods that have no node to a node, while this process holds the Lease
// navarch-system/scheduler (see runElected). The all-in-one calls run() with its own connection
// and shared informers; main.ts calls it standalone.
import { runElected, type Logger, type SharedInformers } from "@navarch/controller";
import type { NatsConnection } from "@nats-io/transport-node";
import { defaultOptions, type SchedulerOptions } from "./options.js";

export const LEASE_NAME = "scheduler";

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<SchedulerOptions> & { kvReplicas?: number };
  /** Informers shared with other services of this process (the all-in-one). */
  shared?: SharedInformers;
}

export async function run({ nc, logger, signal, options = {}, shared }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  await runElected({
    nc,
    logger,
    signal,
    leaseName: LEASE_NAME,
    election: o,
    shared,
    kvReplicas: options.kvReplicas,
    prepare: async () => {
      return () => [];
    },
  });
}
