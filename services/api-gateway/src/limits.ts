// What one client may cost the gateway, in one place (documented in docs/api-limits.md): how
// many watches a client (one token) and the whole gateway may hold open, how many bytes a watch
// may have waiting for its client, and how many requests a client may make per second.
// A refusal is RESOURCE_EXHAUSTED with a `retry-after-ms` trailer, before any work is done, so
// retrying it is always safe. A watch over its byte budget is not refused but cut off (watch.ts).
import * as grpc from "@grpc/grpc-js";
import { option } from "@navarch/config";

/** A count or rate limit: an integer >= 0, where 0 means "no limit". */
function asLimit(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) throw new Error(`expected an integer >= 0 (0: no limit), got "${raw}"`);
  return n;
}

export const LIMIT_OPTIONS = {
  watchesPerClient: option("NAVARCH_API_WATCHES_PER_CLIENT", 100, asLimit, "watches one client (token) may have open at once (0: no limit)"),
  watchesTotal: option("NAVARCH_API_WATCHES_TOTAL", 2_000, asLimit, "watches the gateway serves at once, all clients together (0: no limit)"),
  watchBufferBytes: option("NAVARCH_API_WATCH_BUFFER_BYTES", 4 * 1024 * 1024, asLimit, "encoded bytes of events one watch may have waiting for its client before it is cut off (0: no limit)"),
  watchBufferTotalBytes: option("NAVARCH_API_WATCH_BUFFER_TOTAL_BYTES", 256 * 1024 * 1024, asLimit, "encoded bytes all watches together may have waiting; past it the watch furthest behind is cut off (0: no limit)"),
  requestsPerSecond: option("NAVARCH_API_REQUESTS_PER_SECOND", 1_000, asLimit, "requests (calls and watch starts) one client may make per second on average (0: no limit)"),
  requestBurst: option("NAVARCH_API_REQUEST_BURST", 2_000, asLimit, "requests one client may make at once above its per-second rate"),
};

export type LimitOptions = { [K in keyof typeof LIMIT_OPTIONS]: number };

/** How long a client refused a watch slot is told to wait: slots free up as watches end. */
export const WATCH_RETRY_AFTER_MS = 1_000;

/** The options with defaults filled in; a negative or fractional value is refused at start. */
export function resolveLimits(given: Partial<LimitOptions> = {}): LimitOptions {
  const out = {} as LimitOptions;
  for (const [key, spec] of Object.entries(LIMIT_OPTIONS) as [keyof LimitOptions, (typeof LIMIT_OPTIONS)[keyof LimitOptions]][]) {
    const v = given[key] ?? spec.default;
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${spec.env}: expected an integer >= 0, got ${v}`);
    out[key] = v;
  }
  if (out.requestsPerSecond > 0 && out.requestBurst < 1) {
    throw new Error(`${LIMIT_OPTIONS.requestBurst.env}: must be at least 1 when ${LIMIT_OPTIONS.requestsPerSecond.env} is set`);
  }
  return out;
}

/** A request refused by a limit; nothing was done. */
export class LimitExceededError extends Error {
  override name = "LimitExceededError";
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** RESOURCE_EXHAUSTED with the retry hint as trailer metadata, for a LimitExceededError. */
export function limitStatus(err: unknown): Partial<grpc.StatusObject> | undefined {
  if (!(err instanceof LimitExceededError)) return undefined;
  const metadata = new grpc.Metadata();
  metadata.set("retry-after-ms", String(err.retryAfterMs));
  return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message, metadata };
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Bounds the map of request buckets: past this many clients, full (idle) buckets are dropped. */
const MAX_IDLE_BUCKETS = 10_000;

/** The per-client counters. `client` is a stable key of the caller's token; `who` names it in messages. */
export class ClientLimits {
  private readonly buckets = new Map<string, Bucket>();
  private readonly watchesOf = new Map<string, number>();
  private watches = 0;

  constructor(
    readonly limits: LimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one request from the client's token bucket, or throws LimitExceededError. */
  admit(client: string, who: string): void {
    const { requestsPerSecond: rate, requestBurst: burst } = this.limits;
    if (rate === 0) return;
    const now = this.now();
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= MAX_IDLE_BUCKETS) this.dropFullBuckets(now);
      b = { tokens: burst, at: now };
      this.buckets.set(client, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * rate) / 1000);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return;
    }
    const retryAfterMs = Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / rate));
    throw new LimitExceededError(
      `too many requests from ${who}: more than ${rate} per second (burst ${burst}); retry after ${retryAfterMs} ms`,
      retryAfterMs,
    );
  }

  /** Takes a watch slot for the client; the returned function gives it back (once). */
  acquireWatch(client: string, who: string): () => void {
    const { watchesPerClient, watchesTotal } = this.limits;
    const mine = this.watchesOf.get(client) ?? 0;
    if (watchesPerClient > 0 && mine >= watchesPerClient) {
      throw new LimitExceededError(`too many watches for ${who}: ${mine} open, at most ${watchesPerClient} per client; close one or retry later`, WATCH_RETRY_AFTER_MS);
    }
    if (watchesTotal > 0 && this.watches >= watchesTotal) {
      throw new LimitExceededError(`the API server has its maximum of ${watchesTotal} watches open; retry later`, WATCH_RETRY_AFTER_MS);
    }
    this.watchesOf.set(client, mine + 1);
    this.watches++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.watches--;
      const left = (this.watchesOf.get(client) ?? 1) - 1;
      if (left > 0) this.watchesOf.set(client, left);
      else this.watchesOf.delete(client);
    };
  }

  /** Watches open now (all clients). */
  get openWatches(): number {
    return this.watches;
  }

  private dropFullBuckets(now: number): void {
    const { requestsPerSecond: rate, requestBurst: burst } = this.limits;
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * rate) / 1000 >= burst) this.buckets.delete(k);
    }
  }
}
