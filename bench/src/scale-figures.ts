// The figures of the scheduler and scale benchmarks, from per-pod timestamps (epoch ms, NaN where
// not observed). Pure, so the arithmetic has table tests.
import { summarize, type Summary } from "./stats.js";

export interface Throughput {
  /** Pods observed (finite timestamps). */
  count: number;
  first: number;
  last: number;
  /** count / (last - first), per second. */
  perSecond: number;
  /** Busiest one-second bucket, and the median bucket between 10% and 90% of the pods (steady state). */
  peakPerSecond: number;
  steadyPerSecond: number;
}

/** Throughput of events stamped in `at` (e.g. bindings). */
export function throughput(at: ArrayLike<number>): Throughput {
  const times = finiteSorted(at);
  const n = times.length;
  if (n === 0) return { count: 0, first: NaN, last: NaN, perSecond: NaN, peakPerSecond: NaN, steadyPerSecond: NaN };
  const first = times[0]!;
  const last = times[n - 1]!;
  const buckets = new Map<number, number>();
  for (const t of times) {
    const b = Math.floor((t - first) / 1000);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  const lo = Math.floor((times[Math.floor(n * 0.1)]! - first) / 1000);
  const hi = Math.floor((times[Math.min(n - 1, Math.floor(n * 0.9))]! - first) / 1000);
  const steady: number[] = [];
  for (let b = lo; b <= hi; b++) steady.push(buckets.get(b) ?? 0);
  steady.sort((a, b) => a - b);
  return {
    count: n,
    first,
    last,
    perSecond: last > first ? (n * 1000) / (last - first) : NaN,
    peakPerSecond: maxOf(buckets.values()),
    steadyPerSecond: steady.length > 0 ? steady[Math.floor(steady.length / 2)]! : NaN,
  };
}

/** Per pod `to[i] - from[i]` where both are known. */
export function latencies(from: ArrayLike<number>, to: ArrayLike<number>): Summary {
  const out: number[] = [];
  for (let i = 0; i < from.length; i++) {
    const d = to[i]! - from[i]!;
    if (Number.isFinite(d)) out.push(d);
  }
  return summarize(out);
}

/** The most pods that were created (sent) but not yet observed at `to` at any moment. */
export function maxBacklog(from: ArrayLike<number>, to: ArrayLike<number>): number {
  const a = finiteSorted(from);
  const b = finiteSorted(to);
  let i = 0;
  let j = 0;
  let backlog = 0;
  let max = 0;
  while (i < a.length) {
    // At equal times the arrival counts first: a pod can be bound in the same millisecond.
    if (j < b.length && b[j]! < a[i]!) {
      backlog--;
      j++;
    } else {
      backlog++;
      i++;
      max = Math.max(max, backlog);
    }
  }
  return max;
}

/** The smallest finite value (NaN if none); a loop, not Math.min(...values): 150,000 arguments overflow the stack. */
export function minFinite(values: ArrayLike<number>): number {
  let min = NaN;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!) && !(values[i]! >= min)) min = values[i]!;
  return min;
}

function maxOf(values: Iterable<number>): number {
  let max = NaN;
  for (const v of values) if (!(v <= max)) max = v;
  return max;
}

function finiteSorted(at: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < at.length; i++) if (Number.isFinite(at[i]!)) out.push(at[i]!);
  return Float64Array.from(out).sort();
}
