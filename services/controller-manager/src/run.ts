// The controller-manager: the namespace, pod projection, pod status, node lifecycle and taint
// eviction controllers, run while this process holds the Lease navarch-system/controller-manager
// (see runElected). The all-in-one calls run() with its own connection; main.ts calls it standalone.
import { KINDS, type Event, type Lease, type Node, type Pod } from "@navarch/api";
import { runElected, type Logger, type SharedInformers } from "@navarch/controller";
import { EVENT_TTL_MS, Informer, ResourceStore, openNodePods, openPodStatusReports } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import { namespaceController } from "./namespace/controller.js";
import { namespaceInformers } from "./namespace/watches.js";
import { nodeLifecycleController } from "./node-lifecycle/controller.js";
import { podProjector } from "./pod-projector/controller.js";
import { projectionDigests } from "./pod-projector/digests.js";
import { podStatusFolder } from "./pod-status/controller.js";
import { rawReports } from "./pod-status/raw-reports.js";
import { taintEvictionController } from "./taint-eviction/controller.js";
import { defaultOptions, type ControllerManagerOptions } from "./options.js";

export const LEASE_NAME = "controller-manager";

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<ControllerManagerOptions> & { kvReplicas?: number };
  /** Informers shared with other services of this process (the all-in-one). */
  shared?: SharedInformers;
}

export async function run({ nc, logger, signal, options = {}, shared }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  const replicas = options.kvReplicas ?? 1;
  // Buckets that are not a kind's own: the per-node pod view and the agents' status reports.
  const warn = (what: string) => (err: unknown) => logger.warn({ err: String(err) }, `${what} watch failed; retrying`);
  const projections = new Informer(projectionDigests(await openNodePods(nc, undefined, replicas)), nc, { onWatchError: warn("node pods") });
  const reports = new Informer(rawReports(await openPodStatusReports(nc, replicas)), nc, { onWatchError: warn("pod status") });
  const events = await ResourceStore.open<Event>(nc, KINDS.Event, { replicas, maxAgeMs: EVENT_TTL_MS });
  try {
    await runElected({
      nc,
      logger,
      signal,
      leaseName: LEASE_NAME,
      election: o,
      shared,
      kvReplicas: replicas,
      prepare: async (informerSet) => {
        const informers = await namespaceInformers(informerSet);
        const pods = (await informerSet.informer(KINDS.Pod)) as Informer<Pod>;
        const nodes = (await informerSet.informer(KINDS.Node)) as Informer<Node>;
        const leases = (await informerSet.informer(KINDS.Lease)) as Informer<Lease>;
        await Promise.all([projections.start(), reports.start()]);
        return () => [
          namespaceController({
            informers,
            workers: o.namespaceWorkers,
            resyncPeriodMs: o.namespaceResyncSeconds * 1000,
            logger,
          }),
          podProjector({ nc, informers: { pods, projections }, logger, kvReplicas: replicas }),
          podStatusFolder({ pods, reports, nodes, events, logger }),
          nodeLifecycleController({ nodes, leases, gracePeriodMs: o.nodeMonitorGraceSeconds * 1000, events, logger }),
          taintEvictionController({ pods, nodes, events, logger }),
        ];
      },
    });
  } finally {
    projections.stop();
    reports.stop();
  }
}
