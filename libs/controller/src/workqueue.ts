// A queue of keys, like client-go's workqueue. A message only says "look at key X", so keys are
// what we queue:
//   - a key waiting in the queue is not queued twice (`add` dedupes);
//   - a key being processed is never handed out again until `done(key)`; if it was added while
//     processing, `done` puts it back once, so the newest state is looked at again;
//   - `addAfter` delays an add (one timer for the earliest deadline; a key waiting twice keeps
//     its earlier time);
//   - `addRateLimited` delays by the larger of a per-key exponential backoff (base 5 ms doubling
//     to a 60 s cap) and a global token bucket (50/s, burst 300), so one failing key backs off
//     and many failing keys together cannot flood the store; `forget` resets a key's backoff.
import { realClock, type Clock } from "./clock.js";

export interface WorkQueueOptions {
  /** First per-key retry delay; doubles with every failure. */
  baseDelayMs?: number;
  /** Largest per-key retry delay. */
  maxDelayMs?: number;
  /** Sustained rate of rate-limited adds across all keys. */
  qps?: number;
  /** Rate-limited adds allowed at once before `qps` applies. */
  burst?: number;
  clock?: Clock;
}

export const DEFAULT_QUEUE_OPTIONS = { baseDelayMs: 5, maxDelayMs: 60_000, qps: 50, burst: 300 } as const;

export interface AddRateLimitedOptions {
  /** Count this as a failure of the key and apply its exponential backoff (default true). */
  backoff?: boolean;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly qps: number;
  private readonly burst: number;

  /** Keys ready to be handed out, in order. */
  private queue: string[] = [];
  private head = 0;
  /** Keys that need processing (queued, or added again while being processed). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly takers: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private idleWaiters: (() => void)[] = [];

  /** Delayed adds: the authoritative time per key, and a min-heap ordered by time. */
  private readonly waitingUntil = new Map<string, number>();
  private readonly heap: { at: number; key: string }[] = [];
  private timer: unknown;
  private timerAt = Infinity;

  private readonly failures = new Map<string, number>();
  private tokens: number;
  private tokensAt: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.baseDelayMs = opts.baseDelayMs ?? DEFAULT_QUEUE_OPTIONS.baseDelayMs;
    this.maxDelayMs = opts.maxDelayMs ?? DEFAULT_QUEUE_OPTIONS.maxDelayMs;
    this.qps = opts.qps ?? DEFAULT_QUEUE_OPTIONS.qps;
    this.burst = opts.burst ?? DEFAULT_QUEUE_OPTIONS.burst;
    this.tokens = this.burst;
    this.tokensAt = this.clock.now();
  }

  /** Keys ready to be handed out (not counting delayed or in-flight ones). */
  get len(): number {
    return this.queue.length - this.head;
  }

  /** Keys being processed right now. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Keys waiting for a delayed add. */
  get delayed(): number {
    return this.waitingUntil.size;
  }

  get isShutDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() re-queues it
    const taker = this.takers.shift();
    if (taker) {
      this.dirty.delete(key);
      this.processing.add(key);
      taker(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Adds `key` after `ms`; a key already waiting keeps the earlier of the two times. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const current = this.waitingUntil.get(key);
    if (current !== undefined && current <= at) return;
    this.waitingUntil.set(key, at);
    this.heapPush({ at, key });
    this.arm();
  }

  /**
   * Adds `key` after the larger of its backoff (when `backoff` is not false) and the global
   * bucket's delay. Returns the delay chosen.
   */
  addRateLimited(key: string, opts: AddRateLimitedOptions = {}): number {
    if (this.shuttingDown) return 0;
    let delay = this.takeToken();
    if (opts.backoff !== false) {
      const n = this.failures.get(key) ?? 0;
      this.failures.set(key, n + 1);
      delay = Math.max(delay, Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs));
    }
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the key's backoff (call after a successful sync, or when the object is gone). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times the key was rate-limited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process; undefined once the queue is shut down. The caller must call done(key). */
  next(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.tryNext();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  /** The next key if one is ready now (undefined if none, or once shut down). The caller must call done(key). */
  tryNext(): string | undefined {
    if (this.shuttingDown || this.len === 0) return undefined;
    const key = this.queue[this.head]!;
    this.queue[this.head++] = "";
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  /** Marks the key processed; if it was added meanwhile it is queued again. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.processing.size === 0) this.wakeIdleWaiters();
  }

  /** Stops handing out keys: pending and future next() calls return undefined; delayed adds are dropped. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.waitingUntil.clear();
    this.heap.length = 0;
    this.queue = [];
    this.head = 0;
    this.dirty.clear();
    for (const t of this.takers.splice(0)) t(undefined);
  }

  /** Resolves when no key is being processed (after shutDown: when the last in-flight key is done). */
  drained(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Reserves one token of the global bucket; returns how long the caller must wait for it. */
  private takeToken(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) * this.qps) / 1000);
    this.tokensAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
  }

  private arm(): void {
    const top = this.heap[0];
    if (!top || top.at >= this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = top.at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, top.at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const { at, key } = this.heapPop()!;
      // A stale heap entry (the key was re-scheduled earlier and already fired) is skipped.
      if (this.waitingUntil.get(key) !== at) continue;
      this.waitingUntil.delete(key);
      this.add(key);
    }
    this.arm();
  }

  private heapPush(item: { at: number; key: string }): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= h[i]!.at) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private heapPop(): { at: number; key: string } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
