// The probes of one running container. The container machine spawns this when its container
// starts running and stops it when the container stops, so no probe outlives its container and a
// restarted container begins afresh (not started, not ready). One probe loop (probe-loop.ts) per
// probe of the spec:
//
//   boot ─┬─(startup probe)──▶ starting ──startup passed──▶ started ═╦═ liveness loop  (if any)
//         └─(none)─────────────────────────────────────────▶ started ═╩═ readiness loop (if any)
//                                  │ startup failed                │ liveness failed
//                                  ▼                               ▼
//                                failed (every loop stopped; the container machine kills the container)
//
// A startup probe holds liveness and readiness back until it passes (their initialDelaySeconds
// still count from the container's start). A container the agent adopted after a restart starts
// from what was last reported of it (`seed`): started, it skips its startup probe; ready, its
// readiness stays until failureThreshold failures - an agent restart does not flap the pod's
// Ready. The container machine hears:
//   PROBE_STARTED                         the startup probe passed (status `started`)
//   PROBE_READY {ready}                   the readiness verdict changed (status `ready`, pod Ready)
//   PROBE_UNHEALTHY {probe, graceSeconds} liveness or startup failed: kill, then restartPolicy
// and every failed attempt is a Warning Unhealthy event "<Kind> probe failed: <output>".
import { enqueueActions, sendParent, setup } from "xstate";
import { probeLoop, type ProbeLoopDeps, type ProbeLoopEmitted } from "./probe-loop.js";
import type { ContainerProbes, ProbeKind, ProbeSpec } from "./spec.js";

export interface ProbesDeps extends ProbeLoopDeps {
  event(type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface ProbesInput {
  probes: ContainerProbes;
  /** ms: when the container started. */
  startedAt: number;
  deps: ProbesDeps;
  /** An adopted container's last reported state. */
  seed?: ProbeSeed | undefined;
}

export interface ProbeSeed {
  started: boolean;
  ready: boolean;
}

/** What the container machine receives from its probes. */
export type ProbesEmitted =
  | { type: "PROBE_STARTED" }
  | { type: "PROBE_READY"; ready: boolean }
  | { type: "PROBE_UNHEALTHY"; probe: "liveness" | "startup"; graceSeconds: number };

export interface ProbesContext {
  probes: ContainerProbes;
  startedAt: number;
  deps: ProbesDeps;
  seed: ProbeSeed | undefined;
}

const TITLE: Record<ProbeKind, string> = { startup: "Startup", liveness: "Liveness", readiness: "Readiness" };

function loopInput(context: ProbesContext, spec: ProbeSpec | undefined) {
  const verdict = spec?.kind === "readiness" && context.seed?.ready ? ("success" as const) : undefined;
  return { spec: spec!, startedAt: context.startedAt, deps: context.deps, verdict };
}

export const probesMachine = setup({
  types: {
    context: {} as ProbesContext,
    input: {} as ProbesInput,
    events: {} as ProbeLoopEmitted,
  },
  actors: { loop: probeLoop },
  guards: {
    mustStart: ({ context }) => !!context.probes.startup && !context.seed?.started,
    hasLiveness: ({ context }) => !!context.probes.liveness,
    hasReadiness: ({ context }) => !!context.probes.readiness,
    passed: ({ event }) => event.type === "PROBE.VERDICT" && event.healthy,
    livenessFailed: ({ event }) => event.type === "PROBE.VERDICT" && event.kind === "liveness" && !event.healthy,
    readinessVerdict: ({ event }) => event.type === "PROBE.VERDICT" && event.kind === "readiness",
    attemptFailed: ({ event }) => event.type === "PROBE.RESULT" && !event.ok,
  },
  actions: {
    recordUnhealthy: ({ context, event }) => {
      if (event.type !== "PROBE.RESULT") return;
      context.deps.event("Warning", "Unhealthy", `${TITLE[event.kind]} probe failed: ${event.output}`);
    },
    reportStarted: sendParent({ type: "PROBE_STARTED" } satisfies ProbesEmitted),
    reportReady: sendParent(({ event }) => ({ type: "PROBE_READY", ready: event.type === "PROBE.VERDICT" && event.healthy }) satisfies ProbesEmitted),
    reportUnhealthy: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "PROBE.VERDICT" || event.kind === "readiness") return;
      const spec = context.probes[event.kind]!;
      enqueue(sendParent({ type: "PROBE_UNHEALTHY", probe: event.kind, graceSeconds: spec.killGraceSeconds } satisfies ProbesEmitted));
    }),
  },
}).createMachine({
  id: "probes",
  context: ({ input }) => ({ probes: input.probes, startedAt: input.startedAt, deps: input.deps, seed: input.seed }),
  initial: "boot",
  // Attempts are counted by each loop; here a failed one only becomes an Event.
  on: { "PROBE.RESULT": { guard: "attemptFailed", actions: "recordUnhealthy" } },
  states: {
    boot: {
      always: [{ guard: "mustStart", target: "starting" }, { target: "started" }],
    },
    starting: {
      invoke: { src: "loop", input: ({ context }) => loopInput(context, context.probes.startup) },
      on: {
        "PROBE.VERDICT": [
          { guard: "passed", target: "started", actions: "reportStarted" },
          { target: "failed", actions: "reportUnhealthy" },
        ],
      },
    },
    started: {
      type: "parallel",
      on: {
        "PROBE.VERDICT": [
          { guard: "livenessFailed", target: "failed", actions: "reportUnhealthy" },
          { guard: "readinessVerdict", actions: "reportReady" },
        ],
      },
      states: {
        liveness: {
          initial: "check",
          states: {
            check: { always: [{ guard: "hasLiveness", target: "probing" }, { target: "off" }] },
            probing: { invoke: { src: "loop", input: ({ context }) => loopInput(context, context.probes.liveness) } },
            off: {},
          },
        },
        readiness: {
          initial: "check",
          states: {
            check: { always: [{ guard: "hasReadiness", target: "probing" }, { target: "off" }] },
            probing: { invoke: { src: "loop", input: ({ context }) => loopInput(context, context.probes.readiness) } },
            off: {},
          },
        },
      },
    },
    failed: {},
  },
});
