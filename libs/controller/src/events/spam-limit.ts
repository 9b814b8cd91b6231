// The per-source spam limit: a token bucket per (reporting source, involved object), as client-go's
// EventSourceObjectSpamFilter keys it. Kubernetes drops what is over the limit (25 at once, then
// one per 5 minutes); here an Event write over the limit waits for its token instead, and the
// occurrences that come meanwhile are folded into that one write (see recorder.ts), so a storm of
// events about one object costs at most a write per refill and loses no count. Because waiting
// delays what `describe` shows, the refill is faster than Kubernetes': one per 10 s.

export const SPAM_BURST = 25;
export const SPAM_REFILL_MS = 10_000;
/** Buckets remembered (least recently used first out; a forgotten bucket is full again). */
const MAX_BUCKETS = 4_096;

export interface SpamLimitOptions {
  burst?: number;
  /** One token comes back every refillMs. */
  refillMs?: number;
}

interface Bucket {
  /** May go below zero: tokens promised to writes that wait. */
  tokens: number;
  at: number;
}

export class SpamLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly refillMs: number;

  constructor(opts: SpamLimitOptions = {}) {
    this.burst = opts.burst ?? SPAM_BURST;
    this.refillMs = opts.refillMs ?? SPAM_REFILL_MS;
  }

  /** Takes a token for one write about `key` at `now`; returns when that write may start (`now` when a token was free). */
  reserve(key: string, now: number): number {
    let b = this.buckets.get(key);
    if (b) this.buckets.delete(key);
    else b = { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + Math.max(0, now - b.at) / this.refillMs);
    b.at = Math.max(b.at, now);
    b.tokens -= 1;
    this.buckets.set(key, b);
    while (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    return b.tokens >= 0 ? now : now + Math.ceil(-b.tokens * this.refillMs);
  }
}

/** The spam-limit key of an occurrence: reporting source and involved object. */
export function spamKey(component: string, instance: string, o: { kind: string; namespace: string; name: string; uid: string }): string {
  return [component, instance, o.kind, o.namespace, o.name, o.uid].join("\n");
}
