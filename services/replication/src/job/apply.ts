// Writes a job's plan with pod-ownership/pod-writes.ts, every write compare-and-swap: pods
// created in slow-start batches from the template (named <job>-<5 random>, left for the
// scheduler to bind), pods deleted as the gateway deletes them, the writes remembered in the
// expectations; the controller then writes the status, and at last - ttlSecondsAfterFinished -
// deletes the job itself, in the background: the garbage collector deletes its pods after it.
import { NotFoundError, type Job, type Pod } from "@navarch/api";
import { requestDeletion } from "@navarch/store";
import { podFromTemplate, podName, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import { ownerReference } from "../pod-ownership/owner-kind.js";
import { writePods, type PodOwnerDeps, type PodWritesResult } from "../pod-ownership/pod-writes.js";
import { JOB, type Plan } from "./reconcile.js";

export function jobPod(job: Job, name: string, now: Date, defaults: PodDefaults): Pod {
  return podFromTemplate({ namespace: job.metadata!.namespace, name, template: job.spec?.template, owner: ownerReference(JOB, job), now, defaults });
}

export function applyPods(job: Job, plan: Plan, deps: PodOwnerDeps<Job>): Promise<PodWritesResult> {
  return writePods(job, deps, async (w) => {
    if (plan.create > 0) {
      const now = deps.now();
      await w.create(Array.from({ length: plan.create }, () => jobPod(job, podName(job.metadata!.name, deps.suffix), now, deps.podDefaults)));
    }
    await w.delete(plan.delete.map((pod) => ({ pod })));
  });
}

/** ttlSecondsAfterFinished: the job goes (compare-and-swap on the revision the pass read). */
export async function deleteJob(job: Job, deps: Pick<PodOwnerDeps<Job>, "owners" | "now">): Promise<void> {
  await requestDeletion(deps.owners.store, job, deps.now()).catch((err: unknown) => {
    if (!(err instanceof NotFoundError)) throw err;
  });
}
