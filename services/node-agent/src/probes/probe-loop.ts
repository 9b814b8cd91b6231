// One probe of one running container (its liveness, readiness or startup probe), as the kubelet's
// probe worker runs it:
//
//   waiting ──after(nextAt)──▶ probing ──attempt done──▶ waiting
//                                 │  consecutive failures reach failureThreshold:
//                                 │    liveness, startup ─▶ onHold (no more attempts: the container is
//                                 │                         killed; its successor gets a new loop)
//                                 │    readiness         ─▶ waiting (probing goes on; not ready)
//                                 └─ startup: first success ─▶ passed (final: the container started)
//
// The first attempt is at the container's start + initialDelaySeconds (at once if that is past, as
// for a readiness probe released by a startup probe), then one every periodSeconds from the start of
// the previous one (an attempt longer than the period delays the next, it does not overlap it).
// Verdicts: `successThreshold` consecutive successes make the probe succeed, `failureThreshold`
// consecutive failures make it fail. Before any verdict a readiness probe counts as failed (not
// ready), a liveness probe as succeeded, and a startup probe as neither. The loop tells its parent:
//   PROBE.RESULT  {kind, ok, output}     after every attempt (failures become Unhealthy events)
//   PROBE.VERDICT {kind, healthy, output} when the verdict changes
// nextAt is an absolute time in context, so a late timer never waits twice.
import { assign, enqueueActions, fromPromise, sendParent, setup } from "xstate";
import type { ProbeOutcome } from "./prober.js";
import type { ProbeKind, ProbeSpec } from "./spec.js";

export interface ProbeLoopDeps {
  now(): number;
  /** One attempt; resolves within the spec's timeout and never rejects (see prober.ts). */
  run(spec: ProbeSpec): Promise<ProbeOutcome>;
}

export interface ProbeLoopInput {
  spec: ProbeSpec;
  /** The verdict to start from (an adopted container's last reported readiness); default initialVerdict(kind). */
  verdict?: Verdict | undefined;
  /** ms: when the container started (initialDelaySeconds counts from there). */
  startedAt: number;
  deps: ProbeLoopDeps;
}

export type ProbeLoopEmitted =
  | { type: "PROBE.RESULT"; kind: ProbeKind; ok: boolean; output: string }
  | { type: "PROBE.VERDICT"; kind: ProbeKind; healthy: boolean; output: string };

export interface ProbeLoopContext {
  spec: ProbeSpec;
  deps: ProbeLoopDeps;
  nextAt: number;
  /** The last attempt's result and how many attempts in a row had it. */
  last: boolean | undefined;
  streak: number;
  verdict: Verdict;
  /** The last attempt changed the verdict. */
  changed: boolean;
  output: string;
}

export type Verdict = "unknown" | "success" | "failure";

export function initialVerdict(kind: ProbeKind): Verdict {
  return kind === "readiness" ? "failure" : kind === "liveness" ? "success" : "unknown";
}

export const probeLoop = setup({
  types: {
    context: {} as ProbeLoopContext,
    input: {} as ProbeLoopInput,
  },
  actors: {
    attempt: fromPromise<ProbeOutcome, { deps: ProbeLoopDeps; spec: ProbeSpec }>(({ input }) =>
      input.deps.run(input.spec).catch((err: unknown) => ({ ok: false, output: err instanceof Error ? err.message : String(err) })),
    ),
  },
  delays: {
    untilNext: ({ context }) => Math.max(0, context.nextAt - context.deps.now()),
  },
  guards: {
    /** A liveness or startup probe failed: the container will be killed. */
    failedForGood: ({ context }) => context.spec.kind !== "readiness" && context.verdict === "failure",
    startupPassed: ({ context }) => context.spec.kind === "startup" && context.verdict === "success",
  },
  actions: {
    scheduleNext: assign(({ context }) => ({ nextAt: context.deps.now() + context.spec.periodMs })),
    /** Counts the attempt; a verdict changes once the streak reaches its threshold. */
    count: assign(({ context, event }) => {
      const { ok, output } = (event as unknown as { output: ProbeOutcome }).output;
      const streak = context.last === ok ? context.streak + 1 : 1;
      const threshold = ok ? context.spec.successThreshold : context.spec.failureThreshold;
      const verdict: Verdict = streak >= threshold ? (ok ? "success" : "failure") : context.verdict;
      return { last: ok, streak, verdict, changed: verdict !== context.verdict, output };
    }),
    emit: enqueueActions(({ context, enqueue }) => {
      const { kind } = context.spec;
      enqueue(sendParent({ type: "PROBE.RESULT", kind, ok: context.last === true, output: context.output } satisfies ProbeLoopEmitted));
      if (context.changed) {
        enqueue(sendParent({ type: "PROBE.VERDICT", kind, healthy: context.verdict === "success", output: context.output } satisfies ProbeLoopEmitted));
      }
    }),
  },
}).createMachine({
  id: "probe",
  context: ({ input }) => ({
    spec: input.spec,
    deps: input.deps,
    nextAt: input.startedAt + input.spec.initialDelayMs,
    last: undefined,
    streak: 0,
    verdict: input.verdict ?? initialVerdict(input.spec.kind),
    changed: false,
    output: "",
  }),
  initial: "waiting",
  states: {
    waiting: {
      after: { untilNext: "probing" },
    },
    probing: {
      entry: "scheduleNext",
      invoke: {
        src: "attempt",
        input: ({ context }) => ({ deps: context.deps, spec: context.spec }),
        onDone: { target: "judging", actions: "count" },
      },
    },
    judging: {
      entry: "emit",
      always: [
        { guard: "failedForGood", target: "onHold" },
        { guard: "startupPassed", target: "passed" },
        { target: "waiting" },
      ],
    },
    onHold: {},
    passed: { type: "final" },
  },
});
