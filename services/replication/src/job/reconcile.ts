// What to do about one Job - a pure function of the job, its pods and the time (Kubernetes' job
// controller for NonIndexed jobs, counting the pods that exist):
//
//   - A finished job (condition Complete or Failed True) keeps its counts; pods still active are
//     deleted, and once ttlSecondsAfterFinished has passed the job itself is deleted (its pods go
//     with it, by the garbage collector).
//   - Failed, BackoffLimitExceeded: more failed pods than backoffLimit; with restartPolicy
//     OnFailure also when the container restarts of its running pods reach backoffLimit.
//   - Failed, DeadlineExceeded: activeDeadlineSeconds have passed since startTime.
//     Either way every active pod is deleted and counted as failed.
//   - Complete: `completions` pods succeeded (without completions - a work queue - one pod
//     succeeded) and none is active any more; completionTime is set.
//   - Otherwise it runs min(parallelism, completions - succeeded) pods at once (none while
//     suspended; a work queue stops starting pods once one succeeded): surplus active pods are
//     deleted (the least far along first), missing ones created - after a failure only once the
//     pod failure backoff (base * 2^(failures-1), capped) has passed since the last failure, and
//     only when the cache has seen the previous pass's writes (expectations).
import { type Condition, type Job, type JobStatus, type Pod } from "@navarch/api";
import { timestamp } from "@navarch/store";
import type { PodOwnerKind } from "../pod-ownership/owner-kind.js";
import { controllerRef, deletionOrder, isActive, isReady } from "../pod-ownership/pod-state.js";
import { BackoffLimitExceeded, CompletionsReached, DeadlineExceeded, JobResumed, JobSuspended } from "./reasons.js";

/**
 * A job as the owner of its pods. It does not adopt: its generated selector names the job's uid,
 * so no other pod matches it.
 */
export const JOB: PodOwnerKind<Job> = { apiVersion: "batch/v1", kind: "Job", name: "job" };

export const COMPLETE = "Complete";
export const FAILED = "Failed";
export const SUSPENDED = "Suspended";

/** At most this many pods are created in one pass. */
export const MAX_CREATES_PER_PASS = 500;

export interface PodFailureBackoff {
  baseMs: number;
  maxMs: number;
}

/** Kubernetes' defaults: 10 s, doubling, at most 6 minutes. */
export const DEFAULT_POD_FAILURE_BACKOFF: PodFailureBackoff = { baseMs: 10_000, maxMs: 360_000 };

export interface JobState {
  job: Job;
  /** Pods whose controller ownerReference is this job (by uid). */
  owned: readonly Pod[];
  expectationsSatisfied: boolean;
  namespaceTerminating: boolean;
  now: Date;
  backoff?: PodFailureBackoff;
}

export interface Plan {
  create: number;
  /** Active pods to delete, the first to go first. */
  delete: Pod[];
  status: JobStatus;
  /** The job finished in this pass: its condition (for an event). */
  finished?: Condition;
  /** ttlSecondsAfterFinished has passed: delete the job. */
  deleteJob: boolean;
  /** Look again after this long (deadline, failure backoff, TTL). */
  recheckMs?: number;
}

export function finishedCondition(job: Job): Condition | undefined {
  return job.status?.conditions.find((c) => (c.type === COMPLETE || c.type === FAILED) && c.status === "True");
}

