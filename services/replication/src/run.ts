// The replication service: the ReplicaSet, Deployment, DaemonSet and Job controllers and the
// garbage collector, run while this process holds the Lease
// navarch-system/replication (see runElected). The all-in-one calls run() with its own connection
// and shared informers; main.ts calls it standalone.
import { runElected, type Logger, type SharedInformers } from "@navarch/controller";
import type { NatsConnection } from "@nats-io/transport-node";
import { prepareDaemonsJobsGc } from "./daemons-jobs-gc.js";
import { prepareRollouts } from "./deployment/prepare.js";
import { defaultOptions, type ReplicationOptions } from "./options.js";

export const LEASE_NAME = "replication";

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<ReplicationOptions> & { kvReplicas?: number };
  /** Informers shared with other services of this process (the all-in-one). */
  shared?: SharedInformers;
}

export async function run({ nc, logger, signal, options = {}, shared }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  if (!o.replicationEnabled) {
    logger.info({}, "replication controllers disabled here (NAVARCH_REPLICATION=false)");
    return;
  }
  await runElected({
    nc,
    logger,
    signal,
    leaseName: LEASE_NAME,
    election: o,
    shared,
    kvReplicas: options.kvReplicas,
    prepare: async (informers) => {
      const podDefaults = { notReadyTolerationSeconds: o.defaultNotReadyTolerationSeconds, unreachableTolerationSeconds: o.defaultUnreachableTolerationSeconds };
      const rollouts = await prepareRollouts(informers, logger, { ...o, podDefaults });
      const daemonsJobsGc = await prepareDaemonsJobsGc(informers, logger, { ...o, podDefaults });
      return () => [...rollouts(), ...daemonsJobsGc()];
    },
  });
}
