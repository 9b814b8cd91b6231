// The spam limit's token bucket on simulated time.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SpamLimit, spamKey } from "./spam-limit.js";

test("a burst of 25 writes starts at once; later ones wait one refill each", () => {
  const limit = new SpamLimit({ burst: 25, refillMs: 10_000 });
  for (let i = 0; i < 25; i++) assert.equal(limit.reserve("a", 1_000), 1_000, `write ${i + 1}`);
  assert.equal(limit.reserve("a", 1_000), 11_000);
  assert.equal(limit.reserve("a", 1_000), 21_000);
  // Another source or object has its own bucket.
  assert.equal(limit.reserve("b", 1_000), 1_000);
});

test("tokens come back with time, up to the burst", () => {
  const limit = new SpamLimit({ burst: 2, refillMs: 10_000 });
  assert.equal(limit.reserve("a", 0), 0);
  assert.equal(limit.reserve("a", 0), 0);
  assert.equal(limit.reserve("a", 0), 10_000);
  // At 10 s the promised token is used; the next one comes at 20 s.
  assert.equal(limit.reserve("a", 10_000), 20_000);
  // Long quiet: the bucket is full again, not fuller.
  assert.equal(limit.reserve("a", 1_000_000), 1_000_000);
  assert.equal(limit.reserve("a", 1_000_000), 1_000_000);
  assert.equal(limit.reserve("a", 1_000_000), 1_010_000);
});

test("the key is the reporting source and the involved object", () => {
  const o = { kind: "Pod", namespace: "default", name: "web", uid: "u1" };
  assert.equal(spamKey("node-agent", "n1", o), spamKey("node-agent", "n1", { ...o }));
  assert.notEqual(spamKey("node-agent", "n1", o), spamKey("node-agent", "n2", o));
  assert.notEqual(spamKey("node-agent", "n1", o), spamKey("node-agent", "n1", { ...o, uid: "u2" }));
});
