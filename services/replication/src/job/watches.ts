// What the Job controller watches: Jobs (their own key) and Pods, mapped to the job that
// controls them (before and after the change; pod-ownership/owner-watches.ts). Jobs do not adopt
// orphans: their generated selector names the job's uid, so no other pod matches it.
import type { Job, Pod } from "@navarch/api";
import type { Watch } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { podOwnerWatches } from "../pod-ownership/owner-watches.js";
import { JOB } from "./reconcile.js";

export interface JobInformers {
  jobs: Informer<Job>;
  pods: Informer<Pod>;
}

export function jobWatches(informers: JobInformers): Watch[] {
  return podOwnerWatches(JOB, informers.jobs, informers.pods);
}
