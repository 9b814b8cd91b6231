// The lifecycle of one pod on this node (one pod uid). It owns the pod sandbox and spawns one
// container machine per container of the spec, init containers included (container-machine.ts).
// Once the sandbox is up it releases the init containers one at a time, each after the previous
// one completed with exit 0 (they restart on failure, unless restartPolicy is Never: then the pod
// fails), and then the app containers in order. Status is computed elsewhere (pod-status.ts) from
// this machine's snapshot and its children's.
//
//   boot ──(adopted pod that had finished: no sandbox, no new containers)──────────▶ completed
//     │──(adopted sandbox running)───────────────────────────────┐
//     │                                                           ▼
//     └──▶ sandboxing ──runSandbox ok──▶ running ──all containers done for good──▶ completed
//            │    ▲                        │  │                                   (sandbox stopped)
//            ▼    │ after(retryAt)         │  └─ sandbox died / vanished ─▶ resandboxing ─▶ sandboxing
//          sandboxBackoff                  │     (restartPolicy Never, something ran: ─▶ completed)
//                                          │
//   DELETE{grace, deleteObject} from any state (a sandbox being created is waited for first):
//     ─▶ terminating (TERMINATE{grace} to every container: preStop hook, SIGTERM, grace, SIGKILL)
//     ─▶ cleaning (remove every app container and sandbox of the pod)
//     ─▶ deletingObject (graceful deletion only: delete the Pod from navarch-pods, uid-checked;
//        retried with backoff while NATS is away)
//     ─▶ done (final; children stopped with stopChild)
//
// Runtime observations arrive as events: OBSERVED (an inspected container), GONE (a destroyed or
// missing container) and RESYNC (the pod's containers from a periodic list). Sandbox ones are
// judged here, app ones are forwarded to the container machine of that name. Every deadline is
// an absolute time in context.
import type { Container, Pod } from "@navarch/api";
import type { ContainerStatus as RuntimeContainerStatus, PullPolicy, Sandbox } from "@navarch/runtime";
import { assign, enqueueActions, fromPromise, setup, type ActorRefFrom, type SnapshotFrom } from "xstate";
import {
  containerMachine,
  containerView,
  isTerminated,
  type AdoptedContainer,
  type ContainerActor,
  type ContainerDeps,
  type SandboxRef,
} from "./container-machine.js";
import { containerProbes } from "../probes/spec.js";
import { containerHooks } from "./hooks.js";
import type { ContainerView } from "./pod-status.js";
import { backoffDelay, normalizePolicy } from "./restart-policy.js";

export interface PodDeps {
  now(): number;
  /**
   * The pod's network: a sandbox container, or for a pod whose only container holds the network
   * itself a Sandbox with id "" and the container's fixed IP (nothing to stop, remove or watch).
   */
  runSandbox(): Promise<Sandbox>;
  /** Stops the sandbox (a completed pod keeps its record, not its processes). */
  stopSandbox(id: string): Promise<void>;
  /** Stops and removes every given container and sandbox; missing ones are fine. */
  removeAll(containerIds: string[], sandboxIds: string[]): Promise<void>;
  /** Deletes the Pod object (graceful deletion done). Throws to be retried. */
  deletePodObject(): Promise<void>;
  containerDeps(container: Container): ContainerDeps;
  event(type: "Normal" | "Warning", reason: string, message: string): void;
  sandboxBackoff: { baseMs: number; maxMs: number };
}

/**
 * A pod found when the agent started: its ready sandbox and its newest containers; or, with
 * `finished`, a pod that had completed: its stopped sandbox and its ended containers.
 */
export interface AdoptedPod {
  sandbox: Sandbox;
  containers: Record<string, AdoptedContainer>;
  /** The pod had completed (its sandbox stopped on purpose): it starts completed, nothing runs. */
  finished?: boolean | undefined;
}

export interface PodInput {
  pod: Pod;
  deps: PodDeps;
  adopted?: AdoptedPod | undefined;
  /** The pod was already being deleted when this node took it on (an agent restart mid-deletion). */
  deletion?: Deletion | undefined;
}

