import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backoffDelay, nextAction, normalizePolicy, wantsRestart, type RestartPolicy } from "./restart-policy.js";

const opts = { baseMs: 10_000, maxMs: 300_000, resetMs: 600_000 };

describe("restart policy", () => {
  test("which exits restart", () => {
    const cases: [RestartPolicy, number, boolean, boolean][] = [
      ["Always", 0, false, true],
      ["Always", 1, false, true],
      ["OnFailure", 0, false, false],
      ["OnFailure", 1, false, true],
      ["OnFailure", 0, true, true],
      ["OnFailure", 137, true, true],
      ["Never", 1, false, false],
      ["Never", 0, false, false],
    ];
    for (const [policy, exitCode, oomKilled, want] of cases) {
      assert.equal(wantsRestart(policy, { exitCode, oomKilled }), want, `${policy} exit ${exitCode} oom ${oomKilled}`);
    }
  });

  test("unknown or empty policies mean Always (the API default)", () => {
    assert.equal(normalizePolicy(""), "Always");
    assert.equal(normalizePolicy(undefined), "Always");
    assert.equal(normalizePolicy("OnFailure"), "OnFailure");
  });

  test("backoff sequence: 0, 10 s, 20 s, 40 s ... capped at 300 s", () => {
    const seq = Array.from({ length: 9 }, (_, i) => backoffDelay(i, opts) / 1000);
    assert.deepEqual(seq, [0, 10, 20, 40, 80, 160, 300, 300, 300]);
    assert.equal(backoffDelay(2000, opts), 300_000, "no overflow");
  });

  test("nextAction walks the sequence, counted from when the container finished", () => {
    let history = { crashes: 0 };
    const delays: number[] = [];
    let now = 1_000_000;
    for (let i = 0; i < 5; i++) {
      const d = nextAction("Always", { exitCode: 1, oomKilled: false, startedAt: now - 100, finishedAt: now }, history, now, opts);
      assert.equal(d.type, "restart");
      if (d.type !== "restart") return;
      delays.push(d.delayMs);
      assert.equal(d.at, now + d.delayMs);
      history = d.history;
      now = d.at + 100;
    }
    assert.deepEqual(delays, [0, 10_000, 20_000, 40_000, 80_000]);
  });

  test("the wait counts from finishedAt: an exit seen late waits less", () => {
    const d = nextAction("Always", { exitCode: 1, oomKilled: false, startedAt: 0, finishedAt: 50_000 }, { crashes: 1 }, 53_000, opts);
    assert.deepEqual(d, { type: "restart", at: 60_000, delayMs: 7_000, history: { crashes: 2 } });
  });

  test("a run of resetMs or more forgets the crash history", () => {
    const long = nextAction("Always", { exitCode: 1, oomKilled: false, startedAt: 1, finishedAt: 600_001 }, { crashes: 5 }, 600_001, opts);
    assert.deepEqual(long, { type: "restart", at: 600_001, delayMs: 0, history: { crashes: 1 } });
    const short = nextAction("Always", { exitCode: 1, oomKilled: false, startedAt: 2, finishedAt: 600_001 }, { crashes: 5 }, 600_001, opts);
    assert.equal(short.type === "restart" && short.delayMs, 160_000);
  });

  test("Never and OnFailure-success are done", () => {
    assert.deepEqual(nextAction("Never", { exitCode: 1, oomKilled: false, startedAt: 0, finishedAt: 1 }, { crashes: 0 }, 1, opts), { type: "done" });
    assert.deepEqual(nextAction("OnFailure", { exitCode: 0, oomKilled: false, startedAt: 0, finishedAt: 1 }, { crashes: 3 }, 1, opts), { type: "done" });
  });
});
