// The Deployment controller: the runtime's machine runs sync(key); this file wires the watches,
// the pure plan and the applier, and looks again when a progress deadline would pass.
import type { Deployment, Namespace, Pod, ReplicaSet } from "@navarch/api";
import { Controller, silentLogger, type Clock, type Logger, type ObjectEventRecorder } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import type { OwnerIndex } from "../pod-ownership/owner-index.js";
import { apply } from "./apply.js";
import { reconcile } from "./reconcile.js";
import { deploymentWatches, type DeploymentInformers } from "./watches.js";

export interface DeploymentControllerOptions {
  informers: DeploymentInformers & { namespaces: Informer<Namespace> };
  /** Replica sets by controller uid and orphans by namespace. */
  replicaSetIndex: OwnerIndex<ReplicaSet>;
  /** Pods by controller uid (Recreate waits for old pods). */
  podIndex: OwnerIndex<Pod>;
  events: ObjectEventRecorder;
  workers?: number;
  resyncPeriodMs?: number;
  logger?: Logger;
  now?: () => Date;
  clock?: Clock;
}

export function deploymentController(opts: DeploymentControllerOptions): Controller {
  const { informers, replicaSetIndex, podIndex } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const deps = { deployments: informers.deployments, replicaSets: informers.replicaSets, events: opts.events, logger, now };
  const running = (rs: ReplicaSet) =>
    podIndex.owned(rs.metadata!.uid).filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed").length;
  const controller: Controller = new Controller({
    name: "deployment",
    watches: deploymentWatches(informers),
    informers: [informers.namespaces],
    keys: () => informers.deployments.keys(),
    workers: opts.workers ?? 5,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    logger,
    clock: opts.clock,
    sync: async (key) => {
      const d: Deployment | undefined = informers.deployments.getByKey(key);
      if (!d) return;
      const ns = d.metadata!.namespace;
      const plan = reconcile(
        {
          deployment: d,
          owned: replicaSetIndex.owned(d.metadata!.uid),
          orphans: replicaSetIndex.orphans(ns),
          existing: (name) => informers.replicaSets.get(ns, name),
          podsRunning: running,
          namespaceTerminating: !!informers.namespaces.get("", ns)?.metadata?.deletionTimestamp,
        },
        now(),
      );
      await apply(d, plan, deps);
      const writes = plan.steps.filter((s) => s.type !== "event").map((s) => `${s.type} ${s.rs.metadata!.name}`);
      if (writes.length > 0) logger.debug({ deployment: key, writes }, "deployment reconciled");
      if (plan.requeueAfterMs !== undefined) controller.queue.addAfter(key, plan.requeueAfterMs);
    },
  });
  return controller;
}
