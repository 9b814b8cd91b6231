import { KINDS } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEDUPE_WINDOW_MS, eventName, withinWindow } from "./recorder.js";

test("event names: the same (uid, reason, message) -> the same Event", () => {
  const a = eventName("web", "u1", "BackOff", "Back-off restarting failed container app in pod web_default(u1)");
  assert.match(a, /^web\.[0-9a-f]{16}$/);
  assert.equal(a, eventName("web", "u1", "BackOff", "Back-off restarting failed container app in pod web_default(u1)"));
  const others = [
    eventName("web", "u2", "BackOff", "Back-off restarting failed container app in pod web_default(u1)"),
    eventName("web", "u1", "Started", "Back-off restarting failed container app in pod web_default(u1)"),
    eventName("web", "u1", "BackOff", "something else"),
  ];
  for (const o of others) assert.notEqual(o, a);
  assert.ok(eventName("x".repeat(300), "u", "r", "m").length <= 253);
});

test("repeats count within 10 minutes of the last one", () => {
  const ev = KINDS.Event.codec.fromPartial({ firstTimestamp: "2025-01-01T00:00:00Z", lastTimestamp: "2025-01-01T00:05:00Z" });
  const last = Date.parse("2025-01-01T00:05:00Z");
  assert.equal(withinWindow(ev, last + DEDUPE_WINDOW_MS - 1), true);
  assert.equal(withinWindow(ev, last + DEDUPE_WINDOW_MS), false);
  assert.equal(withinWindow(KINDS.Event.codec.fromPartial({}), last), false);
});
