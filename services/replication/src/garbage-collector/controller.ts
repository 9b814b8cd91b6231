// The garbage collector: the runtime's machine (syncing -> idle <-> reconciling -> backoff) runs
// sync(key) for the dependent and owner keys of watches.ts; the plans are reconcile.ts's, the
// writes apply.ts's.
import type { KubeObject } from "@navarch/api";
import { Controller, silentLogger, type Clock, type Logger } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { confirmAbsent, deleteDependent, orphanDependents, removeFinalizer, removeOwnerReferences, type ApplyDeps } from "./apply.js";
import type { DependentIndex } from "./dependents.js";
import { planDependent, planOwner, type Dependent } from "./reconcile.js";
import { allKeys, collectorWatches, ownerViews, parseQueueKey } from "./watches.js";

export interface GarbageCollectorOptions {
  /** The informer of every collected kind, by kind (collectorInformers()). */
  byKind: ReadonlyMap<string, Informer<KubeObject>>;
  index: DependentIndex;
  workers?: number;
  logger?: Logger;
  now?: () => Date;
  clock?: Clock;
}

export function garbageCollector(opts: GarbageCollectorOptions): Controller {
  const { byKind, index } = opts;
  const logger = opts.logger ?? silentLogger;
  const deps: ApplyDeps = { byKind, now: opts.now ?? (() => new Date()) };
  return new Controller({
    name: "garbage-collector",
    watches: collectorWatches(byKind, index),
    keys: () => allKeys(byKind),
    workers: opts.workers ?? 4,
    logger,
    clock: opts.clock,
    sync: async (queueKey) => {
      const { role, kind, key } = parseQueueKey(queueKey);
      const obj = byKind.get(kind)?.getByKey(key);
      if (!obj) return;
      const meta = obj.metadata!;
      const what = { kind, namespace: meta.namespace, name: meta.name };
      if (role === "dependent") {
        const step = planDependent(obj, ownerViews(byKind, obj), index.hasDependents(meta.uid));
        switch (step.type) {
          case "none":
            return;
          case "removeOwnerReferences":
            await removeOwnerReferences(deps, kind, obj, step.uids);
            logger.debug({ ...what, owners: step.uids }, "garbage collector: dropped references to owners that are gone or being deleted");
            return;
          case "delete":
            await confirmAbsent(deps, meta.namespace, step.absent);
            await deleteDependent(deps, kind, obj, step.policy);
            logger.info({ ...what, policy: step.policy }, "garbage collector: deleted a dependent whose owners are gone");
            return;
        }
      }
      const dependents: Dependent[] = [];
      for (const d of index.dependentsOf(meta.uid)) {
        const dep = byKind.get(d.kind)?.getByKey(d.key);
        if (dep) dependents.push({ kind: d.kind, obj: dep });
      }
      const step = planOwner(obj, dependents);
      switch (step.type) {
        case "none":
        case "waitForDependents":
          return;
        case "orphan":
          await orphanDependents(deps, kind, obj, step.dependents);
          logger.info({ ...what, orphaned: step.dependents.length }, "garbage collector: orphaned the dependents");
          return;
        case "removeFinalizer":
          await removeFinalizer(deps, kind, obj, step.finalizer);
          logger.info(what, "garbage collector: foreground deletion done");
          return;
      }
    },
  });
}
