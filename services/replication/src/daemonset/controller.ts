// The DaemonSet controller: the runtime's machine (syncing -> idle <-> reconciling -> backoff)
// runs sync(key); this file wires the watches, the pure plan, the expectations and the appliers.
import type { Namespace, Pod } from "@navarch/api";
import { Controller, silentLogger, type Clock, type Logger, type ObjectEventRecorder } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { DEFAULT_POD_DEFAULTS, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import { Expectations } from "../pod-ownership/expectations.js";
import type { OwnerIndex } from "../pod-ownership/owner-index.js";
import { applyPlan, writeStatus } from "./apply.js";
import { reconcile, statusChanged } from "./reconcile.js";
import { daemonSetWatches, type DaemonSetInformers } from "./watches.js";

export interface DaemonSetControllerOptions {
  informers: DaemonSetInformers & { namespaces: Informer<Namespace> };
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

export function daemonSetController(opts: DaemonSetControllerOptions): Controller {
  const { informers, podIndex } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const expectations = opts.expectations ?? new Expectations();
  const deps = {
    pods: informers.pods.store,
    daemonSets: informers.daemonSets,
    expectations,
    events: opts.events,
    logger,
    now,
    ...(opts.suffix ? { suffix: opts.suffix } : {}),
    podDefaults: opts.podDefaults ?? DEFAULT_POD_DEFAULTS,
  };
  const controller: Controller = new Controller({
    name: "daemonset",
    watches: daemonSetWatches(informers),
    informers: [informers.namespaces],
    keys: () => informers.daemonSets.keys(),
    workers: opts.workers ?? 2,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    logger,
    clock: opts.clock,
    sync: async (key) => {
      const ds = informers.daemonSets.getByKey(key);
      if (!ds) {
        expectations.forget(key);
        return;
      }
      const meta = ds.metadata!;
      // Being deleted: the garbage collector deals with its pods (or orphans them).
      if (meta.deletionTimestamp) return;
      const expected = expectations.satisfied(key, informers.pods);
      const plan = reconcile({
        ds,
        nodes: informers.nodes.list(),
        owned: podIndex.owned(meta.uid),
        orphans: podIndex.orphans(meta.namespace),
        expectationsSatisfied: expected.satisfied,
        namespaceTerminating: !!informers.namespaces.get("", meta.namespace)?.metadata?.deletionTimestamp,
        now: now(),
      });
      const busy = plan.create.length + plan.delete.length + plan.adopt.length + plan.release.length > 0;
      if (busy) {
        const result = await applyPlan(ds, plan, deps);
        logger.debug({ daemonset: key, ...result, adopted: plan.adopt.length, released: plan.release.length }, "daemonset reconciled");
      }
      if (statusChanged(ds.status, plan.status)) await writeStatus(ds, plan.status, deps);
      // A pod becomes available minReadySeconds after it became ready: look again then.
      if (plan.recheckMs !== undefined) controller.queue.addAfter(key, plan.recheckMs + 100);
      if (!expected.satisfied && expected.recheckMs !== undefined) controller.queue.addAfter(key, expected.recheckMs);
    },
  });
  return controller;
}
