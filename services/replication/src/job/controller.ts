// The Job controller: pod-ownership/owner-controller.ts runs its pass - the pure plan
// (reconcile.ts), the pod writes (apply.ts), the status, and the job's own deletion once
// ttlSecondsAfterFinished has passed. Time-based changes (activeDeadlineSeconds, the pod failure
// backoff, ttlSecondsAfterFinished) are looked at again when the plan says.
import type { Namespace } from "@navarch/api";
import type { Controller } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { involvedObject } from "../pod-ownership/owner-kind.js";
import { podOwnerController, type PodOwnerControllerOptions } from "../pod-ownership/owner-controller.js";
import { writeStatus } from "../pod-ownership/pod-writes.js";
import { applyPods, deleteJob } from "./apply.js";
import { Completed } from "./reasons.js";
import { COMPLETE, JOB, reconcile, statusChanged, type PodFailureBackoff } from "./reconcile.js";
import { jobWatches, type JobInformers } from "./watches.js";

export interface JobControllerOptions extends PodOwnerControllerOptions {
  informers: JobInformers & { namespaces: Informer<Namespace> };
  backoff?: PodFailureBackoff;
}

export function jobController(opts: JobControllerOptions): Controller {
  const { informers } = opts;
  return podOwnerController(opts, {
    kind: JOB,
    owners: informers.jobs,
    watches: jobWatches(informers),
    workers: 2,
    sync: async (job, pass, deps) => {
      const plan = reconcile({
        job,
        owned: pass.owned(),
        expectationsSatisfied: pass.expectationsSatisfied(),
        namespaceTerminating: pass.namespaceTerminating(),
        now: deps.now(),
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
      });
      if (plan.deleteJob) {
        await deleteJob(job, deps);
        deps.logger.info({ job: pass.key }, "job deleted: ttlSecondsAfterFinished passed");
        return "deleted";
      }
      if (plan.create > 0 || plan.delete.length > 0) {
        const { created, deleted } = await applyPods(job, plan, deps);
        deps.logger.debug({ job: pass.key, created, deleted }, "job pods reconciled");
      }
      if (statusChanged(job.status, plan.status)) await writeStatus(informers.jobs, job, plan.status);
      if (plan.finished) {
        const ok = plan.finished.type === COMPLETE;
        const message = ok ? "Job completed" : plan.finished.message;
        deps.events.record(involvedObject(JOB, job), ok ? "Normal" : "Warning", ok ? Completed : plan.finished.reason, message);
        deps.logger.info({ job: pass.key, condition: plan.finished.type, reason: plan.finished.reason }, "job finished");
      }
      return plan.recheckMs;
    },
  });
}
