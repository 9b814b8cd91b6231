// Load generators. Both are bounded by time and by count, and both watch the client itself
// (event-loop delay and CPU), so a saturated load generator shows up in the output instead of
// passing for a slow server.
//
// - openLoop: requests start on a fixed schedule (i / rate), whether or not earlier ones have
//   finished; latency is measured from the *scheduled* start, so queueing anywhere (server or
//   client) counts. This is the honest way to state a p99 at a given rate (no coordinated
//   omission).
// - closedLoop: `concurrency` workers each issue the next request when the previous one returns;
//   it measures the throughput the system sustains at that concurrency.
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Samples, type Summary } from "./stats.js";

/** One operation; `i` is its sequence number within the phase. */
export type Op = (i: number) => Promise<unknown>;

export interface ClientLoad {
  /** Event-loop delay of the bench process during the phase, ms. */
  loopDelayP50: number;
  loopDelayP99: number;
  loopDelayMax: number;
  /** CPU the bench process used, as a share of one core (1 = 100%). */
  cpu: number;
}

export interface PhaseResult {
  /** Successful operations. */
  ok: number;
  errors: number;
  /** A few distinct error messages, for the report. */
  errorMessages: string[];
  /** Wall time from the first scheduled start to the last completion, ms. */
  elapsedMs: number;
  /** Successful operations per second over elapsedMs. */
  opsPerSec: number;
  latency: Summary;
  client: ClientLoad;
  /** Open loop: how late the generator started requests, ms (p99 and max). */
  startLagP99?: number;
  startLagMax?: number;
}

/** Watches the bench process while a phase runs. */
class ClientMonitor {
  private readonly h = monitorEventLoopDelay({ resolution: 2 });
  private readonly cpu0 = process.cpuUsage();
  private readonly t0 = performance.now();

  constructor() {
    this.h.enable();
  }

  stop(): ClientLoad {
    this.h.disable();
    const cpu = process.cpuUsage(this.cpu0);
    const wallUs = (performance.now() - this.t0) * 1000;
    const ms = (ns: number) => ns / 1e6;
    return {
      loopDelayP50: ms(this.h.percentile(50)),
      loopDelayP99: ms(this.h.percentile(99)),
      loopDelayMax: ms(this.h.max),
      cpu: wallUs > 0 ? (cpu.user + cpu.system) / wallUs : 0,
    };
  }
}

class Outcomes {
  readonly samples = new Samples();
  errors = 0;
  readonly messages = new Set<string>();

  fail(err: unknown): void {
    this.errors++;
    if (this.messages.size < 5) this.messages.add(err instanceof Error ? err.message : String(err));
  }
}

export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Hard cap on requests (defaults to rate * duration). */
  maxCount?: number;
  /** How long to wait for stragglers after the last scheduled start; the rest count as errors. */
  drainTimeoutMs?: number;
}

export async function openLoop(op: Op, opts: OpenLoopOptions): Promise<PhaseResult> {
  const total = Math.min(opts.maxCount ?? Infinity, Math.max(1, Math.round((opts.rate * opts.durationMs) / 1000)));
  const interval = 1000 / opts.rate;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
  const out = new Outcomes();
  const lag = new Samples();
  const monitor = new ClientMonitor();
  const t0 = performance.now();
  let issued = 0;
  let settled = 0;
  let lastDone = t0;
  let allSettled!: () => void;
  const finished = new Promise<void>((r) => (allSettled = r));

  const start = (i: number, scheduled: number) => {
    let p: Promise<unknown>;
    try {
      p = op(i);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      () => out.samples.add(performance.now() - scheduled),
      (err: unknown) => out.fail(err),
    ).finally(() => {
      lastDone = performance.now();
      if (++settled === total) allSettled();
    });
  };

  // The scheduler: on every timer tick, start every request whose time has come. A tick that
  // runs late starts the overdue requests at once; their latency still counts from the schedule.
  await new Promise<void>((issuedAll) => {
    const tick = () => {
      const now = performance.now();
      while (issued < total && t0 + issued * interval <= now) {
        const scheduled = t0 + issued * interval;
        lag.add(now - scheduled);
        start(issued++, scheduled);
      }
      if (issued < total) setTimeout(tick, Math.max(0, t0 + issued * interval - performance.now()));
      else issuedAll();
    };
    tick();
  });

  const drained = await Promise.race([finished.then(() => true), delay(drainTimeoutMs).then(() => false)]);
  const client = monitor.stop();
  if (!drained) {
    const missing = total - settled;
    out.errors += missing;
    out.messages.add(`${missing} request(s) still pending ${drainTimeoutMs} ms after the last was started`);
  }
  const elapsedMs = lastDone - t0;
  const l = lag.summary();
  return {
    ...result(out, elapsedMs, client),
    startLagP99: l.p99,
    startLagMax: l.max,
  };
}

export interface ClosedLoopOptions {
  concurrency: number;
  durationMs: number;
  /** Hard cap on requests. */
  maxCount?: number;
}

export async function closedLoop(op: Op, opts: ClosedLoopOptions): Promise<PhaseResult> {
  const maxCount = opts.maxCount ?? Infinity;
  const out = new Outcomes();
  const monitor = new ClientMonitor();
  const t0 = performance.now();
  const end = t0 + opts.durationMs;
  let issued = 0;
  const worker = async () => {
    while (issued < maxCount && performance.now() < end) {
      const i = issued++;
      const s = performance.now();
      try {
        await op(i);
        out.samples.add(performance.now() - s);
      } catch (err) {
        out.fail(err);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  return result(out, elapsedMs, monitor.stop());
}

function result(out: Outcomes, elapsedMs: number, client: ClientLoad): PhaseResult {
  const latency = out.samples.summary();
  return {
    ok: latency.count,
    errors: out.errors,
    errorMessages: [...out.messages],
    elapsedMs,
    opsPerSec: elapsedMs > 0 ? (latency.count * 1000) / elapsedMs : 0,
    latency,
    client,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
