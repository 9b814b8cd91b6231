// The lifecycle of one container of a pod (one container *name*: its successive runtime
// containers, attempt 0, 1, 2 ... are this one machine). Decisions are pure functions
// (restart-policy.ts); this machine only sequences runtime calls and keeps deadlines.
//
//                 ┌───────────── PROCEED{sandbox} (sandbox ready, earlier containers started)
//   pulling ──▶ ready ──▶ creating ──▶ [postStarting] ──▶ running ──OBSERVED exit / GONE──▶ exited ──┐
//     │   ▲                 │  ▲                                                  │ nextAction():
//     ▼   │                 ▼  │                                                  │  now   ─▶ pulling
//   pullBackoff          createBackoff                                            │  later ─▶ backoff ─▶ pulling
//    .failed: ErrImagePull /   CreateContainerConfigError /                       │  done  ─▶ terminated
//       ErrImageNeverPull      CreateContainerError                               │
//    .backingOff: ImagePullBackOff                                                ▼ (CrashLoopBackOff)
//
//   postStarting (a postStart hook, hooks.ts): shown waiting/ContainerCreating, and the pod's next
//                  container waits for it (firstAttemptDone); ok ─▶ running; failed ─▶ stopping ─▶
//                  exited (FailedPostStartHook; restarted per restartPolicy like any exit)
//   TERMINATE{grace}: running ─▶ stopping ─▶ terminated (SIGTERM, grace, SIGKILL); a create in
//                     flight finishes first, then its container is stopped; elsewhere ─▶ terminated
//   stopping: [preStop] ─▶ signalling. Every stop with a grace runs the preStop hook first, until it
//             returns or the grace is over (FailedPreStopHook when it fails); the SIGTERM then gets
//             what is left of the grace, at least 2 s (the kubelet's minimum window). A shorter
//             TERMINATE (force delete) cuts both short; a repeated one changes nothing but that
//             nothing starts after the stop.
//   SANDBOX_LOST{restart}: running ─▶ stopping ─▶ ready (waits for the new sandbox) or terminated
//   IMAGE_CHANGED: running ─▶ stopping ─▶ pulling (the new image; restartCount + 1); elsewhere the
//                  next container just uses it
//   PROBE_UNHEALTHY (liveness or startup probe failed): running ─▶ stopping ─▶ exited (restarted
//                  per restartPolicy with the crash backoff; OnFailure restarts it whatever its exit code)
//
//   Probes (../probes/probes-machine.ts) run while the container is `running`: spawned on entry,
//   stopped on exit. They set `started` (startup probe passed, or none) and `ready` (readiness
//   verdict, or none: true), which a new container starts without.
//
//   boot (adopted containers): running / exited / pulling, from what the runtime has; an init
//   container of an adopted pod, or any container of a pod that had finished: terminated (it
//   completed before the agent restarted; nothing is pulled or created).
//
// Status per state: waiting (pulling, ready, creating, *Backoff, backoff), running (running,
// stopping), terminated (terminated). Every deadline is an absolute time in context (retryAt);
// timers are computed from it, so they can be re-armed and a late timer never waits twice.
import { ImageNotPresentError, type ContainerStatus as RuntimeContainerStatus, type PullPolicy } from "@navarch/runtime";
import { assign, enqueueActions, fromPromise, setup, stopChild, type ActorRefFrom, type SnapshotFrom } from "xstate";
import type { ProbeOutcome, ProbeTarget } from "../probes/prober.js";
import { probesMachine, type ProbeSeed, type ProbesEmitted } from "../probes/probes-machine.js";
import { hasProbes, type ContainerProbes, type ProbeSpec } from "../probes/spec.js";
import { ContainerConfigError } from "./env.js";
import { hookFailureMessage, NO_HOOK_TIMEOUT_MS, type ContainerHooks, type HookAction, type HookOutcome } from "./hooks.js";
import { terminationReason, type ContainerView, type Termination, type ViewState } from "./pod-status.js";
import { backoffDelay, nextAction, type BackoffOptions, type CrashHistory, type RestartDecision, type RestartPolicy } from "./restart-policy.js";

/** What a container machine needs from the world; the pod machine binds it to one pod. */
export interface ContainerDeps {
  now(): number;
  /** Makes the image present (emits Pulling/Pulled); resolves to its image ID. */
  ensureImage(image: string, policy: PullPolicy): Promise<string>;
  /** Resolves env, creates and starts attempt `attempt` in the sandbox. Throws ContainerConfigError. */
  createAndStart(attempt: number, sandbox: SandboxRef): Promise<CreateResult>;
  /** SIGTERM, grace, SIGKILL; then what the runtime knows of it (undefined: it is gone). */
  stop(id: string, graceSeconds: number): Promise<RuntimeContainerStatus | undefined>;
  /** Fire and forget: removes a container we no longer need (failures are logged). */
  remove(id: string): void;
  event(type: "Normal" | "Warning", reason: string, message: string): void;
  /** One probe attempt against a container of this pod (never rejects; see probes/prober.ts). */
  runProbe(spec: ProbeSpec, target: ProbeTarget): Promise<ProbeOutcome>;
  /** Runs a lifecycle hook against a container of this pod (never rejects; see hooks.ts). */
  runHook(action: HookAction, target: ProbeTarget, timeoutMs: number): Promise<HookOutcome>;
  backoff: BackoffOptions;
  pullBackoff: { baseMs: number; maxMs: number };
  /** "web_default(uid)", for Kubernetes-style messages. */
  podDescription: string;
}

