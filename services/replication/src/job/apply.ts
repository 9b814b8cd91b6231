// Writes a job's plan, every write compare-and-swap: pods created in slow-start batches from the
// template (named <job>-<5 random>, left for the scheduler to bind), pods deleted as the gateway
// deletes them, the writes remembered in the expectations, then the status (the pass waits
// until the cache has it), and at last - ttlSecondsAfterFinished - the job itself, in the
// background: the garbage collector deletes its pods after it.
import { NotFoundError, type Job, type JobStatus, type Pod } from "@navarch/api";
import type { InvolvedObject, Logger, ObjectEventRecorder } from "@navarch/controller";
import { requestDeletion, type Informer, type ResourceStore } from "@navarch/store";
import { controllerReference, createPods, deletePod, forEachLimited, isNameClash, podFromTemplate, podName, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import type { Deleted, Expectations } from "../pod-ownership/expectations.js";
import { FailedCreate, FailedDelete, SuccessfulCreate, SuccessfulDelete } from "./reasons.js";
import type { Plan } from "./reconcile.js";

export interface ApplyDeps {
  pods: ResourceStore<Pod>;
  jobs: Informer<Job>;
  expectations: Expectations;
  events: ObjectEventRecorder;
  logger: Logger;
  now: () => Date;
  suffix?: () => string;
  podDefaults: PodDefaults;
}

const DELETE_CONCURRENCY = 32;

export function involved(job: Job): InvolvedObject {
  const m = job.metadata!;
  return { kind: "Job", apiVersion: "batch/v1", namespace: m.namespace, name: m.name, uid: m.uid };
}

export function jobPod(job: Job, name: string, now: Date, defaults: PodDefaults): Pod {
  return podFromTemplate({
    namespace: job.metadata!.namespace,
    name,
    template: job.spec?.template,
    owner: controllerReference("batch/v1", "Job", job.metadata!),
    now,
    defaults,
  });
}

export async function applyPods(job: Job, plan: Plan, deps: ApplyDeps): Promise<{ created: number; deleted: number }> {
  const key = deps.jobs.store.keyOf(job);
  let revision = 0;
  const deleted: Deleted[] = [];
  const wrote = (p: Pod) => {
    revision = Math.max(revision, Number(p.metadata!.resourceVersion));
  };
  let created = 0;
  try {
    if (plan.create > 0) {
      const now = deps.now();
      const pods = Array.from({ length: plan.create }, () => jobPod(job, podName(job.metadata!.name, deps.suffix), now, deps.podDefaults));
      const r = await createPods(deps.pods, pods, wrote);
      created = r.created.length;
      for (const p of r.created) deps.events.record(involved(job), "Normal", SuccessfulCreate, `Created pod: ${p.metadata!.name}`);
      if (r.error) {
        if (!isNameClash(r.error)) deps.events.record(involved(job), "Warning", FailedCreate, `Error creating: ${r.error.message}`);
        deps.logger.warn({ job: key, skipped: r.skipped, err: String(r.error) }, "creating job pods failed");
      }
    }
    await forEachLimited(plan.delete, DELETE_CONCURRENCY, async (pod) => {
      try {
        await deletePod(deps.pods, pod, { now: deps.now() }, wrote);
        deleted.push({ key: deps.pods.keyOf(pod), uid: pod.metadata!.uid });
        deps.events.record(involved(job), "Normal", SuccessfulDelete, `Deleted pod: ${pod.metadata!.name}`);
      } catch (err) {
        deps.events.record(involved(job), "Warning", FailedDelete, `Error deleting: ${(err as Error).message}`);
        deps.logger.warn({ job: key, pod: pod.metadata!.name, err: String(err) }, "deleting a job pod failed");
      }
    });
    return { created, deleted: deleted.length };
  } finally {
    deps.expectations.expect(key, revision, deleted);
  }
}

/** Writes the status (compare-and-swap on the revision the pass read) and waits until the cache has it. */
export async function writeStatus(job: Job, status: JobStatus, deps: Pick<ApplyDeps, "jobs">): Promise<void> {
  const stored = await deps.jobs.store.update({ ...job, status });
  if (stored) await deps.jobs.waitForRevision(Number(stored.metadata!.resourceVersion), 2_000);
}

/** ttlSecondsAfterFinished: the job goes (compare-and-swap on the revision the pass read). */
export async function deleteJob(job: Job, deps: Pick<ApplyDeps, "jobs" | "now">): Promise<void> {
  await requestDeletion(deps.jobs.store, job, deps.now()).catch((err: unknown) => {
    if (!(err instanceof NotFoundError)) throw err;
  });
}
