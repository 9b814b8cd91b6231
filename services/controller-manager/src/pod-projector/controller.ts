// The pod projector: keeps navarch-node-pods equal to the pods bound to each node, so a node agent
// watches only its own pods (server-side filtering by key prefix).
import type { Pod } from "@navarch/api";
import { Controller, silentLogger, type Logger } from "@navarch/controller";
import type { NatsConnection } from "@nats-io/transport-node";
import { ProjectionWriter } from "./apply.js";
import { projectionDigest } from "./digests.js";
import { reconcile } from "./reconcile.js";
import { ProjectionIndex, projectorWatches, type ProjectorInformers } from "./watches.js";

export interface PodProjectorOptions {
  nc: NatsConnection;
  informers: ProjectorInformers;
  workers?: number;
  logger?: Logger;
  kvReplicas?: number;
}

export function podProjector(opts: PodProjectorOptions): Controller {
  const { informers } = opts;
  const logger = opts.logger ?? silentLogger;
  const index = new ProjectionIndex(informers.projections);
  const writer = new ProjectionWriter(opts.nc, opts.kvReplicas);
  // Per pod object (the informer replaces it on every change): our own write of a projection
  // comes back as an event and is checked against the same pod, so it costs no second encoding.
  const digests = new WeakMap<Pod, string>();
  const digestOf = (pod: Pod, projected: Pod): string => {
    let d = digests.get(pod);
    if (d === undefined) digests.set(pod, (d = projectionDigest(informers.projections.store, projected)));
    return d;
  };
  return new Controller({
    name: "pod-projector",
    watches: projectorWatches(informers),
    keys: () => [...new Set([...informers.pods.keys(), ...informers.projections.keys().map((k) => k.slice(k.indexOf(".") + 1))])],
    workers: opts.workers ?? 4,
    logger,
    sync: async (key) => {
      const steps = reconcile(informers.pods.getByKey(key), index.of(key), digestOf);
      if (steps.length === 0) return;
      await writer.apply(steps);
      logger.debug({ pod: key, steps: steps.map((s) => `${s.type} ${s.node}`) }, "pod projection updated");
    },
  });
}