/** The pod sandbox a container joins: its id, and the pod IP (for env status.podIP). */
export interface SandboxRef {
  id: string;
  ip: string;
}

export interface CreateResult {
  id: string;
  /** Set when the container was created but did not start (bad command, ...). */
  startError?: string | undefined;
}

export interface AdoptedContainer {
  /** The newest container of this name in the runtime. */
  current: RuntimeContainerStatus;
  /** The one before it, kept for `logs --previous` and lastState. */
  previous?: RuntimeContainerStatus | undefined;
  /** `current` as the agent last reported it (started, ready), when it did: its probes go on from there. */
  reported?: ProbeSeed | undefined;
}

export interface ContainerInput {
  name: string;
  image: string;
  pullPolicy: PullPolicy;
  policy: RestartPolicy;
  deps: ContainerDeps;
  /** Liveness, readiness and startup probes (app containers only). */
  probes?: ContainerProbes | undefined;
  /** postStart and preStop hooks (app containers only). */
  hooks?: ContainerHooks | undefined;
  adopted?: AdoptedContainer | undefined;
  /** Known at spawn for an adopted pod; otherwise PROCEED brings it. */
  sandbox?: SandboxRef | undefined;
  /** An init container of an adopted pod, or a container of a finished pod: it will not run again. */
  completed?: boolean | undefined;
  /**
   * The pod had finished before the agent restarted: a container without an ended runtime
   * container (it never ran: an init container failed) is shown as the pod machine left it.
   */
  finished?: boolean | undefined;
}

export type ContainerEvent =
  | { type: "PROCEED"; sandbox: SandboxRef }
  | { type: "OBSERVED"; status: RuntimeContainerStatus }
  /** The container is not in the runtime's list taken at `listedAt` (or was destroyed). */
  | { type: "GONE"; id: string; listedAt?: number }
  | { type: "TERMINATE"; graceSeconds: number }
  | { type: "SANDBOX_LOST"; restart: boolean }
  /** The pod's spec now names another image for this container: restart it with that one. */
  | { type: "IMAGE_CHANGED"; image: string; pullPolicy: PullPolicy; graceSeconds: number }
  /** From the running container's probes. */
  | ProbesEmitted;

export interface ContainerContext {
  name: string;
  image: string;
  pullPolicy: PullPolicy;
  policy: RestartPolicy;
  deps: ContainerDeps;
  probes: ContainerProbes | undefined;
  hooks: ContainerHooks | undefined;
  /** The current container passed its startup probe (or has none). */
  started: boolean;
  /** The current container's readiness verdict (true without a readiness probe). */
  ready: boolean;
  /** The probe that failed and had the current container killed; it counts as a failure for restartPolicy. */
  unhealthy: "liveness" | "startup" | undefined;
  /** The adopted container's reported probe state, used once when its probes start. */
  probeSeed: ProbeSeed | undefined;
  adopted: AdoptedContainer | undefined;
  completed: boolean;
  finished: boolean;
  sandbox: SandboxRef | undefined;
  /** Released by the pod machine to create (sandbox ready, ordering satisfied). */
  proceed: boolean;
  /** Attempt number of the next container to create; restartCount = max(0, nextAttempt - 1). */
  nextAttempt: number;
  containerId: string;
  /** Our clock when the current container was created (a resync list older than that cannot judge it). */
  createdAt: number;
  startedAt: number;
  imageID: string;
  /** How the current container ended (exited / terminated), or undefined. */
  termination: Termination | undefined;
  /** The previous container's termination: status lastState. */
  lastTermination: Termination | undefined;
  history: CrashHistory;
  decision: RestartDecision | undefined;
  /** Absolute deadline of the current backoff. */
  retryAt: number;
  pullFailures: number;
  createFailures: number;
  waiting: { reason: string; message: string };
  stopGrace: number;
  /** Absolute end of the current stop's grace period (the preStop hook runs until then at most). */
  stopDeadline: number;
  /** The current stop ran a preStop hook: its SIGTERM gets the rest of the grace (at least 2 s). */
  preStopRan: boolean;
  /** terminated (deleted pod), ready (sandbox recreated: wait for it), pulling (new image), exited (killed by a probe). */
  afterStop: "terminated" | "ready" | "pulling" | "exited";
  /** The image changed while a create was in flight. */
  restartRequested: boolean;
  /** TERMINATE arrived while a create was in flight. */
  terminateRequested: boolean;
  /** The sandbox died while a create was in flight. */
  sandboxLostDuringCreate: boolean;
  /** Runtime containers of this name we created or adopted and have not removed. */
  ids: string[];
  /** The first create has finished (well or not): the next container of the pod may go. */
  firstAttemptDone: boolean;
}

