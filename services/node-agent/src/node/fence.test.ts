import assert from "node:assert/strict";
import { test } from "node:test";
import { fenceStep } from "./fence.js";

test("fence when the lease has not been renewed for fenceMs; unfence once it is again", () => {
  const cases: [boolean, number, number, number, string][] = [
    [false, 1_000, 4_000, 5_000, "none"],
    [false, 1_000, 6_001, 5_000, "fence"],
    [true, 1_000, 9_000, 5_000, "none"],
    [true, 8_500, 9_000, 5_000, "unfence"],
    [false, 0, 1e12, 0, "none"],
  ];
  for (const [fenced, last, now, fenceMs, want] of cases) assert.equal(fenceStep(fenced, last, now, fenceMs), want, JSON.stringify({ fenced, last, now, fenceMs }));
});