export interface Deletion {
  graceSeconds: number;
  /** Delete the Pod object afterwards (graceful deletion); false when it is gone already. */
  deleteObject: boolean;
}

export type PodEvent =
  | { type: "UPDATE"; pod: Pod }
  | { type: "DELETE"; graceSeconds: number; deleteObject: boolean }
  | { type: "OBSERVED"; status: RuntimeContainerStatus }
  | { type: "GONE"; id: string; containerName?: string | undefined }
  | { type: "RESYNC"; containers: RuntimeContainerStatus[]; listedAt: number };

export interface PodContext {
  pod: Pod;
  deps: PodDeps;
  adopted: AdoptedPod | undefined;
  /** Every container machine by name, init containers included (names are unique in a pod). */
  children: Record<string, ContainerActor>;
  /** App container names in spec order (the order they are started in). */
  order: string[];
  /** Init container names in spec order. */
  initOrder: string[];
  /** How many app containers (in order) have been sent PROCEED for the current sandbox. */
  released: number;
  /** The same for init containers. */
  initsReleased: number;
  sandbox: Sandbox | undefined;
  /** When the current sandbox was created, by our clock (a list older than that cannot judge it). */
  sandboxSince: number;
  /** Every sandbox id we made or adopted and have not removed. */
  sandboxIds: string[];
  /** ms: when this node took the pod on (status.startTime). */
  startTime: number;
  retryAt: number;
  sandboxFailures: number;
  sandboxError: string;
  deletion: Deletion | undefined;
  cleanupFailures: number;
}

const ref = (s: Sandbox): SandboxRef => ({ id: s.id, ip: s.ip });

function childrenSnapshots(context: PodContext) {
  return context.order.map((n) => context.children[n]!.getSnapshot());
}

function initSnapshots(context: PodContext) {
  return context.initOrder.map((n) => context.children[n]!.getSnapshot());
}

function completedOk(s: ReturnType<ContainerActor["getSnapshot"]>): boolean {
  return s.matches("terminated") && s.context.termination?.exitCode === 0;
}

