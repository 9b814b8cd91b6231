// Events about any object (a Pod's Scheduled or BackOff, a Node's NodeNotReady ...) as Event
// objects, the way `kubectl describe` shows them. Controllers use it directly; the node agent's
// pod recorder is a thin adapter of it.
//
// Recording never blocks or fails the caller: record() folds the occurrence into a table of Events
// waiting to be written (correlator.ts decides which Event; a repeat of a waiting Event only adds
// to its tally) and returns. Writers drain the table in the background: up to `concurrency` KV
// writes in flight at once (pipelined on the one NATS connection), never two for the same Event,
// each a compare-and-swap create or count update. A burst of N occurrences of one Event costs one
// or two writes, and a burst of distinct Events is written as fast as the server takes them.
//
// Nothing a user looks for is dropped while the table has room (`maxQueue` waiting Events; repeats
// of a waiting one take none). When it is full, load is shed in this order: repeats of Events
// already stored (their count stays lower than it should be) first, the oldest waiting one
// making room for a new Event; a new Event is refused only when every waiting Event is new too.
// What is shed or refused is counted (`shed`, `dropped`) and logged, at most a line per 10 s.
import { AlreadyExistsError, ConflictError, TransientError, type Event } from "@navarch/api";
import type { ResourceStore } from "@navarch/store";
import { realClock, type Clock } from "../clock.js";
import { silentLogger, type Logger } from "../logger.js";
import { EventCorrelator, eventFor, withinDedupeWindow, type EventSource, type InvolvedObject, type ObjectEventType, type Tally } from "./correlator.js";
import { SpamLimit, spamKey, type SpamLimitOptions } from "./spam-limit.js";

export const DEFAULT_EVENT_QUEUE = 50_000;
export const DEFAULT_EVENT_WRITES_IN_FLIGHT = 64;
/** Known Events remembered with their revision (a repeat then needs no read). */
const CACHED_EVENTS = 4_096;
/** Compare-and-swap tries of one write (from fresh state after each conflict). */
const CAS_ATTEMPTS = 10;
/** A write that failed for a transient reason (NATS unreachable, a lost race) is tried this many times more. */
const WRITE_RETRIES = 3;
const RETRY_BASE_MS = 1_000;
const WARN_EVERY_MS = 10_000;
/** Delayed writes whose token comes due this close together start together (one timer, not one each). */
const RELEASE_SLACK_MS = 250;

export interface EventRecorderOptions {
  store: ResourceStore<Event>;
  /** source.component, e.g. "node-controller". */
  component: string;
  /** source.host / reportingInstance (a node name, a pod name); "" when none. */
  instance?: string;
  /** reportingComponent; the component when not given. */
  reportingComponent?: string;
  logger?: Logger;
  /** Events waiting to be written, at most (repeats of a waiting Event take no room). */
  maxQueue?: number;
  /** KV writes in flight, at most. */
  concurrency?: number;
  spamLimit?: SpamLimitOptions;
  clock?: Clock;
}

interface Waiting extends Tally {
  /** When the spam limit lets this write start. */
  notBefore: number;
  attempts: number;
}

