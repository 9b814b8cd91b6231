// The scheduling queue: which pods to try next, and when to try a failed one again. It holds keys
// (the pod itself is read fresh from the informer when its turn comes) and no timers: the cycle
// machine asks for the next deadline and waits for it (cycle-machine.ts), on whatever clock it
// runs on.
//
//   active    ready now, highest spec.priority first, then first come first served
//   backoff   failed; tried again at lastFailure + 1 s x 2^(attempts-1), at most 10 s (as
//             kube-scheduler's podInitialBackoff / podMaxBackoff) - or sooner when the cluster
//             changes in a way that may help (moveAllToActive): a pod that failed at least 1 s
//             ago goes to active at once, a pod that failed less than 1 s ago 1 s after its failure
//   inFlight  handed out, being scheduled or bound; an add meanwhile marks it to come back once
//             done(), so the newest state is looked at
//
// A key is in at most one of these. forget() resets a pod's attempts once it is bound or gone.

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

interface Active {
  key: string;
  priority: number;
  seq: number;
}

interface Backoff {
  failedAt: number;
  version: number;
  priority: number;
  /** A cluster change already moved its deadline to failedAt + initialBackoffMs. */
  early: boolean;
}

interface Waiting {
  key: string;
  /** Bumped whenever the key leaves backoff, so old heap entries for it are ignored. */
  version: number;
  at: number;
}

export class SchedulingQueue {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  private readonly active: Active[] = [];
  private readonly activeKeys = new Map<string, number>();
  private seq = 0;
  /** key -> its last failure; insertion order is failure order (re-inserted per failure). */
  private readonly backoff = new Map<string, Backoff>();
  private readonly deadlines: Waiting[] = [];
  private readonly inFlight = new Map<string, { dirty: boolean; priority: number }>();
  private readonly attempts = new Map<string, number>();
  private version = 0;

