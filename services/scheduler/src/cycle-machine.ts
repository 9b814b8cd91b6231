// The scheduling cycle as an XState machine. One actor per scheduler; the work it drives is plain
// code behind `CycleWork` (the queue, the cache, the pipeline in stack.ts, the bind writes), so
// this file is only about *when* things happen.
//
//                 WAKE (a pod to schedule, or the cluster changed) / BIND_DONE
//        ┌──────────────────────────────────────────────┐
//        ▼                                              │
//      idle ── a pod is ready and a bind slot free ──▶ scheduling ── more ready ──▶ yielding
//       │ │                                            (a batch of pods:          (one turn of the
//       │ │                                             place each one, start      event loop, so
//       │ │                                             its bind write, or mark    informer events and
//       │ │                                             it unschedulable)          bind results get in)
//       │ │                                                 │ bind slots all taken       │
//       │ │ ready pods, but every bind slot taken            ▼                           │
//       │ └────────────────────────────────────────────▶ saturated ── BIND_DONE, a ──▶ idle ◀┘
//       │                                                            quarter of the slots free
//       │ nothing ready, some pod backing off
//       └──▶ backoff ── after(until the earliest retry) / WAKE / BIND_DONE ──▶ idle
//
//   STOP (any state) ──▶ draining ── no bind in flight ──▶ stopped (final)
//
// Bindings are async work started by `scheduling` (at most maxBindsInFlight at once, CAS writes
// pipelined); each ends in a BIND_DONE event that the machine settles in whatever state it is in
// (confirm, skip a pod someone else bound, retry one that changed, back off after an error).
// The backoff deadline comes from the queue as an absolute time each time `backoff` is entered,
// so a restored or re-entered state never waits longer than it should.
import { assign, fromCallback, setup, type ActorRefFrom } from "xstate";

/** What the machine drives. Every method is synchronous; bind writes report back with BIND_DONE. */
export interface CycleWork<Outcome = unknown> {
  now(): number;
  /** Moves pods waiting for a cluster change to the active queue if one happened. */
  applyClusterChanges(): void;
  /** Whether a pod is ready to be scheduled now. */
  hasReady(): boolean;
  /** How many more bind writes may start now, and how many may be in flight at most. */
  bindSlots(): { free: number; total: number };
  bindsInFlight(): number;
  /** Schedules up to `max` ready pods (while bind slots last); returns how many it took. */
  scheduleBatch(max: number): number;
  /** The earliest time a backing-off pod is due (absolute, same clock as now()), if any. */
  nextRetryAt(): number | undefined;
  settle(outcome: Outcome): void;
}

export type CycleEvent<Outcome = unknown> =
  | { type: "WAKE" }
  | { type: "BIND_DONE"; outcome: Outcome }
  | { type: "YIELDED" }
  | { type: "STOP" };

export interface CycleInput {
  work: CycleWork;
  /** Pods per batch before yielding to the event loop. */
  batchSize?: number;
}

interface CycleContext {
  work: CycleWork;
  batchSize: number;
  batches: number;
  scheduled: number;
}

const settle = ({ context, event }: { context: CycleContext; event: CycleEvent }) => {
  if (event.type === "BIND_DONE") context.work.settle(event.outcome);
};

export const cycleMachine = setup({
  types: {
    context: {} as CycleContext,
    events: {} as CycleEvent,
    input: {} as CycleInput,
  },
  actors: {
    // setImmediate, not a timer: the next batch starts as soon as pending I/O callbacks ran.
    yieldToEventLoop: fromCallback<CycleEvent>(({ sendBack }) => {
      const handle = setImmediate(() => sendBack({ type: "YIELDED" }));
      return () => clearImmediate(handle);
    }),
  },
  guards: {
    canSchedule: ({ context }) => context.work.hasReady() && context.work.bindSlots().free > 0,
    readyButSaturated: ({ context }) => context.work.hasReady() && context.work.bindSlots().free === 0,
    saturated: ({ context }) => context.work.bindSlots().free === 0,
    // Resume once a quarter of the slots are free, so the next batch is a batch and not one pod
    // per finished bind.
    roomForABatch: ({ context }) => {
      const { free, total } = context.work.bindSlots();
      return free * 4 >= total;
    },
    backingOff: ({ context }) => context.work.nextRetryAt() !== undefined,
    noBindsInFlight: ({ context }) => context.work.bindsInFlight() === 0,
  },
  delays: {
    untilNextRetry: ({ context }) => Math.max(0, (context.work.nextRetryAt() ?? context.work.now()) - context.work.now()),
  },
  actions: {
    applyClusterChanges: ({ context }) => context.work.applyClusterChanges(),
    settle,
    scheduleBatch: assign(({ context }) => {
      const n = context.work.scheduleBatch(context.batchSize);
      return { batches: context.batches + 1, scheduled: context.scheduled + n };
    }),
  },
}).createMachine({
  id: "scheduling-cycle",
  context: ({ input }) => ({ work: input.work, batchSize: input.batchSize ?? 64, batches: 0, scheduled: 0 }),
  initial: "idle",
  on: {
    STOP: ".draining",
    BIND_DONE: { actions: "settle" },
  },
  states: {
    idle: {
      entry: "applyClusterChanges",
      always: [
        { guard: "canSchedule", target: "scheduling" },
        { guard: "readyButSaturated", target: "saturated" },
        { guard: "backingOff", target: "backoff" },
      ],
      on: {
        WAKE: { target: "idle", reenter: true },
        BIND_DONE: { actions: "settle", target: "idle", reenter: true },
      },
    },
    scheduling: {
      entry: "scheduleBatch",
      always: [{ guard: "saturated", target: "saturated" }, { target: "yielding" }],
    },
    yielding: {
      invoke: { src: "yieldToEventLoop" },
      on: { YIELDED: "idle" },
    },
    saturated: {
      on: {
        BIND_DONE: [
          { guard: "roomForABatch", actions: "settle", target: "idle" },
          { actions: "settle" },
        ],
      },
    },
    backoff: {
      after: { untilNextRetry: "idle" },
      on: {
        WAKE: "idle",
        BIND_DONE: { actions: "settle", target: "idle" },
      },
    },
    draining: {
      always: { guard: "noBindsInFlight", target: "stopped" },
      on: {
        BIND_DONE: { actions: "settle", target: "draining", reenter: true },
        STOP: {},
      },
    },
    stopped: { type: "final" },
  },
});

export type CycleActor = ActorRefFrom<typeof cycleMachine>;