export class ObjectEventRecorder {
  private readonly source: EventSource;
  private readonly correlator: EventCorrelator;
  private readonly spam: SpamLimit;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  /** Waiting Events whose write may start, oldest first. A key is in `ready` or `delayed`, not both. */
  private readonly ready = new Map<string, Waiting>();
  /** Waiting Events held back by the spam limit. */
  private readonly delayed = new Map<string, Waiting>();
  /** Waiting keys whose Event is stored or being written: what is shed first. */
  private readonly repeats = new Set<string>();
  private readonly inFlight = new Set<string>();
  /** Our latest write per Event key (least recently used first out). */
  private readonly cache = new Map<string, Event>();
  private timer: unknown;
  private timerAt = Infinity;
  private pumpQueued = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private lastShedWarning = -Infinity;
  private lastFailureWarning = -Infinity;
  /** Occurrences stored (on a new Event or in a count). */
  written = 0;
  /** KV writes done. */
  writes = 0;
  /** Occurrences of new Events refused because the table was full of new Events. */
  dropped = 0;
  /** Repeat occurrences not added to their stored Event's count, to make room. */
  shed = 0;
  /** Occurrences whose write failed (after retries). */
  failed = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    this.source = { component: opts.component, instance: opts.instance ?? "", reportingComponent: opts.reportingComponent ?? opts.component };
    this.correlator = new EventCorrelator(this.source);
    this.spam = new SpamLimit(opts.spamLimit);
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger ?? silentLogger;
    this.maxQueue = Math.max(1, opts.maxQueue ?? DEFAULT_EVENT_QUEUE);
    this.concurrency = Math.max(1, opts.concurrency ?? DEFAULT_EVENT_WRITES_IN_FLIGHT);
  }

  /** Events waiting to be written (not counting those being written). */
  get waiting(): number {
    return this.ready.size + this.delayed.size;
  }

  record(object: InvolvedObject, type: ObjectEventType, reason: string, message: string): void {
    if (this.stopped) return;
    const at = this.clock.now();
    const correlated = this.correlator.correlate({ object, type, reason, message, at });
    const key = correlated.key;
    const tally = this.ready.get(key) ?? this.delayed.get(key);
    if (tally) {
      tally.count++;
      tally.last = Math.max(tally.last, at);
      tally.correlated = correlated;
      return;
    }
    // A repeat only adds to the count of an Event a user can already see (an old one would start afresh).
    const repeat = this.inFlight.has(key) || this.storedRecently(key, at);
    if (this.waiting >= this.maxQueue) {
      if (repeat) {
        this.shed++;
        this.warnShedding();
        return;
      }
      if (!this.shedOldestRepeat()) {
        this.dropped++;
        this.warnShedding();
        return;
      }
    }
    const notBefore = this.spam.reserve(spamKey(this.source.component, this.source.instance, object), at);
    this.admit(key, { correlated, object, type, reason, count: 1, first: at, last: at, notBefore, attempts: 0 }, repeat);
  }

  /** Writes what is waiting (within timeoutMs, spam limit or not) and stops accepting events. */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    for (const [key, w] of this.delayed) this.ready.set(key, w);
    this.delayed.clear();
    this.schedulePump();
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.idle(), new Promise((r) => (timeout = setTimeout(r, timeoutMs)).unref())]);
    clearTimeout(timeout);
    let lost = 0;
    for (const w of this.ready.values()) lost += w.count;
    if (lost > 0) this.logger.warn({ events: lost }, "event recorder stopped before writing every event");
    this.ready.clear();
    this.repeats.clear();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves once nothing waits and nothing is being written (tests). */
  idle(): Promise<void> {
    if (this.quiet()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private quiet(): boolean {
    return this.ready.size === 0 && this.delayed.size === 0 && this.inFlight.size === 0;
  }

  private admit(key: string, w: Waiting, repeat: boolean): void {
    if (repeat) this.repeats.add(key);
    if (w.notBefore <= this.clock.now() || this.stopped) {
      this.ready.set(key, w);
      this.schedulePump();
    } else {
      this.delayed.set(key, w);
      this.armTimer(w.notBefore);
    }
  }

  private shedOldestRepeat(): boolean {
    for (const key of this.repeats) {
      this.repeats.delete(key);
      const w = this.ready.get(key) ?? this.delayed.get(key);
      if (!w) continue;
      this.ready.delete(key);
      this.delayed.delete(key);
      this.shed += w.count;
      this.warnShedding();
      return true;
    }
    return false;
  }

  private warnShedding(): void {
    // One line per 10 s at most: under a burst a line per event would flood the log with the same news.
    const t = this.clock.now();
    if (t - this.lastShedWarning < WARN_EVERY_MS) return;
    this.lastShedWarning = t;
    this.logger.warn(
      { dropped: this.dropped, shed: this.shed, waiting: this.waiting, maxQueue: this.maxQueue },
      "event recorder is shedding load: repeats not counted (shed) and, when only new events wait, new events not stored (dropped)",
    );
  }

  // Writes start on the next microtask, so that what one turn of the event loop records is folded first.
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    // Keys skipped here are being written; there are at most `concurrency` of them.
    for (const [key, w] of this.ready) {
      if (this.inFlight.size >= this.concurrency) return;
      if (this.inFlight.has(key)) continue;
      this.ready.delete(key);
      this.repeats.delete(key);
      this.inFlight.add(key);
      void this.writeOne(key, w).finally(() => {
        this.inFlight.delete(key);
        if (this.ready.size > 0) this.schedulePump();
        else if (this.quiet()) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  private async writeOne(key: string, w: Waiting): Promise<void> {
    try {
      await this.write(w);
      this.written += w.count;
    } catch (err) {
      // A lost race (another recorder counting the same Event) is retried like a NATS outage.
      if ((err instanceof TransientError || err instanceof ConflictError) && w.attempts < WRITE_RETRIES && !this.stopped) {
        this.retryLater(key, w);
        return;
      }
      this.failed += w.count;
      const t = this.clock.now();
      if (t - this.lastFailureWarning >= WARN_EVERY_MS) {
        this.lastFailureWarning = t;
        const o = w.object;
        this.logger.warn(
          { reason: w.reason, object: `${o.kind}/${o.namespace ? o.namespace + "/" : ""}${o.name}`, failed: this.failed, err: String(err) },
          "recording an event failed",
        );
      }
    }
  }

  /** Puts a failed tally back, merged with what came for its Event meanwhile, to be tried after a backoff. */
  private retryLater(key: string, w: Waiting): void {
    const notBefore = this.clock.now() + RETRY_BASE_MS * 2 ** w.attempts;
    const newer = this.ready.get(key) ?? this.delayed.get(key);
    this.ready.delete(key);
    this.delayed.delete(key);
    const merged: Waiting = newer
      ? { ...newer, count: newer.count + w.count, first: Math.min(newer.first, w.first), last: Math.max(newer.last, w.last), notBefore, attempts: w.attempts + 1 }
      : { ...w, notBefore, attempts: w.attempts + 1 };
    this.admit(key, merged, this.storedRecently(key, merged.first));
  }

  private async write(w: Waiting): Promise<void> {
    const { store } = this.opts;
    const { namespace, name, key } = w.correlated;
    let current = this.cache.get(key);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      try {
        const next = eventFor(current, w, this.source);
        const stored = current ? await store.update(next) : await store.create(next);
        this.writes++;
        this.remember(key, stored!);
        return;
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof AlreadyExistsError)) throw err;
        current = await store.get(namespace, name);
      }
    }
    throw new ConflictError(`event ${key} keeps changing`);
  }

  /** Whether an Event of this key was stored recently enough that a repeat only adds to its count. */
  private storedRecently(key: string, at: number): boolean {
    const cached = this.cache.get(key);
    return cached !== undefined && withinDedupeWindow(cached, at);
  }

  private remember(key: string, event: Event): void {
    this.cache.delete(key);
    this.cache.set(key, event);
    while (this.cache.size > CACHED_EVENTS) this.cache.delete(this.cache.keys().next().value!);
  }

  private armTimer(at: number): void {
    if (at >= this.timerAt) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.release(), Math.max(0, at - this.clock.now()));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Moves delayed writes whose token has come to `ready`; re-arms for the next one. */
  private release(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    let next = Infinity;
    for (const [key, w] of this.delayed) {
      if (w.notBefore <= now + RELEASE_SLACK_MS) {
        this.delayed.delete(key);
        this.ready.set(key, w);
      } else next = Math.min(next, w.notBefore);
    }
    if (next < Infinity) this.armTimer(next);
    if (this.ready.size > 0) this.schedulePump();
  }
}
