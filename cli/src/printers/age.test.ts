import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { age, humanDuration } from "./age.js";

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe("humanDuration (kubectl's HumanDuration)", () => {
  const table: [number, string][] = [
    [-5 * s, "<invalid>"],
    [-1 * s, "0s"],
    [0, "0s"],
    [999, "0s"],
    [59 * s, "59s"],
    [90 * s, "90s"], // under 2 minutes: seconds
    [119 * s, "119s"],
    [2 * m, "2m"],
    [3 * m + 20 * s, "3m20s"],
    [9 * m + 59 * s, "9m59s"],
    [10 * m + 30 * s, "10m"],
    [179 * m, "179m"],
    [3 * h, "3h"],
    [5 * h + 10 * m, "5h10m"],
    [7 * h + 59 * m, "7h59m"],
    [8 * h + 30 * m, "8h"],
    [47 * h, "47h"],
    [2 * d, "2d"],
    [2 * d + 3 * h, "2d3h"],
    [7 * d + 23 * h, "7d23h"],
    [8 * d + 5 * h, "8d"],
    [729 * d, "729d"],
    [730 * d, "2y"],
    [730 * d + 10 * d, "2y10d"],
    [8 * 365 * d, "8y"],
    [20 * 365 * d, "20y"],
  ];
  for (const [ms, want] of table) {
    it(`${ms}ms -> ${want}`, () => assert.equal(humanDuration(ms), want));
  }
});

describe("age", () => {
  it("measures from an RFC 3339 timestamp", () => {
    const now = Date.parse("2024-05-01T12:00:00Z");
    assert.equal(age("2024-05-01T11:59:55Z", now), "5s");
    assert.equal(age("2024-05-01T11:57:00Z", now), "3m");
    assert.equal(age("2024-04-27T12:00:00Z", now), "4d");
  });
  it("is <unknown> without a timestamp", () => {
    assert.equal(age(undefined), "<unknown>");
    assert.equal(age("not a time"), "<unknown>");
  });
});
