import assert from "node:assert/strict";
import { test } from "node:test";
import { latencies, maxBacklog, minFinite, throughput } from "./scale-figures.js";

test("throughput: overall rate, busiest second and the steady-state median second", () => {
  // 10 events in the first second, 20 in the second, 10 in the third, then one straggler at 9.5 s.
  const at: number[] = [];
  for (let i = 0; i < 10; i++) at.push(1000 + i * 100);
  for (let i = 0; i < 20; i++) at.push(2000 + i * 50);
  for (let i = 0; i < 10; i++) at.push(3000 + i * 100);
  at.push(10_500, NaN);
  const t = throughput(at);
  assert.equal(t.count, 41);
  assert.equal(t.first, 1000);
  assert.equal(t.last, 10_500);
  assert.equal(t.perSecond, (41 * 1000) / 9500);
  assert.equal(t.peakPerSecond, 20);
  // 10%..90% of the events fall in seconds 0..2: buckets 10, 20, 10 -> median 10.
  assert.equal(t.steadyPerSecond, 10);
});

test("throughput of nothing is NaN, not a crash", () => {
  const t = throughput([NaN, NaN]);
  assert.equal(t.count, 0);
  assert.ok(Number.isNaN(t.perSecond));
});

test("latencies: per pod differences where both ends are known", () => {
  const s = latencies([0, 10, 20, NaN], [5, 40, NaN, 7]);
  assert.equal(s.count, 2);
  assert.equal(s.max, 30);
  assert.equal(s.p50, 5);
});

test("maxBacklog: the most pods sent and not yet observed at one moment", () => {
  // Sent at 0, 1, 2, 3; bound at 2.5, 2.6, 10, 11: at 2 (before 2.5) three are waiting; at 3, two.
  assert.equal(maxBacklog([0, 1, 2, 3], [2.5, 2.6, 10, 11]), 3);
  // Bound as soon as sent: never more than one waits.
  assert.equal(maxBacklog([0, 1, 2], [0, 1, 2]), 1);
  assert.equal(maxBacklog([0, 1, 2], [NaN, NaN, NaN]), 3);
});

test("minFinite: the smallest finite value of a large array (no argument spread)", () => {
  const big = new Float64Array(300_000).fill(NaN);
  big[123_456] = 42;
  big[200_000] = 7;
  assert.equal(minFinite(big), 7);
  assert.ok(Number.isNaN(minFinite([NaN])));
  // The busiest second of a long run is found without spreading its buckets either.
  const at = Float64Array.from({ length: 200_000 }, (_, i) => i * 10);
  assert.equal(throughput(at).peakPerSecond, 100);
});

test("sumStats adds the hollow-nodes processes' status lines field by field", async () => {
  const { sumStats } = await import("./scale-harness.js");
  assert.equal(
    sumStats(["nodes=10/10 failed=0 pods=5 rss=100MiB", "nodes=9/10 failed=1 pods=7 rss=50MiB"]),
    "nodes=19/20 failed=1 pods=12 rss=150MiB",
  );
});
