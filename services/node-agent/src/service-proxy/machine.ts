// When the service proxy writes its table: a burst of Service/Endpoints changes (a rollout moves
// many endpoints within milliseconds) becomes one sync after a short quiet window; a change during
// a sync causes one more sync after it; a failed sync is retried with exponential backoff; and an
// idle proxy re-applies its table now and then, in case something on the host removed it.
//
//              CHANGED                 coalesce                 done, nothing new
//   idle ─────────────────▶ waiting ─────────────▶ syncing ─────────────────────▶ idle
//    │  ▲                                            │  │ done, CHANGED meanwhile ─▶ waiting
//    │  └──────────────────── resync (force) ────────┘  │ error ─▶ backoff ─(retry, force)─▶ syncing
//    └── resync ────────────────────────────────────────▶
//
// The first sync runs at once and is forced. "force" applies the table even when its text is the
// one applied last; otherwise an unchanged text is not applied again.
import { assign, fromPromise, setup } from "xstate";

export interface ProxyLoopInput {
  coalesceMs: number;
  resyncMs: number;
  backoff: { baseMs: number; maxMs: number };
  /** Computes the table and applies it (when changed, or always when forced). */
  sync(force: boolean): Promise<void>;
  onError(err: unknown, failures: number): void;
}

interface Context extends ProxyLoopInput {
  /** A change arrived while syncing. */
  dirty: boolean;
  force: boolean;
  failures: number;
}

export const proxyMachine = setup({
  types: {} as { context: Context; events: { type: "CHANGED" }; input: ProxyLoopInput },
  actors: {
    sync: fromPromise<void, { force: boolean; sync: (force: boolean) => Promise<void> }>(({ input }) => input.sync(input.force)),
  },
  delays: {
    coalesce: ({ context }) => context.coalesceMs,
    resync: ({ context }) => context.resyncMs,
    retry: ({ context }) => Math.min(context.backoff.maxMs, context.backoff.baseMs * 2 ** Math.max(0, context.failures - 1)),
  },
}).createMachine({
  id: "service-proxy",
  context: ({ input }) => ({ ...input, dirty: false, force: true, failures: 0 }),
  initial: "syncing",
  states: {
    idle: {
      on: { CHANGED: "waiting" },
      after: { resync: { target: "syncing", actions: assign({ force: true }) } },
    },
    waiting: {
      after: { coalesce: "syncing" },
    },
    syncing: {
      entry: assign({ dirty: false }),
      on: { CHANGED: { actions: assign({ dirty: true }) } },
      invoke: {
        src: "sync",
        input: ({ context }) => ({ force: context.force, sync: context.sync }),
        onDone: [
          { guard: ({ context }) => context.dirty, target: "waiting", actions: assign({ failures: 0, force: false }) },
          { target: "idle", actions: assign({ failures: 0, force: false }) },
        ],
        onError: {
          target: "backoff",
          // After a failure the table on the host is unknown: the retry applies it whatever it is.
          actions: [assign({ failures: ({ context }) => context.failures + 1, force: true }), ({ context, event }) => context.onError(event.error, context.failures)],
        },
      },
    },
    backoff: {
      after: { retry: "syncing" },
    },
  },
});