export function reconcile(state: JobState): Plan {
  const { job, now } = state;
  const spec = job.spec!;
  const uid = job.metadata!.uid;
  const t = now.getTime();
  const current = job.status ?? emptyStatus();
  const pods = state.owned.filter((p) => controllerRef(p)?.uid === uid);
  const active = pods.filter(isActive);
  const plan: Plan = { create: 0, delete: [], status: current, deleteJob: false };
  if (job.metadata!.deletionTimestamp) return plan;

  const done = finishedCondition(job);
  if (done) {
    // Counts stay as they were when it finished; nothing may keep running.
    plan.delete = active;
    const ttl = spec.ttlSecondsAfterFinished;
    if (ttl !== undefined) {
      const finishedAt = Date.parse(current.completionTime || done.lastTransitionTime) || t;
      const left = finishedAt + ttl * 1000 - t;
      if (left <= 0) plan.deleteJob = true;
      else plan.recheckMs = left;
    }
    return plan;
  }

  const succeeded = pods.filter((p) => p.status?.phase === "Succeeded").length;
  const failed = pods.filter((p) => p.status?.phase === "Failed").length;
  const suspended = spec.suspend === true;
  const status: JobStatus = {
    ...current,
    conditions: [...current.conditions],
    startTime: current.startTime || (suspended ? "" : timestamp(now)),
    succeeded,
    failed,
  };
  plan.status = status;
  const startedAt = Date.parse(status.startTime);

  // Failure: the backoff limit, then the deadline (Kubernetes' order).
  const backoffLimit = spec.backoffLimit ?? 6;
  let failure: { reason: string; message: string } | undefined;
  if (failed > backoffLimit || restartsExceed(spec.template?.spec?.restartPolicy, active, backoffLimit)) {
    failure = { reason: BackoffLimitExceeded, message: "Job has reached the specified backoff limit" };
  } else if (spec.activeDeadlineSeconds !== undefined && !suspended && !Number.isNaN(startedAt)) {
    const left = startedAt + spec.activeDeadlineSeconds * 1000 - t;
    if (left <= 0) failure = { reason: DeadlineExceeded, message: "Job was active longer than specified deadline" };
    else plan.recheckMs = left;
  }
  if (failure) {
    plan.delete = active;
    status.failed = failed + active.length;
    status.active = 0;
    status.ready = 0;
    plan.finished = condition(FAILED, "True", failure.reason, failure.message, now);
    status.conditions = setCondition(status.conditions, plan.finished);
    delete plan.recheckMs;
    return plan;
  }

  // How many should run now.
  const completions = spec.completions;
  const parallelism = Math.max(0, spec.parallelism ?? 1);
  let want: number;
  if (suspended) want = 0;
  else if (completions === undefined) want = succeeded > 0 ? Math.min(active.length, parallelism) : parallelism;
  else want = Math.max(0, Math.min(parallelism, completions - succeeded));

  let running = active;
  if (active.length > want) {
    plan.delete = [...active].sort(deletionOrder).slice(0, active.length - want);
    running = active.filter((p) => !plan.delete.includes(p));
  } else if (active.length < want && state.expectationsSatisfied && !state.namespaceTerminating) {
    const wait = backoffWait(pods, failed, t, state.backoff ?? DEFAULT_POD_FAILURE_BACKOFF);
    if (wait > 0) plan.recheckMs = Math.min(plan.recheckMs ?? Infinity, wait);
    else plan.create = Math.min(want - active.length, MAX_CREATES_PER_PASS);
  }
  status.active = running.length;
  status.ready = running.filter(isReady).length;

  const complete = running.length === 0 && (completions === undefined ? succeeded > 0 : succeeded >= completions);
  if (complete && plan.create === 0) {
    plan.finished = condition(COMPLETE, "True", CompletionsReached, "Reached expected number of succeeded pods", now);
    status.conditions = setCondition(status.conditions, plan.finished);
    status.completionTime = timestamp(now);
    delete plan.recheckMs;
    const ttl = spec.ttlSecondsAfterFinished;
    if (ttl !== undefined) plan.recheckMs = ttl * 1000;
    return plan;
  }

  const wasSuspended = status.conditions.find((c) => c.type === SUSPENDED);
  if (suspended && wasSuspended?.status !== "True") {
    status.conditions = setCondition(status.conditions, condition(SUSPENDED, "True", JobSuspended, "Job suspended", now));
  } else if (!suspended && wasSuspended?.status === "True") {
    status.conditions = setCondition(status.conditions, condition(SUSPENDED, "False", JobResumed, "Job resumed", now));
  }
  return plan;
}

/**
 * Kubernetes' pastBackoffLimitOnFailure: with restartPolicy OnFailure the pods do not fail, their
 * containers restart; the restarts of running and pending pods count against backoffLimit.
 */
function restartsExceed(restartPolicy: string | undefined, active: readonly Pod[], backoffLimit: number): boolean {
  if (restartPolicy !== "OnFailure") return false;
  let restarts = 0;
  for (const pod of active) {
    const phase = pod.status?.phase ?? "";
    if (phase !== "Running" && phase !== "Pending" && phase !== "") continue;
    for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) restarts += c.restartCount ?? 0;
  }
  return backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit;
}

/** How long to wait before creating pods again after `failures` failed pods (0: now). */
function backoffWait(pods: readonly Pod[], failures: number, now: number, backoff: PodFailureBackoff): number {
  if (failures === 0) return 0;
  let last = 0;
  for (const pod of pods) {
    if (pod.status?.phase !== "Failed") continue;
    last = Math.max(last, failedAt(pod));
  }
  if (last === 0) return 0;
  const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.max(0, last + delay - now);
}

/** When a failed pod finished: its containers' last finish, else its creation. */
function failedAt(pod: Pod): number {
  let t = 0;
  for (const c of pod.status?.containerStatuses ?? []) {
    const f = Date.parse(c.state?.terminated?.finishedAt ?? "");
    if (!Number.isNaN(f)) t = Math.max(t, f);
  }
  return t || Date.parse(pod.metadata?.creationTimestamp ?? "") || 0;
}

export function emptyStatus(): JobStatus {
  return { conditions: [], startTime: "", completionTime: "", active: 0, succeeded: 0, failed: 0, completedIndexes: "" };
}

export function condition(type: string, status: string, reason: string, message: string, now: Date): Condition {
  const t = timestamp(now);
  return { type, status, reason, message, lastProbeTime: t, lastTransitionTime: t, lastUpdateTime: "", lastHeartbeatTime: "", observedGeneration: 0 };
}

/** Replaces the condition of that type; one whose status does not change keeps its transition time. */
function setCondition(conditions: readonly Condition[], next: Condition): Condition[] {
  const old = conditions.find((c) => c.type === next.type);
  const kept = old && old.status === next.status ? { ...next, lastTransitionTime: old.lastTransitionTime } : next;
  return [...conditions.filter((c) => c.type !== next.type), kept];
}

export function statusChanged(current: JobStatus | undefined, next: JobStatus): boolean {
  const c = current ?? emptyStatus();
  if (
    c.active !== next.active ||
    c.succeeded !== next.succeeded ||
    c.failed !== next.failed ||
    (c.ready ?? 0) !== (next.ready ?? 0) ||
    c.startTime !== next.startTime ||
    c.completionTime !== next.completionTime
  ) {
    return true;
  }
  const key = (x: Condition) => `${x.type}\u0000${x.status}\u0000${x.reason}\u0000${x.message}`;
  const a = c.conditions.map(key).sort();
  const b = next.conditions.map(key).sort();
  return a.length !== b.length || a.some((k, i) => k !== b[i]);
}
