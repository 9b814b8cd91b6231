// The ReplicaSet controller: the runtime's machine (syncing -> idle <-> reconciling -> backoff)
// runs sync(key); this file wires the watches, the pure plan, the expectations and the appliers.
import type { Namespace, Pod } from "@navarch/api";
import { Controller, silentLogger, type Clock, type Logger, type ObjectEventRecorder } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { DEFAULT_POD_DEFAULTS, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import { applyPods, writeStatus } from "./apply.js";
import { Expectations } from "../pod-ownership/expectations.js";
import type { OwnerIndex } from "../pod-ownership/owner-index.js";
import { computeStatus, reconcile, statusChanged } from "./reconcile.js";
import { replicaSetWatches, type ReplicaSetInformers } from "./watches.js";

export interface ReplicaSetControllerOptions {
  informers: ReplicaSetInformers & { namespaces: Informer<Namespace> };
  /** Pods by controller uid and orphans by namespace, over informers.pods. */
  podIndex: OwnerIndex<Pod>;
  events: ObjectEventRecorder;
  workers?: number;
  resyncPeriodMs?: number;
  expectations?: Expectations;
  logger?: Logger;
  now?: () => Date;
  clock?: Clock;
  /** Pod names' random part (tests). */
  suffix?: () => string;
  /** The gateway's pod defaults for the pods made here (default: the gateway's defaults). */
  podDefaults?: PodDefaults;
}

export function replicaSetController(opts: ReplicaSetControllerOptions): Controller {
  const { informers, podIndex } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const expectations = opts.expectations ?? new Expectations();
  const deps = {
    pods: informers.pods.store,
    replicaSets: informers.replicaSets,
    expectations,
    events: opts.events,
    logger,
    now,
    ...(opts.suffix ? { suffix: opts.suffix } : {}),
    podDefaults: opts.podDefaults ?? DEFAULT_POD_DEFAULTS,
  };
  const controller: Controller = new Controller({
    name: "replicaset",
    watches: replicaSetWatches(informers),
    informers: [informers.namespaces],
    keys: () => informers.replicaSets.keys(),
    workers: opts.workers ?? 5,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    logger,
    clock: opts.clock,
    sync: async (key) => {
      const rs = informers.replicaSets.getByKey(key);
      if (!rs) {
        expectations.forget(key);
        return;
      }
      const meta = rs.metadata!;
      const expected = expectations.satisfied(key, informers.pods);
      const plan = reconcile({
        rs,
        owned: podIndex.owned(meta.uid),
        orphans: podIndex.orphans(meta.namespace),
        expectationsSatisfied: expected.satisfied,
        namespaceTerminating: !!informers.namespaces.get("", meta.namespace)?.metadata?.deletionTimestamp,
      });
      const result = await applyPods(rs, plan, deps);
      const { status, recheckMs } = computeStatus(rs, plan.pods, now(), result.failure);
      if (statusChanged(rs.status, status)) await writeStatus(rs, status, deps);
      if (plan.create || plan.delete.length || plan.adopt.length || plan.release.length) {
        logger.debug(
          { replicaset: key, created: result.created, deleted: result.deleted, adopted: plan.adopt.length, released: plan.release.length },
          "replicaset reconciled",
        );
      }
      // A pod becomes available minReadySeconds after it became ready: look again then.
      if (recheckMs !== undefined) controller.queue.addAfter(key, recheckMs + 100);
      if (!expected.satisfied && expected.recheckMs !== undefined) controller.queue.addAfter(key, expected.recheckMs);
    },
  });
  return controller;
}