const CREATING = { reason: "ContainerCreating", message: "" };
/** The kubelet's minimum window between a preStop hook and SIGKILL. */
export const MIN_GRACE_AFTER_PRESTOP_SECONDS = 2;

/** The SIGTERM's grace: the stop's own, or after a preStop hook what is left of it (at least 2 s). */
export function signalGrace(ctx: Pick<ContainerContext, "stopGrace" | "stopDeadline" | "preStopRan">, now: number): number {
  if (!ctx.preStopRan) return ctx.stopGrace;
  const left = Math.max(0, Math.ceil((ctx.stopDeadline - now) / 1000));
  return Math.max(left, Math.min(ctx.stopGrace, MIN_GRACE_AFTER_PRESTOP_SECONDS));
}

/** A runtime container that ran and ended: exited, or created but failed to start (StartError). */
export function hasEnded(c: RuntimeContainerStatus | undefined): boolean {
  return !!c && (c.state === "exited" || (c.state === "created" && c.error !== ""));
}

export function terminationOf(status: RuntimeContainerStatus | undefined, id: string, now: number, fallbackStartedAt = 0): Termination {
  if (!status) {
    return {
      exitCode: 137,
      reason: "ContainerStatusUnknown",
      message: "The container could not be located when the pod was terminated",
      startedAt: fallbackStartedAt,
      finishedAt: now,
      containerId: id,
    };
  }
  const startError = !!status.error && status.exitCode !== 0 && !status.startedAt;
  return {
    // 128, as when the start failure was seen at create (Docker itself says 127).
    exitCode: startError ? 128 : status.exitCode,
    reason: startError ? "StartError" : terminationReason(status.exitCode, status.oomKilled),
    message: status.error ?? "",
    startedAt: status.startedAt?.getTime() ?? fallbackStartedAt,
    finishedAt: status.finishedAt?.getTime() ?? now,
    containerId: status.id,
  };
}

const crashMessage = (ctx: ContainerContext, delayMs: number) =>
  `back-off ${formatDelay(delayMs)} restarting failed container=${ctx.name} pod=${ctx.deps.podDescription}`;