  constructor(opts: QueueOptions = {}) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
  }

  get activeCount(): number {
    return this.activeKeys.size;
  }

  get backoffCount(): number {
    return this.backoff.size;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  has(key: string): boolean {
    return this.activeKeys.has(key) || this.backoff.has(key) || this.inFlight.has(key);
  }

  isBackingOff(key: string): boolean {
    return this.backoff.has(key);
  }

  /** A pod to look at. One already waiting keeps its place (a backing-off one its deadline). */
  add(key: string, priority = 0): void {
    const flight = this.inFlight.get(key);
    if (flight) {
      flight.dirty = true;
      flight.priority = priority;
      return;
    }
    if (this.activeKeys.has(key) || this.backoff.has(key)) return;
    this.pushActive(key, priority);
  }

  /** Like add, but a backing-off pod is tried at once (its spec changed, so it may fit now). */
  addNow(key: string, priority = 0): void {
    this.backoff.delete(key);
    this.add(key, priority);
  }

  /** Takes the next pod to schedule, after moving every backoff that is due at `now` to active. */
  pop(now: number): string | undefined {
    this.flushDue(now);
    const next = this.popActive();
    if (next === undefined) return undefined;
    this.inFlight.set(next.key, { dirty: false, priority: next.priority });
    return next.key;
  }

  /** Whether pop(now) would return a pod. */
  hasReady(now: number): boolean {
    this.flushDue(now);
    return this.activeKeys.size > 0;
  }

  /** The earliest time a backing-off pod becomes due, or undefined. */
  nextDeadline(): number | undefined {
    this.dropStale();
    return this.deadlines[0]?.at;
  }

  /** The pod in flight failed to schedule: try again after its backoff. Returns the delay. */
  fail(key: string, now: number): number {
    const n = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, n);
    const priority = this.inFlight.get(key)?.priority ?? 0;
    this.inFlight.delete(key);
    this.activeKeys.delete(key);
    this.backoff.delete(key);
    const delay = this.backoffFor(n);
    const version = ++this.version;
    this.backoff.set(key, { failedAt: now, version, priority, early: false });
    this.pushDeadline({ key, version, at: now + delay });
    return delay;
  }

  /** The delay after `attempts` failures: 1 s, 2 s, 4 s ... at most the maximum. */
  backoffFor(attempts: number): number {
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, attempts - 1));
  }

  /** The pod in flight is finished with (bound, or to be dropped); it comes back if added meanwhile. */
  done(key: string): void {
    const flight = this.inFlight.get(key);
    if (!flight) return;
    this.inFlight.delete(key);
    if (flight.dirty) this.pushActive(key, flight.priority);
  }

  /** Back to active at once without counting a failure (e.g. its binding lost a race). */
  retry(key: string): void {
    const flight = this.inFlight.get(key);
    this.inFlight.delete(key);
    this.add(key, flight?.priority ?? 0);
  }

  /** The pod was bound or deleted: out of the queue, attempts forgotten. */
  remove(key: string): void {
    this.attempts.delete(key);
    this.backoff.delete(key); // its deadlines are skipped as stale
    this.activeKeys.delete(key); // its heap entry is skipped when popped
    const flight = this.inFlight.get(key);
    if (flight) flight.dirty = false;
  }

  forget(key: string): void {
    this.attempts.delete(key);
  }

  attemptsOf(key: string): number {
    return this.attempts.get(key) ?? 0;
  }

  /**
   * The cluster changed in a way that may let waiting pods fit: those that failed at least
   * initialBackoffMs ago go to active now; newer failures become due initialBackoffMs after their
   * failure. Costs what it moves, not what waits.
   */
  moveAllToActive(now: number): number {
    let moved = 0;
    // Failure order: the old enough come first and leave, so this walks what it moves plus the
    // failures of the last initialBackoffMs.
    for (const [key, b] of this.backoff) {
      if (now - b.failedAt >= this.initialBackoffMs) {
        this.backoff.delete(key);
        this.pushActive(key, b.priority);
        moved++;
      } else if (!b.early) {
        b.early = true;
        this.pushDeadline({ key, version: b.version, at: b.failedAt + this.initialBackoffMs });
      }
    }
    return moved;
  }

  private flushDue(now: number): void {
    for (;;) {
      this.dropStale();
      const top = this.deadlines[0];
      if (!top || top.at > now) return;
      heapPop(this.deadlines, byTime);
      const b = this.backoff.get(top.key)!;
      this.backoff.delete(top.key);
      this.pushActive(top.key, b.priority);
    }
  }

  /** Heap entries of keys that left backoff (or failed again since) are skipped. */
  private dropStale(): void {
    for (;;) {
      const top = this.deadlines[0];
      if (!top) return;
      const b = this.backoff.get(top.key);
      if (b && b.version === top.version) return;
      heapPop(this.deadlines, byTime);
    }
  }

  private pushDeadline(w: Waiting): void {
    heapPush(this.deadlines, w, byTime);
  }

  private pushActive(key: string, priority: number): void {
    const seq = ++this.seq;
    this.activeKeys.set(key, seq);
    heapPush(this.active, { key, priority, seq }, byPriority);
  }

  private popActive(): Active | undefined {
    for (;;) {
      const top = heapPop(this.active, byPriority);
      if (!top) return undefined;
      // Skip entries of keys removed (or re-added with a newer entry) since.
      if (this.activeKeys.get(top.key) !== top.seq) continue;
      this.activeKeys.delete(top.key);
      return top;
    }
  }
}

const byTime = (a: Waiting, b: Waiting) => a.at < b.at;
const byPriority = (a: Active, b: Active) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

function heapPush<T>(h: T[], item: T, before: (a: T, b: T) => boolean): void {
  h.push(item);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(h[i]!, h[parent]!)) break;
    [h[i], h[parent]] = [h[parent]!, h[i]!];
    i = parent;
  }
}

function heapPop<T>(h: T[], before: (a: T, b: T) => boolean): T | undefined {
  if (h.length === 0) return undefined;
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  return top;
}
