import { KINDS, type Job, type Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { reconcile, statusChanged, type JobState, type Plan } from "./reconcile.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const START = "2026-03-01T11:59:00Z";
const UID = "job-uid";

interface JobOpts {
  completions?: number | null;
  parallelism?: number;
  backoffLimit?: number;
  restartPolicy?: "Never" | "OnFailure";
  activeDeadlineSeconds?: number;
  ttl?: number;
  suspend?: boolean;
  status?: object;
}

function job(o: JobOpts = {}): Job {
  return KINDS.Job.codec.fromPartial({
    metadata: { name: "pi", namespace: "default", uid: UID },
    spec: {
      completions: o.completions === null ? undefined : (o.completions ?? 1),
      parallelism: o.parallelism ?? 1,
      backoffLimit: o.backoffLimit ?? 6,
      activeDeadlineSeconds: o.activeDeadlineSeconds,
      ttlSecondsAfterFinished: o.ttl,
      suspend: o.suspend ?? false,
      completionMode: "NonIndexed",
      template: { spec: { restartPolicy: o.restartPolicy ?? "Never", containers: [{ name: "pi", image: "pi" }] } },
    },
    status: { startTime: START, ...(o.status ?? {}) },
  });
}

interface PodOpts {
  phase?: string;
  ready?: boolean;
  restarts?: number;
  finishedAt?: string;
  created?: string;
  deleting?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const phase = o.phase ?? "Running";
  return KINDS.Pod.codec.fromPartial({
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      creationTimestamp: o.created ?? START,
      deletionTimestamp: o.deleting ? START : "",
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "pi", uid: UID, controller: true }],
    },
    spec: { nodeName: "n1" },
    status: {
      phase,
      conditions: o.ready ? [{ type: "Ready", status: "True", lastTransitionTime: START }] : [],
      containerStatuses: [
        {
          name: "pi",
          restartCount: o.restarts ?? 0,
          state: phase === "Failed" || phase === "Succeeded" ? { terminated: { exitCode: phase === "Failed" ? 1 : 0, finishedAt: o.finishedAt ?? "2026-03-01T11:59:30Z" } } : { running: {} },
        },
      ],
    },
  });
}

const running = (n: number, o: PodOpts = {}) => Array.from({ length: n }, (_, i) => pod(`r${i}`, o));
const succeededPods = (n: number) => Array.from({ length: n }, (_, i) => pod(`s${i}`, { phase: "Succeeded" }));
const failedPods = (n: number, finishedAt?: string) => Array.from({ length: n }, (_, i) => pod(`f${i}`, { phase: "Failed", ...(finishedAt ? { finishedAt } : {}) }));

function state(j: Job, pods: Pod[], extra: Partial<JobState> = {}): JobState {
  return { job: j, owned: pods, expectationsSatisfied: true, namespaceTerminating: false, now: NOW, backoff: { baseMs: 10_000, maxMs: 360_000 }, ...extra };
}

/** What a plan does, in a comparable form. */
function summary(plan: Plan) {
  const s = plan.status;
  return {
    create: plan.create,
    delete: plan.delete.map((p) => p.metadata!.name),
    active: s.active,
    succeeded: s.succeeded,
    failed: s.failed,
    conditions: s.conditions.map((c) => `${c.type}=${c.status}:${c.reason}`),
    ...(plan.recheckMs !== undefined ? { recheckMs: plan.recheckMs } : {}),
    ...(plan.deleteJob ? { deleteJob: true } : {}),
  };
}

const base = { create: 0, delete: [] as string[], active: 0, succeeded: 0, failed: 0, conditions: [] as string[] };

