// The Job controller: the runtime's machine (syncing -> idle <-> reconciling -> backoff) runs
// sync(key); this file wires the watches, the pure plan, the expectations and the appliers.
// Time-based changes (activeDeadlineSeconds, the pod failure backoff, ttlSecondsAfterFinished)
// are rechecked with queue.addAfter when the plan says when.
import type { Namespace, Pod } from "@navarch/api";
import { Controller, silentLogger, type Clock, type Logger, type ObjectEventRecorder } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { DEFAULT_POD_DEFAULTS, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import { Expectations } from "../pod-ownership/expectations.js";
import type { OwnerIndex } from "../pod-ownership/owner-index.js";
import { applyPods, deleteJob, involved, writeStatus } from "./apply.js";
import { Completed } from "./reasons.js";
import { COMPLETE, reconcile, statusChanged, type PodFailureBackoff } from "./reconcile.js";
import { jobWatches, type JobInformers } from "./watches.js";

export interface JobControllerOptions {
  informers: JobInformers & { namespaces: Informer<Namespace> };
  /** Pods by controller uid, over informers.pods. */
  podIndex: OwnerIndex<Pod>;
  events: ObjectEventRecorder;
  workers?: number;
  resyncPeriodMs?: number;
  backoff?: PodFailureBackoff;
  expectations?: Expectations;
  logger?: Logger;
  now?: () => Date;
  clock?: Clock;
  /** Pod names' random part (tests). */
  suffix?: () => string;
  /** The gateway's pod defaults for the pods made here (default: the gateway's defaults). */
  podDefaults?: PodDefaults;
}

export function jobController(opts: JobControllerOptions): Controller {
  const { informers, podIndex } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const expectations = opts.expectations ?? new Expectations();
  const deps = {
    pods: informers.pods.store,
    jobs: informers.jobs,
    expectations,
    events: opts.events,
    logger,
    now,
    ...(opts.suffix ? { suffix: opts.suffix } : {}),
    podDefaults: opts.podDefaults ?? DEFAULT_POD_DEFAULTS,
  };
  const controller: Controller = new Controller({
    name: "job",
    watches: jobWatches(informers),
    informers: [informers.namespaces],
    keys: () => informers.jobs.keys(),
    workers: opts.workers ?? 2,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    logger,
    clock: opts.clock,
    sync: async (key) => {
      const job = informers.jobs.getByKey(key);
      if (!job) {
        expectations.forget(key);
        return;
      }
      const meta = job.metadata!;
      const expected = expectations.satisfied(key, informers.pods);
      const plan = reconcile({
        job,
        owned: podIndex.owned(meta.uid),
        expectationsSatisfied: expected.satisfied,
        namespaceTerminating: !!informers.namespaces.get("", meta.namespace)?.metadata?.deletionTimestamp,
        now: now(),
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
      });
      if (plan.deleteJob) {
        await deleteJob(job, deps);
        logger.info({ job: key }, "job deleted: ttlSecondsAfterFinished passed");
        return;
      }
      if (plan.create > 0 || plan.delete.length > 0) {
        const result = await applyPods(job, plan, deps);
        logger.debug({ job: key, ...result }, "job pods reconciled");
      }
      if (statusChanged(job.status, plan.status)) await writeStatus(job, plan.status, deps);
      if (plan.finished) {
        const ok = plan.finished.type === COMPLETE;
        opts.events.record(involved(job), ok ? "Normal" : "Warning", ok ? Completed : plan.finished.reason, ok ? "Job completed" : plan.finished.message);
        logger.info({ job: key, condition: plan.finished.type, reason: plan.finished.reason }, "job finished");
      }
      if (plan.recheckMs !== undefined) controller.queue.addAfter(key, plan.recheckMs + 100);
      if (!expected.satisfied && expected.recheckMs !== undefined) controller.queue.addAfter(key, expected.recheckMs);
    },
  });
  return controller;
}
