// What the Job controller watches: Jobs (their own key) and Pods, mapped to the job that
// controls them (before and after the change). Jobs do not adopt orphans: their generated
// selector names the job's uid, so no other pod matches it.
import type { Job, Pod } from "@navarch/api";
import { watch, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { controllerRef } from "../pod-ownership/pod-state.js";

export interface JobInformers {
  jobs: Informer<Job>;
  pods: Informer<Pod>;
}

export function jobWatches(informers: JobInformers): Watch[] {
  return [watch(informers.jobs, (e) => [e.key]), watch(informers.pods, (e: StoreEvent<Pod>) => podOwners(informers, e))];
}

/** The job keys a pod event concerns. */
export function podOwners(informers: Pick<JobInformers, "jobs">, e: StoreEvent<Pod>): string[] {
  const keys = new Set<string>();
  for (const pod of e.old ? [e.old, e.object] : [e.object]) {
    const ref = controllerRef(pod);
    if (ref?.kind !== "Job") continue;
    const job = informers.jobs.get(pod.metadata?.namespace ?? "", ref.name);
    if (job && job.metadata?.uid === ref.uid) keys.add(informers.jobs.store.keyOf(job));
  }
  return [...keys];
}