describe("job reconcile", () => {
  const cases: { name: string; state: JobState; want: ReturnType<typeof summary> }[] = [
    { name: "a new job: one pod", state: state(job(), []), want: { ...base, create: 1 } },
    { name: "completions 3, parallelism 2: two at once", state: state(job({ completions: 3, parallelism: 2 }), []), want: { ...base, create: 2 } },
    {
      name: "completions 3, parallelism 2, one succeeded, two running: nothing more",
      state: state(job({ completions: 3, parallelism: 2 }), [...succeededPods(1), ...running(2)]),
      want: { ...base, active: 2, succeeded: 1 },
    },
    {
      name: "completions 3, parallelism 2, two succeeded, one running: only one may run",
      state: state(job({ completions: 3, parallelism: 2 }), [...succeededPods(2), ...running(1)]),
      want: { ...base, active: 1, succeeded: 2 },
    },
    {
      name: "completions 3, two succeeded, none running: the last one",
      state: state(job({ completions: 3, parallelism: 2 }), succeededPods(2)),
      want: { ...base, create: 1, succeeded: 2 },
    },
    {
      name: "completions reached: Complete",
      state: state(job({ completions: 3, parallelism: 2 }), succeededPods(3)),
      want: { ...base, succeeded: 3, conditions: ["Complete=True:CompletionsReached"] },
    },
    {
      name: "completions reached with a pod still running: it is deleted and the job completes",
      state: state(job({ completions: 2, parallelism: 3 }), [...succeededPods(2), ...running(1)]),
      want: { ...base, delete: ["r0"], succeeded: 2, conditions: ["Complete=True:CompletionsReached"] },
    },
    {
      name: "parallelism lowered: the surplus goes (not ready first)",
      state: state(job({ completions: 10, parallelism: 1 }), [pod("ready", { ready: true }), pod("starting")]),
      want: { ...base, delete: ["starting"], active: 1 },
    },
    {
      name: "work queue (no completions): parallelism pods until one succeeds",
      state: state(job({ completions: null, parallelism: 3 }), []),
      want: { ...base, create: 3 },
    },
    {
      name: "work queue: one succeeded, the others still running: no new pods, not complete",
      state: state(job({ completions: null, parallelism: 3 }), [...succeededPods(1), ...running(2)]),
      want: { ...base, active: 2, succeeded: 1 },
    },
    {
      name: "work queue: one succeeded and the rest ended: Complete",
      state: state(job({ completions: null, parallelism: 3 }), [...succeededPods(1), ...failedPods(1)]),
      want: { ...base, succeeded: 1, failed: 1, conditions: ["Complete=True:CompletionsReached"] },
    },
    {
      name: "a failed pod is replaced after the backoff (10 s after its failure)",
      state: state(job({ backoffLimit: 3 }), failedPods(1, "2026-03-01T11:59:55Z")),
      want: { ...base, failed: 1, recheckMs: 5_000 },
    },
    {
      name: "the backoff has passed: a replacement",
      state: state(job({ backoffLimit: 3 }), failedPods(1, "2026-03-01T11:59:00Z")),
      want: { ...base, create: 1, failed: 1 },
    },
    {
      name: "the backoff doubles with each failure (3 failures: 40 s)",
      state: state(job({ backoffLimit: 6 }), failedPods(3, "2026-03-01T11:59:30Z")),
      want: { ...base, failed: 3, recheckMs: 10_000 },
    },
    {
      name: "backoffLimit 2, three failed pods: Failed, BackoffLimitExceeded",
      state: state(job({ backoffLimit: 2 }), failedPods(3)),
      want: { ...base, failed: 3, conditions: ["Failed=True:BackoffLimitExceeded"] },
    },
    {
      name: "backoffLimit 2, two failed: one more try",
      state: state(job({ backoffLimit: 2 }), failedPods(2, "2026-03-01T11:00:00Z")),
      want: { ...base, create: 1, failed: 2 },
    },
    {
      name: "backoffLimit exceeded while a pod runs: it is deleted and counted as failed",
      state: state(job({ backoffLimit: 1, parallelism: 2, completions: 4 }), [...failedPods(2), ...running(1)]),
      want: { ...base, delete: ["r0"], failed: 3, conditions: ["Failed=True:BackoffLimitExceeded"] },
    },
    {
      name: "OnFailure: container restarts count against backoffLimit",
      state: state(job({ backoffLimit: 3, restartPolicy: "OnFailure" }), [pod("r", { restarts: 3 })]),
      want: { ...base, delete: ["r"], failed: 1, conditions: ["Failed=True:BackoffLimitExceeded"] },
    },
    {
      name: "OnFailure: fewer restarts than backoffLimit keep it running",
      state: state(job({ backoffLimit: 3, restartPolicy: "OnFailure" }), [pod("r", { restarts: 2 })]),
      want: { ...base, active: 1 },
    },
    {
      name: "OnFailure with backoffLimit 0: the first restart fails it",
      state: state(job({ backoffLimit: 0, restartPolicy: "OnFailure" }), [pod("r", { restarts: 1 })]),
      want: { ...base, delete: ["r"], failed: 1, conditions: ["Failed=True:BackoffLimitExceeded"] },
    },
    {
      name: "activeDeadlineSeconds not reached: look again when it is",
      state: state(job({ activeDeadlineSeconds: 100 }), running(1)),
      want: { ...base, active: 1, recheckMs: 40_000 },
    },
    {
      name: "activeDeadlineSeconds passed: active pods deleted, Failed DeadlineExceeded",
      state: state(job({ activeDeadlineSeconds: 30, parallelism: 2, completions: 5 }), [...succeededPods(1), ...running(2)]),
      want: { ...base, delete: ["r0", "r1"], succeeded: 1, failed: 2, conditions: ["Failed=True:DeadlineExceeded"] },
    },
    {
      name: "a finished job keeps its counts; a straggler is deleted",
      state: state(job({ status: { succeeded: 1, conditions: [{ type: "Complete", status: "True", reason: "CompletionsReached" }] } }), [pod("late")]),
      want: { ...base, delete: ["late"], succeeded: 1, conditions: ["Complete=True:CompletionsReached"] },
    },
    {
      name: "ttlSecondsAfterFinished passed: the job is deleted",
      state: state(job({ ttl: 30, status: { completionTime: "2026-03-01T11:59:00Z", conditions: [{ type: "Complete", status: "True" }] } }), []),
      want: { ...base, conditions: ["Complete=True:"], deleteJob: true },
    },
    {
      name: "ttlSecondsAfterFinished not yet: look again then",
      state: state(job({ ttl: 90, status: { completionTime: "2026-03-01T11:59:00Z", conditions: [{ type: "Complete", status: "True" }] } }), []),
      want: { ...base, conditions: ["Complete=True:"], recheckMs: 30_000 },
    },
    {
      name: "suspended: its pods are deleted, none made",
      state: state(job({ suspend: true, parallelism: 2, completions: 4 }), running(2)),
      want: { ...base, delete: ["r0", "r1"], conditions: ["Suspended=True:JobSuspended"] },
    },
    {
      name: "writes not seen yet (expectations): no new pods",
      state: state(job({ parallelism: 2, completions: 2 }), [], { expectationsSatisfied: false }),
      want: base,
    },
    { name: "namespace terminating: no new pods", state: state(job(), [], { namespaceTerminating: true }), want: base },
    {
      name: "a pod being deleted does not count as active",
      state: state(job({ parallelism: 1, completions: 2 }), [pod("going", { deleting: true })]),
      want: { ...base, create: 1 },
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(summary(reconcile(c.state)), c.want));
});

test("startTime is set on the first pass, completionTime when complete", () => {
  const fresh = job();
  fresh.status = undefined;
  const plan = reconcile(state(fresh, []));
  assert.equal(plan.status.startTime, "2026-03-01T12:00:00Z");
  const done = reconcile(state(job(), succeededPods(1)));
  assert.equal(done.status.completionTime, "2026-03-01T12:00:00Z");
  assert.equal(done.finished?.type, "Complete");
});

test("the Failed condition says why, as Kubernetes words it", () => {
  const plan = reconcile(state(job({ backoffLimit: 0 }), failedPods(1)));
  assert.equal(plan.finished?.reason, "BackoffLimitExceeded");
  assert.equal(plan.finished?.message, "Job has reached the specified backoff limit");
  const late = reconcile(state(job({ activeDeadlineSeconds: 1 }), running(1)));
  assert.equal(late.finished?.message, "Job was active longer than specified deadline");
});

test("statusChanged ignores condition timestamps", () => {
  const a = reconcile(state(job(), succeededPods(1))).status;
  const b = reconcile(state(job(), succeededPods(1), { now: new Date("2026-03-01T12:05:00Z") })).status;
  b.completionTime = a.completionTime;
  assert.equal(statusChanged(a, b), false);
  assert.equal(statusChanged(a, { ...b, succeeded: 2 }), true);
});