function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export const containerMachine = setup({
  types: {
    context: {} as ContainerContext,
    events: {} as ContainerEvent,
    input: {} as ContainerInput,
  },
  actors: {
    probes: probesMachine,
    ensureImage: fromPromise<string, { deps: ContainerDeps; image: string; policy: PullPolicy }>(async ({ input }) =>
      input.deps.ensureImage(input.image, input.policy),
    ),
    createAndStart: fromPromise<CreateResult, { deps: ContainerDeps; attempt: number; sandbox: SandboxRef }>(async ({ input }) =>
      input.deps.createAndStart(input.attempt, input.sandbox),
    ),
    hook: fromPromise<HookOutcome, { deps: ContainerDeps; action: HookAction; containerId: string; podIP: string; timeoutMs: number }>(async ({ input }) =>
      input.deps.runHook(input.action, { containerId: input.containerId, podIP: input.podIP }, input.timeoutMs),
    ),
    stop: fromPromise<Termination, { deps: ContainerDeps; id: string; grace: number; startedAt: number }>(async ({ input }) => {
      const status = await input.deps.stop(input.id, input.grace);
      return terminationOf(status, input.id, input.deps.now(), input.startedAt);
    }),
  },
  guards: {
    alreadyCompleted: ({ context }) => context.completed,
    adoptedRunning: ({ context }) => context.adopted?.current.state === "running",
    adoptedExited: ({ context }) => context.adopted?.current.state === "exited",
    canCreate: ({ context }) => context.proceed && !!context.sandbox,
    isCurrentExit: ({ context, event }) =>
      event.type === "OBSERVED" && event.status.id === context.containerId && event.status.state === "exited",
    isCurrentGone: ({ context, event }) =>
      event.type === "GONE" && event.id === context.containerId && (event.listedAt === undefined || event.listedAt > context.createdAt),
    restartNow: ({ context }) => context.decision?.type === "restart" && context.decision.delayMs === 0,
    restartLater: ({ context }) => context.decision?.type === "restart",
    terminateRequested: ({ context }) => context.terminateRequested,
    sandboxLostDuringCreate: ({ context }) => context.sandboxLostDuringCreate,
    startFailed: ({ event }) => (event as { output?: CreateResult }).output?.startError !== undefined,
    restartAfterSandboxLoss: ({ event }) => event.type === "SANDBOX_LOST" && event.restart,
    stopThenReady: ({ context }) => context.afterStop === "ready",
    stopThenPull: ({ context }) => context.afterStop === "pulling",
    stopThenExit: ({ context }) => context.afterStop === "exited",
    restartRequested: ({ context }) => context.restartRequested,
    shorterGrace: ({ context, event }) => event.type === "TERMINATE" && event.graceSeconds < context.stopGrace,
    hasPostStart: ({ context }) => !!context.hooks?.postStart,
    runsPreStop: ({ context }) => !!context.hooks?.preStop && context.stopGrace > 0 && context.containerId !== "",
    hookFailed: ({ event }) => (event as { output?: HookOutcome }).output?.ok === false,
  },
  delays: {
    untilRetry: ({ context }) => Math.max(0, context.retryAt - context.deps.now()),
    /** ErrImagePull is shown this long before it turns into ImagePullBackOff (or until the retry). */
    showPullError: ({ context }) => Math.max(0, Math.min(1_000, context.retryAt - context.deps.now())),
    untilStopDeadline: ({ context }) => Math.max(0, context.stopDeadline - context.deps.now()),
  },
  actions: {
    adopt: assign(({ context }) => {
      const { current, previous } = context.adopted!;
      const ids = [previous?.id, current.id].filter((id): id is string => !!id);
      return {
        containerId: current.id,
        createdAt: current.createdAt.getTime(),
        startedAt: current.startedAt?.getTime() ?? 0,
        imageID: current.imageID,
        nextAttempt: current.attempt + 1,
        proceed: true,
        firstAttemptDone: true,
        ids,
        lastTermination: previous && hasEnded(previous) ? terminationOf(previous, previous.id, context.deps.now()) : undefined,
        termination: current.state === "exited" ? terminationOf(current, current.id, context.deps.now()) : undefined,
        probeSeed: context.adopted!.reported,
      };
    }),
    // Side effects (events, removals) are plain actions after the assignments they describe.
    reportPullFailure: ({ context }) => {
      context.deps.event("Warning", "Failed", `Failed to pull image "${context.image}": ${context.waiting.message}`);
      context.deps.event("Warning", "Failed", `Error: ${context.waiting.reason}`);
    },
    reportPullBackOff: ({ context }) => context.deps.event("Normal", "BackOff", `Back-off pulling image "${context.image}"`),
    /** Keeps the previous container (logs --previous, lastState); older ones go. Runs before `created`. */
    removeOldContainers: ({ context, event }) => {
      const out = (event as unknown as { output: CreateResult }).output;
      for (const old of [...context.ids, out.id].slice(0, -2)) context.deps.remove(old);
    },
    reportCreated: ({ context }) => {
      context.deps.event("Normal", "Created", `Created container ${context.name}`);
      if (context.termination?.reason === "StartError") context.deps.event("Warning", "Failed", `Error: ${context.termination.message}`);
      else context.deps.event("Normal", "Started", `Started container ${context.name}`);
    },
    reportCreateFailure: ({ context }) => context.deps.event("Warning", "Failed", `Error: ${context.waiting.message}`),
    reportCrashBackOff: ({ context }) =>
      context.deps.event("Warning", "BackOff", `Back-off restarting failed container ${context.name} in pod ${context.deps.podDescription}`),
    reportDefinitionChanged: ({ context }) =>
      context.deps.event("Normal", "Killing", `Container ${context.name} definition changed, will be restarted`),
    newImage: assign(({ event }) => {
      const e = event as Extract<ContainerEvent, { type: "IMAGE_CHANGED" }>;
      return { image: e.image, pullPolicy: e.pullPolicy };
    }),
    reportKilling: ({ context }) => context.deps.event("Normal", "Killing", `Stopping container ${context.name}`),
    reportProbeKilling: ({ context }) =>
      context.deps.event("Normal", "Killing", `Container ${context.name} failed ${context.unhealthy} probe, will be restarted`),
    /** A new container has not started (startup probe) nor become ready (readiness probe) yet; an adopted one is as reported. */
    resetProbes: assign(({ context }) => ({
      started: !context.probes?.startup || context.probeSeed?.started === true,
      ready: !context.probes?.readiness || context.probeSeed?.ready === true,
    })),
    startProbes: enqueueActions(({ context, enqueue }) => {
      if (context.probeSeed) enqueue.assign({ probeSeed: undefined });
      if (!hasProbes(context.probes)) return;
      const { deps, containerId } = context;
      const podIP = context.sandbox?.ip ?? "";
      enqueue.spawnChild("probes", {
        id: "probes",
        input: {
          probes: context.probes,
          // An adopted container's start is the runtime's; a new one's is our clock at start.
          startedAt: context.startedAt || deps.now(),
          seed: context.probeSeed,
          deps: { now: deps.now, event: deps.event, run: (spec: ProbeSpec) => deps.runProbe(spec, { containerId, podIP }) },
        },
      });
    }),
    stopProbes: stopChild("probes"),
    probeKill: assign(({ event }) => {
      const e = event as Extract<ContainerEvent, { type: "PROBE_UNHEALTHY" }>;
      return { unhealthy: e.probe, stopGrace: e.graceSeconds, afterStop: "exited" as const };
    }),
    /**
     * A container that completed before the agent restarted: an init container of an adopted pod
     * (its container may be gone), or any container of a finished pod (exit codes and times from
     * its runtime container; one that never ran is terminated as the pod machine left it).
     */
    adoptCompleted: assign(({ context }) => {
      const { current, previous } = context.adopted ?? {};
      const now = context.deps.now();
      const termination: Termination = current && hasEnded(current)
        ? terminationOf(current, current.id, now)
        : context.finished
          ? terminationOf(undefined, current?.id ?? "", now)
          : { exitCode: 0, reason: "Completed", message: "", startedAt: 0, finishedAt: 0, containerId: current?.id ?? "" };
      return {
        termination,
        lastTermination: previous && hasEnded(previous) ? terminationOf(previous, previous.id, now) : undefined,
        containerId: current?.id ?? "",
        imageID: current?.imageID ?? "",
        nextAttempt: current ? current.attempt + 1 : 1,
        ids: [context.adopted?.previous?.id, current?.id].filter((id): id is string => !!id),
        proceed: true,
        firstAttemptDone: true,
      };
    }),
    setWaiting: assign((_, params: { reason: string; message: string }) => ({ waiting: params })),
    pulled: assign(({ event }) => ({ imageID: (event as unknown as { output: string }).output, pullFailures: 0 })),
    pullFailed: assign(({ context, event }) => {
      const err = (event as unknown as { error: unknown }).error;
      const failures = context.pullFailures + 1;
      const delay = backoffDelay(failures, { ...context.deps.pullBackoff, resetMs: 0 });
      const message = errorText(err);
      // imagePullPolicy Never and the image is not there: Kubernetes' ErrImageNeverPull.
      const reason = err instanceof ImageNotPresentError ? "ErrImageNeverPull" : "ErrImagePull";
      return { pullFailures: failures, retryAt: context.deps.now() + delay, waiting: { reason, message } };
    }),
    pullBackingOff: assign(({ context }) => ({ waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${context.image}"` } })),
    created: assign(({ context, event }) => {
      const out = (event as unknown as { output: CreateResult }).output;
      const ids = [...context.ids, out.id];
      const now = context.deps.now();
      return {
        containerId: out.id,
        createdAt: now,
        startedAt: out.startError === undefined ? now : 0,
        nextAttempt: context.nextAttempt + 1,
        ids: ids.slice(-2),
        createFailures: 0,
        // Probes have not judged the new container (resetProbes sets them when it runs).
        started: false,
        ready: false,
        // The pod's next container waits for this one's postStart hook (postStarting's exit).
        firstAttemptDone: context.firstAttemptDone || !willPostStart(context, out),
        termination:
          out.startError === undefined
            ? undefined
            : { exitCode: 128, reason: "StartError", message: out.startError, startedAt: 0, finishedAt: now, containerId: out.id },
      };
    }),
    createFailed: assign(({ context, event }) => {
      const err = (event as unknown as { error: unknown }).error;
      const failures = context.createFailures + 1;
      // Retried soon and then less often: a missing ConfigMap may be created any moment.
      const delay = backoffDelay(failures, { baseMs: 1_000, maxMs: Math.max(1_000, Math.min(context.deps.backoff.maxMs, 30_000)), resetMs: 0 });
      const reason = err instanceof ContainerConfigError ? "CreateContainerConfigError" : "CreateContainerError";
      const message = errorText(err);
      return { createFailures: failures, firstAttemptDone: true, retryAt: context.deps.now() + delay, waiting: { reason, message } };
    }),
    observedExit: assign(({ context, event }) => {
      const now = context.deps.now();
      const termination =
        event.type === "OBSERVED" ? terminationOf(event.status, context.containerId, now, context.startedAt) : terminationOf(undefined, context.containerId, now, context.startedAt);
      if (event.type === "GONE") termination.message = "The container was removed outside of Navarch";
      return { termination };
    }),
    decide: assign(({ context }) => {
      const t = context.termination!;
      const now = context.deps.now();
      const decision = nextAction(
        context.policy,
        { exitCode: t.exitCode, oomKilled: t.reason === "OOMKilled", unhealthy: !!context.unhealthy, startedAt: t.startedAt, finishedAt: t.finishedAt },
        context.history,
        now,
        context.deps.backoff,
      );
      if (decision.type === "done") return { decision, unhealthy: undefined };
      return { decision, history: decision.history, retryAt: decision.at, unhealthy: undefined };
    }),
    /** A restart: the termination becomes lastState. */
    rollTermination: assign(({ context }) => ({ lastTermination: context.termination ?? context.lastTermination, termination: undefined })),
    crashBackoff: assign(({ context }) => {
      const delayMs = context.decision?.type === "restart" ? context.decision.delayMs : 0;
      return { waiting: { reason: "CrashLoopBackOff", message: crashMessage(context, delayMs) } };
    }),
    beginStop: assign(({ context, event }) => {
      const grace = event.type === "TERMINATE" ? event.graceSeconds : 0;
      const afterStop: "ready" | "terminated" = event.type === "SANDBOX_LOST" && event.restart ? "ready" : "terminated";
      return { stopGrace: grace, afterStop, sandbox: event.type === "SANDBOX_LOST" ? undefined : context.sandbox };
    }),
    stopped: assign(({ context, event }) => {
      const termination = (event as unknown as { output?: Termination }).output ?? terminationOf(undefined, context.containerId, context.deps.now(), context.startedAt);
      // Killed by a probe: `exited` judges the termination like any other exit.
      if (context.afterStop === "exited") return { termination, afterStop: "terminated" as const };
      if (context.afterStop !== "terminated") {
        return { termination: undefined, lastTermination: termination, waiting: CREATING, afterStop: "terminated" as const };
      }
      return { termination };
    }),
    /** Terminated without a running container: keep what we know, or say it never ran. */
    terminateIdle: assign(({ context }) => ({
      termination: context.termination ?? terminationOf(undefined, context.containerId, context.deps.now(), context.startedAt),
    })),
    lostSandbox: assign({ sandbox: undefined }),
    beginStopClock: assign(({ context }) => ({ stopDeadline: context.deps.now() + context.stopGrace * 1000, preStopRan: false })),
    /** A shorter grace (a force delete): the stop ends sooner, and nothing starts after it. */
    tightenStop: assign(({ context, event }) => {
      const grace = (event as Extract<ContainerEvent, { type: "TERMINATE" }>).graceSeconds;
      return { stopGrace: grace, stopDeadline: Math.min(context.stopDeadline, context.deps.now() + grace * 1000), afterStop: "terminated" as const };
    }),
    /** A repeated TERMINATE (the pod updated while it is deleted): the stop goes on as it was, and nothing starts after it. */
    stopForGood: assign({ afterStop: "terminated" as const }),
    postStartFailed: assign(({ context }) => ({ stopGrace: context.hooks!.killGraceSeconds, afterStop: "exited" as const })),
    reportPostStartFailure: ({ context, event }) => {
      const out = (event as unknown as { output: HookOutcome }).output;
      const error = out.ok ? "" : out.error;
      context.deps.event("Warning", "FailedPostStartHook", hookFailureMessage(context.hooks!.postStart!, context.name, context.deps.podDescription, error));
      context.deps.event("Normal", "Killing", "FailedPostStartHook");
    },
    reportPreStopFailure: ({ context, event }) => {
      const out = (event as unknown as { output: HookOutcome }).output;
      const error = out.ok ? "" : out.error;
      context.deps.event("Warning", "FailedPreStopHook", hookFailureMessage(context.hooks!.preStop!, context.name, context.deps.podDescription, error));
    },
  },
}).createMachine({
  id: "container",
  context: ({ input }) => ({
    name: input.name,
    image: input.image,
    pullPolicy: input.pullPolicy,
    policy: input.policy,
    deps: input.deps,
    probes: input.probes,
    hooks: input.hooks,
    started: false,
    ready: false,
    unhealthy: undefined,
    probeSeed: undefined,
    adopted: input.adopted,
    completed: input.completed ?? false,
    finished: input.finished ?? false,
    sandbox: input.sandbox,
    proceed: false,
    nextAttempt: 0,
    containerId: "",
    createdAt: 0,
    startedAt: 0,
    imageID: "",
    termination: undefined,
    lastTermination: undefined,
    history: { crashes: 0 },
    decision: undefined,
    retryAt: 0,
    pullFailures: 0,
    createFailures: 0,
    waiting: CREATING,
    stopGrace: 0,
    stopDeadline: 0,
    preStopRan: false,
    afterStop: "terminated",
    restartRequested: false,
    terminateRequested: false,
    sandboxLostDuringCreate: false,
    ids: [],
    firstAttemptDone: false,
  }),
  initial: "boot",
  on: {
    PROCEED: { actions: assign(({ event }) => ({ sandbox: event.sandbox, proceed: true })) },
    // Not running: the next container simply uses the new image.
    IMAGE_CHANGED: { actions: "newImage" },
    TERMINATE: { target: ".terminated", actions: "terminateIdle" },
    // Nothing runs in these states: forget the sandbox; `ready` waits for the next one.
    SANDBOX_LOST: [{ guard: "restartAfterSandboxLoss", actions: "lostSandbox" }, { target: ".terminated", actions: "terminateIdle" }],
  },
  states: {
    boot: {
      always: [
        { guard: "alreadyCompleted", target: "terminated", actions: "adoptCompleted" },
        { guard: "adoptedRunning", target: "running", actions: "adopt" },
        { guard: "adoptedExited", target: "exited", actions: "adopt" },
        { target: "pulling" },
      ],
    },
    pulling: {
      entry: { type: "setWaiting", params: CREATING },
      invoke: {
        src: "ensureImage",
        input: ({ context }) => ({ deps: context.deps, image: context.image, policy: context.pullPolicy }),
        onDone: { target: "ready", actions: "pulled" },
        onError: { target: "pullBackoff", actions: ["pullFailed", "reportPullFailure"] },
      },
    },
    pullBackoff: {
      initial: "failed",
      after: { untilRetry: "pulling" },
      states: {
        failed: { after: { showPullError: "backingOff" } },
        backingOff: { entry: ["pullBackingOff", "reportPullBackOff"] },
      },
    },
    ready: {
      entry: { type: "setWaiting", params: CREATING },
      always: { guard: "canCreate", target: "creating" },
    },
    creating: {
      entry: assign({ terminateRequested: false, sandboxLostDuringCreate: false, restartRequested: false }),
      invoke: {
        src: "createAndStart",
        input: ({ context }) => ({ deps: context.deps, attempt: context.nextAttempt, sandbox: context.sandbox! }),
        onDone: [
          { guard: "terminateRequested", target: "stopping", actions: ["removeOldContainers", "created", "reportCreated"] },
          {
            guard: "sandboxLostDuringCreate",
            target: "stopping",
            actions: ["removeOldContainers", "created", "reportCreated", assign({ afterStop: "ready", stopGrace: 0 })],
          },
          { guard: "restartRequested", target: "stopping", actions: ["removeOldContainers", "created", "reportCreated", "reportDefinitionChanged"] },
          { guard: "startFailed", target: "exited", actions: ["removeOldContainers", "created", "reportCreated"] },
          { guard: "hasPostStart", target: "postStarting", actions: ["removeOldContainers", "created", "reportCreated"] },
          { target: "running", actions: ["removeOldContainers", "created", "reportCreated"] },
        ],
        onError: [
          { guard: "terminateRequested", target: "terminated", actions: "terminateIdle" },
          { target: "createBackoff", actions: ["createFailed", "reportCreateFailure"] },
        ],
      },
      // Leaving now would orphan the container being created: remember, and act when it exists.
      on: {
        TERMINATE: {
          actions: [
            assign(({ event }) => ({ terminateRequested: true, stopGrace: event.graceSeconds, afterStop: "terminated" as const })),
            "reportKilling",
          ],
        },
        SANDBOX_LOST: { actions: assign({ sandboxLostDuringCreate: true, sandbox: undefined }) },
        // The container being created has the old image: replace it once it exists.
        IMAGE_CHANGED: { actions: [assign(({ event }) => ({ restartRequested: true, stopGrace: event.graceSeconds, afterStop: "pulling" as const })), "newImage"] },
      },
    },
    createBackoff: {
      after: { untilRetry: "ready" },
      // A new sandbox (after the old one died, e.g. with the Docker daemon) is worth a try now.
      on: { PROCEED: { target: "ready", actions: assign(({ event }) => ({ sandbox: event.sandbox, proceed: true })) } },
    },
    postStarting: {
      exit: assign({ firstAttemptDone: true }),
      invoke: {
        src: "hook",
        input: ({ context }) => ({
          deps: context.deps,
          action: context.hooks!.postStart!,
          containerId: context.containerId,
          podIP: context.sandbox?.ip ?? "",
          timeoutMs: NO_HOOK_TIMEOUT_MS,
        }),
        onDone: [{ guard: "hookFailed", target: "stopping", actions: ["postStartFailed", "reportPostStartFailure"] }, { target: "running" }],
        // runHook never rejects; should a runtime binding, the container is not held back for it.
        onError: { target: "running" },
      },
      on: {
        OBSERVED: { guard: "isCurrentExit", target: "exited", actions: "observedExit" },
        GONE: { guard: "isCurrentGone", target: "exited", actions: "observedExit" },
        TERMINATE: { target: "stopping", actions: ["beginStop", "reportKilling"] },
        IMAGE_CHANGED: {
          target: "stopping",
          actions: ["newImage", assign(({ event }) => ({ stopGrace: event.graceSeconds, afterStop: "pulling" as const })), "reportDefinitionChanged"],
        },
        SANDBOX_LOST: { target: "stopping", actions: "beginStop" },
      },
    },
    running: {
      entry: ["resetProbes", "startProbes"],
      exit: "stopProbes",
      on: {
        PROBE_STARTED: { actions: assign({ started: true }) },
        PROBE_READY: { actions: assign(({ event }) => ({ ready: event.ready })) },
        PROBE_UNHEALTHY: { target: "stopping", actions: ["probeKill", "reportProbeKilling"] },
        OBSERVED: { guard: "isCurrentExit", target: "exited", actions: "observedExit" },
        GONE: { guard: "isCurrentGone", target: "exited", actions: "observedExit" },
        TERMINATE: { target: "stopping", actions: ["beginStop", "reportKilling"] },
        IMAGE_CHANGED: {
          target: "stopping",
          actions: ["newImage", assign(({ event }) => ({ stopGrace: event.graceSeconds, afterStop: "pulling" as const })), "reportDefinitionChanged"],
        },
        SANDBOX_LOST: { target: "stopping", actions: "beginStop" },
      },
    },
    exited: {
      entry: "decide",
      always: [
        { guard: "restartNow", target: "pulling", actions: "rollTermination" },
        { guard: "restartLater", target: "backoff", actions: "rollTermination" },
        { target: "terminated" },
      ],
    },
    backoff: {
      entry: ["crashBackoff", "reportCrashBackOff"],
      after: { untilRetry: "pulling" },
    },
    stopping: {
      entry: "beginStopClock",
      initial: "choosing",
      states: {
        choosing: {
          always: [{ guard: "runsPreStop", target: "preStop" }, { target: "signalling" }],
        },
        preStop: {
          entry: assign({ preStopRan: true }),
          invoke: {
            src: "hook",
            input: ({ context }) => ({
              deps: context.deps,
              action: context.hooks!.preStop!,
              containerId: context.containerId,
              podIP: context.sandbox?.ip ?? "",
              // A second past the deadline: at the deadline our timer moves on, quietly (a hook the
              // grace ran out on has not failed, and Kubernetes reports nothing for it).
              timeoutMs: Math.max(0, context.stopDeadline - context.deps.now()) + 1_000,
            }),
            onDone: [{ guard: "hookFailed", target: "signalling", actions: "reportPreStopFailure" }, { target: "signalling" }],
            onError: { target: "signalling" },
          },
          // The grace is over: the hook is left running (the SIGTERM follows; Docker cannot kill an exec).
          initial: "timing",
          states: {
            timing: {
              after: { untilStopDeadline: "#container.stopping.signalling" },
              on: {
                // Re-entering `timing` (not preStop) re-arms the deadline without running the hook again.
                TERMINATE: [{ guard: "shorterGrace", target: "timing", reenter: true, actions: "tightenStop" }, { actions: "stopForGood" }],
              },
            },
          },
          on: {
            // It died during its hook: nothing left to wait for.
            OBSERVED: { guard: "isCurrentExit", target: "signalling" },
          },
        },
        signalling: {
          invoke: {
            src: "stop",
            input: ({ context }) => ({ deps: context.deps, id: context.containerId, grace: signalGrace(context, context.deps.now()), startedAt: context.startedAt }),
            onDone: [
              { guard: "stopThenReady", target: "#container.ready", actions: "stopped" },
              { guard: "stopThenPull", target: "#container.pulling", actions: "stopped" },
              { guard: "stopThenExit", target: "#container.exited", actions: "stopped" },
              { target: "#container.terminated", actions: "stopped" },
            ],
            onError: [
              { guard: "stopThenReady", target: "#container.ready", actions: "stopped" },
              { guard: "stopThenPull", target: "#container.pulling", actions: "stopped" },
              { guard: "stopThenExit", target: "#container.exited", actions: "stopped" },
              { target: "#container.terminated", actions: "stopped" },
            ],
          },
          on: {
            // Already signalled: a shorter grace (a force delete) is a second, harder stop.
            TERMINATE: [
              {
                guard: "shorterGrace",
                actions: [({ context, event }) => void context.deps.stop(context.containerId, event.graceSeconds).catch(() => undefined), "tightenStop"],
              },
              { actions: "stopForGood" },
            ],
          },
        },
      },
      on: {
        // A container started after this stop must wait for the new sandbox.
        SANDBOX_LOST: { actions: "lostSandbox" },
        OBSERVED: {},
      },
    },
    terminated: {
      on: { TERMINATE: {}, SANDBOX_LOST: {}, PROCEED: {} },
    },
  },
});

export type ContainerActor = ActorRefFrom<typeof containerMachine>;
export type ContainerSnapshot = SnapshotFrom<typeof containerMachine>;

/** A container just created will run its postStart hook (it started, and nothing stops it first). */
function willPostStart(ctx: ContainerContext, out: CreateResult): boolean {
  return !!ctx.hooks?.postStart && out.startError === undefined && !ctx.terminateRequested && !ctx.sandboxLostDuringCreate && !ctx.restartRequested;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the status shows for a container machine's snapshot. */
export function containerView(snapshot: ContainerSnapshot): ContainerView {
  const c = snapshot.context;
  let state: ViewState;
  if (snapshot.matches("running") || snapshot.matches("stopping")) {
    state = { kind: "running", startedAt: c.startedAt };
  } else if ((snapshot.matches("terminated") || snapshot.matches("exited")) && c.termination) {
    state = { kind: "terminated", termination: c.termination };
  } else {
    state = { kind: "waiting", reason: c.waiting.reason, message: c.waiting.message };
  }
  return {
    name: c.name,
    image: c.image,
    imageID: c.imageID,
    containerId: c.containerId,
    state,
    lastTermination: c.lastTermination,
    restartCount: Math.max(0, c.nextAttempt - 1),
    started: state.kind === "running" && c.started,
    ready: state.kind === "running" && c.started && c.ready,
  };
}

/** Will never run again (for "is the pod complete?" and "is deletion done?"); a failed machine counts. */
export function isTerminated(snapshot: ContainerSnapshot): boolean {
  return snapshot.status !== "active" || snapshot.matches("terminated");
}
