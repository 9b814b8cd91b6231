// The XState machine of one controller worker. A controller runs N of these over one shared
// work queue; the queue guarantees no key is processed by two workers at once.
//
//              SYNCED (every informer has replayed)
//   syncing ─────────────────────────────────────▶ idle ◀────────────────────────────┐
//      │                                            │  takeKey: queue.next()          │ sync done (forget + done),
//      │                                            │  KEY_READY{key}                 │ or failed with a per-key error
//      │                                            ▼                                 │ (requeued by class, then done)
//      │                                       reconciling ───────────────────────────┘
//      │                                            │ invoke syncKey: sync(key)
//      │                                            │ failed with "NATS unavailable" (requeued, done)
//      │                                            ▼
//      │                                         backoff ── after(backoffUntil - now) ──▶ idle
//      │                                            │ RESUME: re-arm the timer from the absolute deadline
//      │  STOP                                      │        (after a snapshot restore, timers are lost)
//      └──────────────▶ stopped (final) ◀───────────┘ STOP (idle/backoff: at once; reconciling: when
//                                                      the sync in flight has finished, so its key is done)
//
// The deadline of `backoff` lives in context as an absolute time, so the delay is always computed
// from it and never restarted from scratch.
import { assign, fromCallback, fromPromise, setup, type ActorRefFrom, type SnapshotFrom } from "xstate";
import { classifyError } from "./error-policy.js";
import { silentLogger, type Logger } from "./logger.js";

/** What a worker needs of the queue (WorkQueue has it). */
export interface WorkerQueue {
  next(): Promise<string | undefined>;
  add(key: string): void;
  done(key: string): void;
  forget(key: string): void;
  addRateLimited(key: string, opts?: { backoff?: boolean }): number;
  numRequeues(key: string): number;
}

export interface GlobalBackoff {
  /** First pause after NATS was found unavailable; doubles with each consecutive failure. */
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_GLOBAL_BACKOFF: GlobalBackoff = { baseMs: 1_000, maxMs: 30_000 };

export interface WorkerInput {
  /** Controller name, for logs. */
  name: string;
  worker?: number;
  queue: WorkerQueue;
  sync: (key: string) => Promise<void>;
  /** The same clock the actor runs on (for the backoff deadline). */
  now: () => number;
  logger?: Logger;
  /** Called for errors that will not be retried (InvalidError, PreconditionError): record an event. */
  onInvalid?: (key: string, err: unknown) => void;
  globalBackoff?: GlobalBackoff;
}

export interface WorkerContext {
  name: string;
  worker: number;
  queue: WorkerQueue;
  sync: (key: string) => Promise<void>;
  now: () => number;
  logger: Logger;
  onInvalid: ((key: string, err: unknown) => void) | undefined;
  globalBackoff: GlobalBackoff;
  /** The key being reconciled. */
  key: string | undefined;
  /** Absolute time (clock ms) at which `backoff` ends. */
  backoffUntil: number;
  /** Consecutive "NATS unavailable" failures; reset by a successful sync. */
  globalFailures: number;
  /** STOP arrived during a sync: stop once it has finished. */
  stopping: boolean;
  syncs: number;
  failures: number;
  lastError: string | undefined;
}

export type WorkerEvent = { type: "SYNCED" } | { type: "KEY_READY"; key: string } | { type: "STOP" } | { type: "RESUME" };

const failed = { type: "failed", params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) } as const;
const countFailure = { type: "countFailure", params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) } as const;

