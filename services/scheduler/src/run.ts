// The scheduler: binds pods that have no node to a node, while this process holds the Lease
// navarch-system/scheduler (see runElected). The all-in-one calls run() with its own connection
// and shared informers; main.ts calls it standalone.
import { KINDS, type Event, type Node, type Pod } from "@navarch/api";
import { ObjectEventRecorder, runElected, type Logger, type SharedInformers } from "@navarch/controller";
import { EVENT_TTL_MS, ResourceStore, type Informer } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import { defaultOptions, type SchedulerOptions } from "./options.js";
import { Scheduler } from "./scheduler.js";

export const LEASE_NAME = "scheduler";
/** Events expire after an hour (the bucket's max age), as the other services open it. */

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<SchedulerOptions> & { kvReplicas?: number };
  /** Informers shared with other services of this process (the all-in-one). */
  shared?: SharedInformers;
  /** Called with each scheduler started on taking the lease (tests read its stats). */
  onScheduler?: (scheduler: Scheduler) => void;
}

export async function run({ nc, logger, signal, options = {}, shared, onScheduler }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  const replicas = options.kvReplicas ?? 1;
  await runElected({
    nc,
    logger,
    signal,
    leaseName: LEASE_NAME,
    election: o,
    shared,
    kvReplicas: replicas,
    prepare: async (informers) => {
      const pods = (await informers.informer(KINDS.Pod)) as Informer<Pod>;
      const nodes = (await informers.informer(KINDS.Node)) as Informer<Node>;
      const events = await ResourceStore.open<Event>(nc, KINDS.Event, { replicas, maxAgeMs: EVENT_TTL_MS });
      return () => {
        const scheduler = new Scheduler({
          pods,
          nodes,
          recorder: new ObjectEventRecorder({ store: events, component: o.schedulerName, logger }),
          schedulerName: o.schedulerName,
          profile: o.profile,
          percentageOfNodesToScore: o.percentageOfNodesToScore,
          maxBindsInFlight: o.maxBindsInFlight,
          initialBackoffMs: o.initialBackoffMs,
          maxBackoffMs: o.maxBackoffMs,
          logger,
        });
        onScheduler?.(scheduler);
        // runElected only calls start() and stop(), which the scheduler has; it is not a
        // key-per-worker Controller (its queue backs off per pod and moves on cluster changes).
        return [scheduler];
      };
    },
  });
}