export const podMachine = setup({
  types: {
    context: {} as PodContext,
    events: {} as PodEvent,
    input: {} as PodInput,
  },
  actors: {
    container: containerMachine,
    runSandbox: fromPromise<Sandbox, { deps: PodDeps }>(async ({ input }) => input.deps.runSandbox()),
    stopSandbox: fromPromise<void, { deps: PodDeps; id: string }>(async ({ input }) => {
      if (input.id) await input.deps.stopSandbox(input.id);
    }),
    removeSandbox: fromPromise<void, { deps: PodDeps; ids: string[] }>(async ({ input }) => input.deps.removeAll([], input.ids)),
    cleanup: fromPromise<void, { deps: PodDeps; containerIds: string[]; sandboxIds: string[] }>(async ({ input }) =>
      input.deps.removeAll(input.containerIds, input.sandboxIds),
    ),
    deletePodObject: fromPromise<void, { deps: PodDeps }>(async ({ input }) => input.deps.deletePodObject()),
  },
  guards: {
    adoptedSandbox: ({ context }) => !!context.sandbox,
    adoptedFinished: ({ context }) => context.adopted?.finished === true,
    deleting: ({ context }) => context.deletion !== undefined,
    allTerminated: ({ context }) => childrenSnapshots(context).every(isTerminated),
    everyChildTerminated: ({ context }) => Object.values(context.children).every((c) => isTerminated(c.getSnapshot())),
    /** An init container failed for good (restartPolicy Never): the app containers never start. */
    initFailed: ({ context }) => initSnapshots(context).some((s) => isTerminated(s) && !completedOk(s)),
    deleteObject: ({ context }) => context.deletion?.deleteObject === true,
    /** A dead sandbox is replaced unless restartPolicy Never has already run something. */
    replaceSandbox: ({ context }) =>
      normalizePolicy(context.pod.spec?.restartPolicy) !== "Never" ||
      !childrenSnapshots(context).some((s) => s.context.firstAttemptDone && s.context.containerId !== ""),
    isOurSandboxDead: ({ context, event }) => {
      const s = context.sandbox;
      // Without a sandbox container (id "") the pod's container holds the network: its death is
      // the container machine's business (restart policy), and the IP stays with the pod.
      if (!s?.id) return false;
      if (event.type === "OBSERVED") return event.status.role === "sandbox" && event.status.id === s.id && event.status.state !== "running";
      if (event.type === "GONE") return event.id === s.id;
      if (event.type === "RESYNC") {
        if (event.listedAt <= context.sandboxSince) return false;
        const listed = event.containers.find((c) => c.id === s.id);
        return !listed || listed.state !== "running";
      }
      return false;
    },
  },
  delays: {
    untilRetry: ({ context }) => Math.max(0, context.retryAt - context.deps.now()),
  },
  actions: {
    /**
     * PROCEED to each init container once the one before it completed, then to each app container
     * whose predecessor has finished its first create.
     */
    releaseNext: enqueueActions(({ context, enqueue }) => {
      const sandbox = context.sandbox;
      if (!sandbox) return;
      let initsReleased = context.initsReleased;
      while (initsReleased < context.initOrder.length) {
        const prev = initsReleased === 0 ? undefined : context.children[context.initOrder[initsReleased - 1]!]!.getSnapshot();
        if (prev && !completedOk(prev)) break;
        enqueue.sendTo(context.children[context.initOrder[initsReleased]!]!, { type: "PROCEED", sandbox: ref(sandbox) });
        initsReleased++;
      }
      if (initsReleased !== context.initsReleased) enqueue.assign({ initsReleased });
      if (!initSnapshots(context).every(completedOk)) return;
      let released = context.released;
      while (released < context.order.length) {
        const prev = released === 0 ? undefined : context.children[context.order[released - 1]!]!.getSnapshot();
        if (prev && !prev.context.firstAttemptDone) break;
        enqueue.sendTo(context.children[context.order[released]!]!, { type: "PROCEED", sandbox: ref(sandbox) });
        released++;
      }
      if (released !== context.released) enqueue.assign({ released });
    }),
    forward: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === "OBSERVED") {
        const child = event.status.role === "app" ? context.children[event.status.name] : undefined;
        if (child) enqueue.sendTo(child, { type: "OBSERVED", status: event.status });
      } else if (event.type === "GONE") {
        const targets = event.containerName ? [context.children[event.containerName]] : Object.values(context.children);
        for (const t of targets) if (t) enqueue.sendTo(t, { type: "GONE", id: event.id });
      } else if (event.type === "RESYNC") {
        for (const child of Object.values(context.children)) {
          const id = child.getSnapshot().context.containerId;
          if (!id) continue;
          const listed = event.containers.find((c) => c.id === id);
          enqueue.sendTo(child, listed ? { type: "OBSERVED", status: listed } : { type: "GONE", id, listedAt: event.listedAt });
        }
      }
    }),
    sandboxReady: assign(({ context, event }) => {
      const sandbox = (event as unknown as { output: Sandbox }).output;
      return {
        sandbox,
        sandboxSince: context.deps.now(),
        sandboxIds: sandbox.id ? [...context.sandboxIds, sandbox.id] : context.sandboxIds,
        sandboxFailures: 0,
        released: 0,
        initsReleased: 0,
      };
    }),
    sandboxFailed: assign(({ context, event }) => {
      const err = (event as unknown as { error: unknown }).error;
      const failures = context.sandboxFailures + 1;
      const message = err instanceof Error ? err.message : String(err);
      context.deps.event("Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${message}`);
      return {
        sandboxFailures: failures,
        sandboxError: message,
        retryAt: context.deps.now() + backoffDelay(failures, { ...context.deps.sandboxBackoff, resetMs: 0 }),
      };
    }),
    markDeleting: assign(({ event }) => {
      const e = event as Extract<PodEvent, { type: "DELETE" }>;
      return { deletion: { graceSeconds: e.graceSeconds, deleteObject: e.deleteObject } };
    }),
    /** A later DELETE can only shorten the grace; a force deletion (entry gone) leaves no object to delete. */
    tightenDeletion: assign(({ context, event }) => {
      const e = event as Extract<PodEvent, { type: "DELETE" }>;
      const d = context.deletion!;
      return { deletion: { graceSeconds: Math.min(d.graceSeconds, e.graceSeconds), deleteObject: d.deleteObject && e.deleteObject } };
    }),
    /** The app containers of a pod whose init failed for good never run. */
    stopAppContainers: enqueueActions(({ context, enqueue }) => {
      for (const n of context.order) enqueue.sendTo(context.children[n]!, { type: "TERMINATE", graceSeconds: 0 });
    }),
    terminateChildren: enqueueActions(({ context, enqueue }) => {
      for (const child of Object.values(context.children)) {
        enqueue.sendTo(child, { type: "TERMINATE", graceSeconds: context.deletion!.graceSeconds });
      }
    }),
    sandboxLost: enqueueActions(({ context, enqueue }) => {
      const restart = normalizePolicy(context.pod.spec?.restartPolicy) !== "Never";
      context.deps.event("Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
      for (const child of Object.values(context.children)) enqueue.sendTo(child, { type: "SANDBOX_LOST", restart });
    }),
    forgetSandbox: assign({ sandbox: undefined }),
    dropRemovedSandbox: assign(({ context }) => ({ sandboxIds: context.sandboxIds.filter((id) => id !== context.sandbox?.id) })),
    /** Containers whose image the update changes are restarted with the new one (before updatePod: compares). */
    changedImages: enqueueActions(({ context, event, enqueue }) => {
      const next = (event as Extract<PodEvent, { type: "UPDATE" }>).pod;
      const grace = next.spec?.terminationGracePeriodSeconds ?? 30;
      for (const c of [...(next.spec?.initContainers ?? []), ...(next.spec?.containers ?? [])]) {
        const child = context.children[c.name];
        if (child && child.getSnapshot().context.image !== c.image) {
          enqueue.sendTo(child, { type: "IMAGE_CHANGED", image: c.image, pullPolicy: pullPolicyOf(c), graceSeconds: grace });
        }
      }
    }),
    updatePod: assign(({ event }) => ({ pod: (event as Extract<PodEvent, { type: "UPDATE" }>).pod })),
    stopChildren: enqueueActions(({ context, enqueue }) => {
      for (const child of Object.values(context.children)) enqueue.stopChild(child);
    }),
  },
}).createMachine({
  id: "pod",
  context: ({ input, spawn }) => {
    const spec = input.pod.spec;
    const policy = normalizePolicy(spec?.restartPolicy);
    const children: Record<string, ContainerActor> = {};
    const finished = input.adopted?.finished === true;
    // A finished pod's sandbox is stopped: kept for cleanup (sandboxIds), not used (no pod IP).
    const stoppedSandbox = finished ? input.adopted?.sandbox : undefined;
    const adoptedSandbox = finished ? undefined : input.adopted?.sandbox;
    // Init containers restart on failure unless the pod never restarts anything.
    const initPolicy = policy === "Never" ? "Never" : "OnFailure";
    for (const [c, init] of [...(spec?.initContainers ?? []).map((c) => [c, true] as const), ...(spec?.containers ?? []).map((c) => [c, false] as const)]) {
      children[c.name] = spawn("container", {
        id: `container-${c.name}`,
        syncSnapshot: true,
        input: {
          name: c.name,
          image: c.image,
          pullPolicy: pullPolicyOf(c),
          policy: init ? initPolicy : policy,
          deps: input.deps.containerDeps(c),
          // Init containers run to completion; the gateway refuses probes on them.
          probes: init ? undefined : containerProbes(c, input.pod),
          // The gateway refuses lifecycle hooks on init containers too.
          hooks: init ? undefined : containerHooks(c, input.pod),
          adopted: input.adopted?.containers[c.name],
          sandbox: adoptedSandbox ? ref(adoptedSandbox) : undefined,
          // An adopted pod got past its init containers before the agent restarted; nothing of a
          // finished pod runs again.
          completed: (init && !!adoptedSandbox) || finished,
          finished,
        },
      }) as ContainerActor;
    }
    return {
      pod: input.pod,
      deps: input.deps,
      adopted: input.adopted,
      children,
      order: (spec?.containers ?? []).map((c) => c.name),
      initOrder: (spec?.initContainers ?? []).map((c) => c.name),
      released: 0,
      initsReleased: 0,
      sandbox: adoptedSandbox,
      sandboxSince: adoptedSandbox ? adoptedSandbox.createdAt.getTime() : 0,
      sandboxIds: input.adopted?.sandbox.id ? [input.adopted.sandbox.id] : [],
      startTime: (adoptedSandbox ?? stoppedSandbox)?.createdAt.getTime() ?? input.deps.now(),
      retryAt: 0,
      sandboxFailures: 0,
      sandboxError: "",
      deletion: input.deletion,
      cleanupFailures: 0,
    };
  },
  initial: "boot",
  on: {
    UPDATE: { actions: ["changedImages", "updatePod"] },
    DELETE: { target: ".terminating", actions: "markDeleting" },
    "xstate.error.actor.*": {},
  },
  states: {
    boot: {
      always: [
        { guard: "deleting", target: "terminating" },
        { guard: "adoptedFinished", target: "completed" },
        { guard: "adoptedSandbox", target: "running" },
        { target: "sandboxing" },
      ],
    },
    sandboxing: {
      invoke: {
        src: "runSandbox",
        input: ({ context }) => ({ deps: context.deps }),
        onDone: [
          { guard: "deleting", target: "terminating", actions: "sandboxReady" },
          { target: "running", actions: "sandboxReady" },
        ],
        onError: [{ guard: "deleting", target: "terminating" }, { target: "sandboxBackoff", actions: "sandboxFailed" }],
      },
      on: {
        // A sandbox being created would be orphaned if we left now: note it, act when it exists.
        DELETE: { actions: "markDeleting" },
      },
    },
    sandboxBackoff: {
      after: { untilRetry: "sandboxing" },
      // The runtime just answered a list (it is back, say after a Docker restart): try now.
      on: { RESYNC: "sandboxing" },
    },
    running: {
      entry: "releaseNext",
      always: [
        { guard: "allTerminated", target: "completed" },
        { guard: "initFailed", target: "completed", actions: "stopAppContainers" },
      ],
      on: {
        "xstate.snapshot.*": { actions: "releaseNext" },
        OBSERVED: [{ guard: "isOurSandboxDead", target: "resandboxing" }, { actions: "forward" }],
        GONE: [{ guard: "isOurSandboxDead", target: "resandboxing" }, { actions: "forward" }],
        RESYNC: [{ guard: "isOurSandboxDead", target: "resandboxing" }, { actions: "forward" }],
      },
    },
    resandboxing: {
      entry: "sandboxLost",
      always: [{ guard: "replaceSandbox", target: "removingSandbox" }, { target: "completed" }],
    },
    removingSandbox: {
      invoke: {
        src: "removeSandbox",
        input: ({ context }) => ({ deps: context.deps, ids: context.sandbox ? [context.sandbox.id] : [] }),
        onDone: [
          { guard: "deleting", target: "terminating", actions: ["dropRemovedSandbox", "forgetSandbox"] },
          { target: "sandboxing", actions: ["dropRemovedSandbox", "forgetSandbox"] },
        ],
        onError: [{ guard: "deleting", target: "terminating", actions: "forgetSandbox" }, { target: "sandboxing", actions: "forgetSandbox" }],
      },
      on: { DELETE: { actions: "markDeleting" } },
    },
    completed: {
      // Kubernetes stops a finished pod's sandbox; status (and its podIP) stay. A pod adopted as
      // finished has no sandbox here (it is stopped already; the last report keeps the podIP).
      invoke: {
        src: "stopSandbox",
        input: ({ context }) => ({ deps: context.deps, id: context.sandbox?.id ?? "" }),
        onDone: {},
        onError: {},
      },
      on: {
        OBSERVED: { actions: "forward" },
        GONE: { actions: "forward" },
      },
    },
    terminating: {
      entry: "terminateChildren",
      always: { guard: "everyChildTerminated", target: "cleaning" },
      on: {
        DELETE: { actions: ["tightenDeletion", "terminateChildren"] },
        OBSERVED: { actions: "forward" },
        GONE: { actions: "forward" },
        // The snapshot events re-check `always`; nothing else to do for them.
        "xstate.snapshot.*": {},
      },
    },
    cleaning: {
      invoke: {
        src: "cleanup",
        input: ({ context }) => ({
          deps: context.deps,
          containerIds: Object.values(context.children).flatMap((c) => c.getSnapshot().context.ids),
          sandboxIds: context.sandboxIds,
        }),
        onDone: [{ guard: "deleteObject", target: "deletingObject" }, { target: "done" }],
        onError: { target: "cleanupBackoff", actions: assign(({ context }) => ({
          cleanupFailures: context.cleanupFailures + 1,
          retryAt: context.deps.now() + backoffDelay(context.cleanupFailures + 1, { baseMs: 1_000, maxMs: 30_000, resetMs: 0 }),
        })) },
      },
      on: { DELETE: { actions: "tightenDeletion" } },
    },
    cleanupBackoff: {
      after: { untilRetry: "cleaning" },
      on: { DELETE: { actions: "tightenDeletion" } },
    },
    deletingObject: {
      invoke: {
        src: "deletePodObject",
        input: ({ context }) => ({ deps: context.deps }),
        onDone: "done",
        onError: { target: "deleteBackoff", actions: assign(({ context }) => ({
          cleanupFailures: context.cleanupFailures + 1,
          retryAt: context.deps.now() + backoffDelay(context.cleanupFailures + 1, { baseMs: 500, maxMs: 10_000, resetMs: 0 }),
        })) },
      },
      on: { DELETE: { actions: "tightenDeletion" } },
    },
    deleteBackoff: {
      after: { untilRetry: "deletingObject" },
      on: { DELETE: [{ guard: ({ event }) => !event.deleteObject, target: "done" }, { actions: "tightenDeletion" }] },
    },
    done: {
      type: "final",
      entry: "stopChildren",
    },
  },
});

function pullPolicyOf(c: Container): PullPolicy {
  if (c.imagePullPolicy === "Always" || c.imagePullPolicy === "Never" || c.imagePullPolicy === "IfNotPresent") return c.imagePullPolicy;
  // Kubernetes' default: Always for :latest (or no tag), IfNotPresent otherwise.
  const lastSegment = c.image.split("/").pop() ?? "";
  const tagged = lastSegment.includes(":") && !lastSegment.endsWith(":latest");
  return tagged || c.image.includes("@") ? "IfNotPresent" : "Always";
}

export type PodActor = ActorRefFrom<typeof podMachine>;
export type PodSnapshot = SnapshotFrom<typeof podMachine>;

/** The container views of a pod machine's snapshot, in spec order. */
export function podContainerViews(snapshot: PodSnapshot): ContainerView[] {
  const ctx = snapshot.context;
  return ctx.order.map((n) => containerView(ctx.children[n]!.getSnapshot()));
}

/** The init container views, in spec order. */
export function podInitContainerViews(snapshot: PodSnapshot): ContainerView[] {
  const ctx = snapshot.context;
  return ctx.initOrder.map((n) => containerView(ctx.children[n]!.getSnapshot()));
}