export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    events: {} as WorkerEvent,
    input: {} as WorkerInput,
  },
  actors: {
    /** Waits for the next key; sends KEY_READY, or STOP once the queue is shut down. */
    takeKey: fromCallback<WorkerEvent, { queue: WorkerQueue }>(({ sendBack, input }) => {
      let active = true;
      void input.queue.next().then((key) => {
        if (key === undefined) {
          if (active) sendBack({ type: "STOP" });
        } else if (active) {
          sendBack({ type: "KEY_READY", key });
        } else {
          // Taken after we left idle: give it back so another worker looks at it.
          input.queue.done(key);
          input.queue.add(key);
        }
      });
      return () => {
        active = false;
      };
    }),
    // async: a sync that throws before returning its promise still ends as onError.
    syncKey: fromPromise<void, { key: string; sync: (key: string) => Promise<void> }>(async ({ input }) => input.sync(input.key)),
  },
  guards: {
    stopping: ({ context }) => context.stopping,
    natsUnavailable: (_, params: { error: unknown }) => classifyError(params.error) === "unavailable",
  },
  delays: {
    untilDeadline: ({ context }) => Math.max(0, context.backoffUntil - context.now()),
  },
  actions: {
    succeeded: ({ context }) => {
      const key = context.key!;
      context.queue.forget(key);
      context.queue.done(key);
    },
    failed: ({ context }, params: { error: unknown }) => {
      const key = context.key!;
      const { queue, logger } = context;
      const err = params.error;
      const fields = { controller: context.name, worker: context.worker, key, err: describe(err) };
      switch (classifyError(err)) {
        case "conflict":
          // Someone wrote first: look again at fresh state, soon, limited only by the global bucket.
          queue.addRateLimited(key, { backoff: false });
          logger.debug(fields, "conflict; requeued");
          break;
        case "gone":
          queue.forget(key);
          logger.debug(fields, "object gone");
          break;
        case "invalid":
          queue.forget(key);
          logger.error(fields, "sync failed and will not be retried");
          context.onInvalid?.(key, err);
          break;
        case "unavailable":
        case "transient": {
          const delayMs = queue.addRateLimited(key);
          logger.warn({ ...fields, retries: queue.numRequeues(key), delayMs }, "sync failed; requeued with backoff");
          break;
        }
      }
      queue.done(key);
    },
    // Not an exit action of reconciling: exit actions run before the transition's own actions.
    clearKey: assign({ key: undefined }),
    countSuccess: assign({ syncs: ({ context }) => context.syncs + 1, globalFailures: 0 }),
    countFailure: assign({
      failures: ({ context }) => context.failures + 1,
      lastError: (_, params: { error: unknown }) => describe(params.error),
    }),
    armBackoff: assign(({ context }) => {
      const n = context.globalFailures;
      const { baseMs, maxMs } = context.globalBackoff;
      return { globalFailures: n + 1, backoffUntil: context.now() + Math.min(baseMs * 2 ** n, maxMs) };
    }),
    logBackoff: ({ context }) =>
      context.logger.warn(
        { controller: context.name, worker: context.worker, delayMs: context.backoffUntil - context.now() },
        "NATS unavailable; pausing",
      ),
  },
}).createMachine({
  id: "controllerWorker",
  context: ({ input }) => ({
    name: input.name,
    worker: input.worker ?? 0,
    queue: input.queue,
    sync: input.sync,
    now: input.now,
    logger: input.logger ?? silentLogger,
    onInvalid: input.onInvalid,
    globalBackoff: input.globalBackoff ?? DEFAULT_GLOBAL_BACKOFF,
    key: undefined,
    backoffUntil: 0,
    globalFailures: 0,
    stopping: false,
    syncs: 0,
    failures: 0,
    lastError: undefined,
  }),
  initial: "syncing",
  states: {
    syncing: {
      on: { SYNCED: "idle", STOP: "stopped" },
    },
    idle: {
      invoke: { src: "takeKey", input: ({ context }) => ({ queue: context.queue }) },
      on: {
        KEY_READY: { target: "reconciling", actions: assign({ key: ({ event }) => event.key }) },
        STOP: "stopped",
      },
    },
    reconciling: {
      invoke: {
        src: "syncKey",
        input: ({ context }) => ({ key: context.key!, sync: context.sync }),
        onDone: [
          { guard: "stopping", target: "stopped", actions: ["succeeded", "countSuccess", "clearKey"] },
          { target: "idle", actions: ["succeeded", "countSuccess", "clearKey"] },
        ],
        onError: [
          { guard: "stopping", target: "stopped", actions: [failed, countFailure, "clearKey"] },
          {
            guard: { type: "natsUnavailable", params: ({ event }) => ({ error: event.error }) },
            target: "backoff",
            actions: [failed, countFailure, "armBackoff", "logBackoff", "clearKey"],
          },
          { target: "idle", actions: [failed, countFailure, "clearKey"] },
        ],
      },
      on: { STOP: { actions: assign({ stopping: true }) } },
    },
    backoff: {
      after: { untilDeadline: "idle" },
      on: {
        RESUME: { target: "backoff", reenter: true },
        STOP: "stopped",
      },
    },
    stopped: { type: "final" },
  },
});

export type WorkerActor = ActorRefFrom<typeof workerMachine>;
export type WorkerSnapshot = SnapshotFrom<typeof workerMachine>;

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
