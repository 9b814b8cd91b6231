// The namespace controller: the runtime's machine (syncing -> idle <-> reconciling -> backoff) is
// all it needs, so this file only wires watches, the pure plan and the applier into sync(key).
import { Controller, silentLogger, type Clock, type Logger } from "@navarch/controller";
import { apply } from "./apply.js";
import { reconcile } from "./reconcile.js";
import { contentsOf, namespaceWatches, type NamespaceInformers } from "./watches.js";

export interface NamespaceControllerOptions {
  informers: NamespaceInformers;
  workers?: number;
  resyncPeriodMs?: number;
  logger?: Logger;
  now?: () => Date;
  clock?: Clock;
}

export function namespaceController(opts: NamespaceControllerOptions): Controller {
  const { informers } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  return new Controller({
    name: "namespace",
    watches: namespaceWatches(informers),
    keys: () => informers.namespaces.keys(),
    workers: opts.workers ?? 2,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    logger,
    clock: opts.clock,
    sync: async (key) => {
      const namespace = informers.namespaces.getByKey(key);
      if (!namespace) return; // deleted: nothing left to do
      const plan = reconcile(namespace, contentsOf(informers, key), now());
      if (plan.length === 0) return;
      const result = await apply(namespace, plan, { informers, now, logger });
      logger.debug({ namespace: key, steps: plan.map((s) => s.type), ...result }, "namespace reconciled");
    },
  });
}
