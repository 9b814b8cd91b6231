// A controller: informer events become keys in one work queue; N worker machines (machine.ts)
// take keys from it and call `sync(key)`. Workers are one XState actor each - simple to read,
// each worker's state is visible on its own, and the queue (not the machines) guarantees that no
// key is synced by two workers at once.
//
// Start: subscribe to the informers first (events during the replay only add keys, which the
// queue dedupes), wait until every informer has replayed, enqueue every key once, then send
// SYNCED so workers begin. Stop: shut the queue down (no new keys are handed out), tell every
// worker STOP, and wait for the syncs in flight to finish.
import type { KubeObject } from "@navarch/api";
import type { Informer, StoreEvent } from "@navarch/store";
import { createActor } from "xstate";
import { realClock, type Clock } from "./clock.js";
import { silentLogger, type Logger } from "./logger.js";
import { workerMachine, type GlobalBackoff, type WorkerActor } from "./machine.js";
import { WorkQueue, type WorkQueueOptions } from "./workqueue.js";

/** Which informer to follow, and which controller keys an event of it concerns. */
export interface Watch<T extends KubeObject = KubeObject> {
  informer: Informer<T>;
  /** Keys to enqueue for an event; default: the object's own store key. An owned object maps to its owner's key. */
  toKeys?: (event: StoreEvent<T>) => string[];
}

/** Builds a Watch with the informer's object type checked against toKeys. */
export function watch<T extends KubeObject>(informer: Informer<T>, toKeys?: (event: StoreEvent<T>) => string[]): Watch {
  return { informer, toKeys } as unknown as Watch;
}

export interface ControllerOptions {
  name: string;
  /** Informers whose events map to keys. */
  watches?: Watch[];
  /** Informers that must have replayed before workers start (the watched ones are added). */
  informers?: Informer<any>[];
  sync: (key: string) => Promise<void>;
  /** Every key, enqueued once after the replay and on each resync; default: the first watched informer's keys. */
  keys?: () => Iterable<string>;
  /** Worker machines; each syncs one key at a time. */
  workers?: number;
  queue?: WorkQueueOptions;
  /** Re-enqueue every key this often (0: never). */
  resyncPeriodMs?: number;
  globalBackoff?: GlobalBackoff;
  /** Called for errors that will not be retried, e.g. to record a Warning event. */
  onInvalid?: (key: string, err: unknown) => void;
  logger?: Logger;
  clock?: Clock;
  /** How often to check whether the informers have replayed (as client-go's WaitForCacheSync polls). */
  syncPollMs?: number;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly watches: Watch[];
  private readonly informers: Informer<any>[];
  private workers: WorkerActor[] = [];
  private finished: Promise<void>[] = [];
  private unsubscribe: (() => void)[] = [];
  private resyncTimer: unknown;
  private syncPollTimer: unknown;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: ControllerOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? opts.queue?.clock ?? realClock;
    this.logger = opts.logger ?? silentLogger;
    this.queue = new WorkQueue({ ...opts.queue, clock: this.clock });
    this.watches = opts.watches ?? (opts.informers ?? []).map((informer) => ({ informer }));
    this.informers = [...new Set([...(opts.informers ?? []), ...this.watches.map((w) => w.informer)])];
    if (this.watches.length === 0 && !opts.keys) throw new Error(`controller ${opts.name}: nothing to watch`);
  }

  /** Starts the workers; resolves once the informers have replayed and every key is queued. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} already started`);
    this.started = true;
    for (const w of this.watches) {
      this.unsubscribe.push(w.informer.onEvent((event) => this.enqueueFor(w, event)));
    }
    const n = Math.max(1, this.opts.workers ?? 1);
    for (let i = 0; i < n; i++) this.spawnWorker(i);

    await this.waitForCacheSync();
    if (this.stopped) return;
    this.enqueueAll();
    for (const worker of this.workers) worker.send({ type: "SYNCED" });
    this.logger.info({ controller: this.name, workers: n, keys: this.queue.len }, "controller synced; workers started");
    this.scheduleResync();
  }

  /** Stops taking keys and resolves when every sync in flight has finished. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** Each worker's state, for status pages and tests. */
  get workerStates(): string[] {
    return this.workers.map((w) => String(w.getSnapshot().value));
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    if (this.syncPollTimer !== undefined) this.clock.clearTimeout(this.syncPollTimer);
    this.syncPollDone?.();
    this.queue.shutDown();
    for (const worker of this.workers) worker.send({ type: "STOP" });
    await Promise.all(this.finished);
    await this.queue.drained();
    this.logger.info({ controller: this.name }, "controller stopped");
  }

  private spawnWorker(i: number): void {
    const worker = createActor(workerMachine, {
      id: `${this.name}-${i}`,
      clock: this.clock,
      input: {
        name: this.name,
        worker: i,
        queue: this.queue,
        sync: this.opts.sync,
        now: () => this.clock.now(),
        logger: this.logger,
        onInvalid: this.opts.onInvalid,
        globalBackoff: this.opts.globalBackoff,
      },
    });
    this.finished.push(
      new Promise<void>((resolve) => {
        worker.subscribe({
          complete: () => resolve(),
          // A root actor without an error observer would crash the process.
          error: (err) => {
            this.logger.error({ controller: this.name, worker: i, err: String(err) }, "worker machine failed");
            // Its key in flight would otherwise stay "processing" forever (and stop() never drain).
            const context = worker.getSnapshot().context;
            const key = context?.inFlight.key ?? context?.key;
            if (key) this.queue.done(key);
            resolve();
          },
        });
      }),
    );
    this.workers.push(worker);
    worker.start();
  }

  private enqueueFor(w: Watch, event: StoreEvent<KubeObject>): void {
    if (this.stopped) return;
    let keys: string[];
    try {
      keys = w.toKeys ? w.toKeys(event) : [event.key];
    } catch (err) {
      this.logger.error({ controller: this.name, key: event.key, err: String(err) }, "mapping an event to keys failed");
      return;
    }
    for (const key of keys) this.queue.add(key);
  }

  private enqueueAll(): void {
    const keys = this.opts.keys ? this.opts.keys() : this.watches[0]!.informer.keys();
    for (const key of keys) this.queue.add(key);
  }

  private scheduleResync(): void {
    const period = this.opts.resyncPeriodMs ?? 0;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      this.enqueueAll();
      this.scheduleResync();
    }, period);
  }

  private syncPollDone: (() => void) | undefined;

  private waitForCacheSync(): Promise<void> {
    const poll = this.opts.syncPollMs ?? 25;
    return new Promise<void>((resolve) => {
      this.syncPollDone = resolve;
      const check = () => {
        if (this.stopped || this.informers.every((i) => i.synced)) return resolve();
        this.syncPollTimer = this.clock.setTimeout(check, poll);
      };
      check();
    });
  }
}

/** Creates and starts a controller; resolves once its informers have replayed. */
export async function runController(opts: ControllerOptions): Promise<Controller> {
  const controller = new Controller(opts);
  await controller.start();
  return controller;
}
