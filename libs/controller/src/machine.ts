// The XState machine of one controller worker. A controller runs N of these over one shared
// work queue; the queue guarantees no key is processed by two workers at once.
//
//              SYNCED (every informer has replayed)
//   syncing ─────────────────────────────────────▶ idle ◀────────────────────────────┐
//      │                                            │  takeKey: queue.next()          │ sync done (forget + done),
//      │                                            │  KEY_READY{key}                 │ or failed with a per-key error
//      │                                            ▼                                 │ (requeued by class, then done)
//      │                                       reconciling ───────────────────────────┘
//      │                                            │ invoke syncKeys: sync(key), then the keys
//      │                                            │ already waiting (a pass, see below)
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
//
// A pass: once its key is synced, `syncKeys` goes on with keys the queue holds ready at once
// (queue.tryNext), up to MAX_KEYS_PER_PASS, marking each finished one done itself, and ends on the
// first error with that key. Under load (150,000 pods: a queue of thousands) two transitions and
// two spawned actors per key cost a fifth of the control plane's CPU; a pass pays them once per
// up to MAX_KEYS_PER_PASS keys. Per key nothing changes: one worker at a time, done after its sync,
// the same error classes. A pass ends when the queue is shut down (Controller.stop does that
// before STOP), so a stopping worker never takes a new key. Syncs that finish without I/O give
// the event loop a turn every SLICE_MS (libs/store), so a long queue never blocks the process.
import { nextTurn, sliceUsed } from "@navarch/store";
import { assign, fromCallback, fromPromise, setup, type ActorRefFrom, type SnapshotFrom } from "xstate";
import { classifyError } from "./error-policy.js";
import { silentLogger, type Logger } from "./logger.js";

/** What a worker needs of the queue (WorkQueue has it). */
export interface WorkerQueue {
  next(): Promise<string | undefined>;
  /** A key ready at once (undefined if none, or after shutdown); without it a pass is one key. */
  tryNext?(): string | undefined;
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
  /** The key that started the pass being reconciled (see `inFlight` for the one syncing now). */
  key: string | undefined;
  /** The key syncing right now, kept up to date by the pass (a worker that fails marks it done). */
  inFlight: { key: string | undefined };
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

/** Keys one pass may sync before the worker goes back through idle. */
export const MAX_KEYS_PER_PASS = 64;

/** How a pass ended: its last key synced, after `synced` keys in all. */
export interface PassOutput {
  key: string;
  synced: number;
}

/** A pass failed at `key` (after `synced` keys that succeeded); `error` is the sync's own error. */
export class PassFailure {
  constructor(
    readonly key: string,
    readonly error: unknown,
    readonly synced: number,
  ) {}
}

/** The sync's error and the key it failed at, for an error of a pass or of anything else. */
function failureOf(error: unknown, fallbackKey: string | undefined): { key: string; error: unknown; synced: number } {
  return error instanceof PassFailure ? error : { key: fallbackKey ?? "", error, synced: 0 };
}

interface PassInput {
  key: string;
  sync: (key: string) => Promise<void>;
  queue: WorkerQueue;
  inFlight: { key: string | undefined };
}

// Back-to-back syncs give the event loop a turn every SLICE_MS (libs/store event-loop-slice.ts,
// shared with the informers): a sync that needs no write completes without I/O, so a queue of
// thousands of such keys (the pod projector after a burst of its own writes) would otherwise be
// drained in one run of microtasks: measured 1.6 s during which the API gateway in the same
// process read no request.
async function yieldIfSliceUsed(): Promise<void> {
  if (sliceUsed()) await nextTurn();
}

async function runPass({ key: first, sync, queue, inFlight }: PassInput): Promise<PassOutput> {
  let key = first;
  let synced = 0;
  for (;;) {
    inFlight.key = key;
    await yieldIfSliceUsed();
    try {
      await sync(key);
    } catch (err) {
      throw new PassFailure(key, err, synced);
    }
    synced++;
    const next = synced < MAX_KEYS_PER_PASS ? queue.tryNext?.() : undefined;
    if (next === undefined) return { key, synced };
    // The machine's own actions do this for the pass's last key.
    queue.forget(key);
    queue.done(key);
    key = next;
  }
}

const failed = {
  type: "failed",
  params: ({ context, event }: { context: WorkerContext; event: { error: unknown } }) => failureOf(event.error, context.key),
} as const;
const countFailure = {
  type: "countFailure",
  params: ({ context, event }: { context: WorkerContext; event: { error: unknown } }) => failureOf(event.error, context.key),
} as const;
const succeeded = { type: "succeeded", params: ({ event }: { event: { output: PassOutput } }) => event.output } as const;
const countSuccess = { type: "countSuccess", params: ({ event }: { event: { output: PassOutput } }) => event.output } as const;

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
    // A sync that throws before returning its promise still ends as onError (runPass awaits it).
    syncKeys: fromPromise<PassOutput, PassInput>(({ input }) => runPass(input)),
  },
  guards: {
    stopping: ({ context }) => context.stopping,
    natsUnavailable: ({ context, event }) => classifyError(failureOf((event as { error?: unknown }).error, context.key).error) === "unavailable",
  },
  delays: {
    untilDeadline: ({ context }) => Math.max(0, context.backoffUntil - context.now()),
  },
  actions: {
    succeeded: ({ context }, params: PassOutput) => {
      context.queue.forget(params.key);
      context.queue.done(params.key);
      context.inFlight.key = undefined;
    },
    failed: ({ context }, params: { key: string; error: unknown }) => {
      const key = params.key;
      const { queue, logger } = context;
      const err = params.error;
      context.inFlight.key = undefined;
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
    countSuccess: assign({ syncs: ({ context }, params: PassOutput) => context.syncs + params.synced, globalFailures: 0 }),
    countFailure: assign({
      syncs: ({ context }, params: { synced: number; error: unknown }) => context.syncs + params.synced,
      failures: ({ context }) => context.failures + 1,
      lastError: (_, params: { synced: number; error: unknown }) => describe(params.error),
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
    inFlight: { key: undefined },
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
        src: "syncKeys",
        input: ({ context }) => ({ key: context.key!, sync: context.sync, queue: context.queue, inFlight: context.inFlight }),
        onDone: [
          { guard: "stopping", target: "stopped", actions: [succeeded, countSuccess, "clearKey"] },
          { target: "idle", actions: [succeeded, countSuccess, "clearKey"] },
        ],
        onError: [
          { guard: "stopping", target: "stopped", actions: [failed, countFailure, "clearKey"] },
          {
            guard: "natsUnavailable",
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
