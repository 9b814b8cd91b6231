// The per-client limits as pure logic: option parsing, the token bucket and its retry hint,
// watch slots per client and in total.
import { readOptions } from "@navarch/config";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClientLimits, LIMIT_OPTIONS, LimitExceededError, resolveLimits, WATCH_RETRY_AFTER_MS } from "./limits.js";

describe("limit options", () => {
  it("have documented defaults and take integers >= 0 from the environment", () => {
    assert.deepEqual(readOptions(LIMIT_OPTIONS, {}), resolveLimits());
    assert.equal(readOptions(LIMIT_OPTIONS, { NAVARCH_API_WATCHES_PER_CLIENT: "0" }).watchesPerClient, 0);
    for (const bad of ["-1", "1e3", "0x10", " 8x", "2.5"]) {
      assert.throws(() => readOptions(LIMIT_OPTIONS, { NAVARCH_API_REQUESTS_PER_SECOND: bad }), /^Error: NAVARCH_API_REQUESTS_PER_SECOND: expected an integer >= 0/);
    }
  });

  it("refuse a negative value and a zero burst with a rate, naming the variable", () => {
    assert.throws(() => resolveLimits({ watchBufferBytes: -1 }), /NAVARCH_API_WATCH_BUFFER_BYTES: expected an integer >= 0/);
    assert.throws(() => resolveLimits({ requestsPerSecond: 10, requestBurst: 0 }), /NAVARCH_API_REQUEST_BURST: must be at least 1/);
  });
});

describe("ClientLimits", () => {
  it("lets a client make its burst at once, then its rate, with a retry hint that is enough", () => {
    let now = 0;
    const limits = new ClientLimits(resolveLimits({ requestsPerSecond: 10, requestBurst: 3 }), () => now);
    for (let i = 0; i < 3; i++) limits.admit("a", "user a");
    let refused: LimitExceededError | undefined;
    try {
      limits.admit("a", "user a");
    } catch (err) {
      refused = err as LimitExceededError;
    }
    assert.ok(refused instanceof LimitExceededError);
    assert.equal(refused.retryAfterMs, 100);
    assert.match(refused.message, /too many requests from user a: more than 10 per second \(burst 3\); retry after 100 ms/);
    limits.admit("b", "user b"); // another client has its own budget
    now += refused.retryAfterMs;
    limits.admit("a", "user a");
    assert.throws(() => limits.admit("a", "user a"), LimitExceededError);
  });

  it("does not limit at 0", () => {
    const limits = new ClientLimits(resolveLimits({ requestsPerSecond: 0, watchesPerClient: 0, watchesTotal: 0 }), () => 0);
    for (let i = 0; i < 10_000; i++) limits.admit("a", "user a");
    for (let i = 0; i < 10_000; i++) limits.acquireWatch("a", "user a");
    assert.equal(limits.openWatches, 10_000);
  });

  it("counts watches per client and in total; a slot is given back once", () => {
    const limits = new ClientLimits(resolveLimits({ watchesPerClient: 2, watchesTotal: 3 }));
    const a1 = limits.acquireWatch("a", "user a");
    limits.acquireWatch("a", "user a");
    assert.throws(() => limits.acquireWatch("a", "user a"), (e: LimitExceededError) => e.retryAfterMs === WATCH_RETRY_AFTER_MS && /2 open, at most 2 per client/.test(e.message));
    limits.acquireWatch("b", "user b");
    assert.throws(() => limits.acquireWatch("c", "user c"), /maximum of 3 watches/);
    a1();
    a1();
    assert.equal(limits.openWatches, 2);
    limits.acquireWatch("c", "user c");
    assert.throws(() => limits.acquireWatch("a", "user a"), /maximum of 3 watches/);
  });
});
