// The correlator on simulated time: which Event each occurrence is counted on, and what is written.
import { KINDS, type Event } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AGGREGATE_WINDOW_MS,
  COMBINED_PREFIX,
  EVENT_DEDUPE_WINDOW_MS,
  EventCorrelator,
  correlatedEventName,
  eventFor,
  withinDedupeWindow,
  type InvolvedObject,
  type Occurrence,
  type Tally,
} from "./correlator.js";

const source = { component: "kubelet-ish", instance: "n1", reportingComponent: "navarch-kubelet-ish" };
const pod: InvolvedObject = { kind: "Pod", apiVersion: "v1", namespace: "default", name: "web", uid: "u1", fieldPath: "spec.containers{app}" };
const T0 = Date.parse("2026-01-01T00:00:00Z");

function occ(message: string, at: number, reason = "BackOff", object = pod): Occurrence {
  return { object, type: "Warning", reason, message, at };
}

test("event names: the same (uid, reason, message) -> the same Event", () => {
  const a = correlatedEventName("web", "u1", "BackOff", "Back-off restarting failed container app");
  assert.match(a, /^web\.[0-9a-f]{16}$/);
  assert.equal(a, correlatedEventName("web", "u1", "BackOff", "Back-off restarting failed container app"));
  for (const other of [
    correlatedEventName("web", "u2", "BackOff", "Back-off restarting failed container app"),
    correlatedEventName("web", "u1", "Started", "Back-off restarting failed container app"),
    correlatedEventName("web", "u1", "BackOff", "something else"),
  ]) {
    assert.notEqual(other, a);
  }
  assert.ok(correlatedEventName("x".repeat(300), "u", "r", "m").length <= 253);
});

test("repeats count within 10 minutes of the last one", () => {
  const ev = KINDS.Event.codec.fromPartial({ firstTimestamp: "2025-01-01T00:00:00Z", lastTimestamp: "2025-01-01T00:05:00Z" });
  const last = Date.parse("2025-01-01T00:05:00Z");
  assert.equal(withinDedupeWindow(ev, last + EVENT_DEDUPE_WINDOW_MS - 1), true);
  assert.equal(withinDedupeWindow(ev, last + EVENT_DEDUPE_WINDOW_MS), false);
  assert.equal(withinDedupeWindow(KINDS.Event.codec.fromPartial({}), last), false);
});

test("identical occurrences map to one Event; events about a Node go to the default namespace", () => {
  const c = new EventCorrelator(source);
  const a = c.correlate(occ("m", T0));
  const b = c.correlate(occ("m", T0 + 1_000));
  assert.deepEqual(b, a);
  assert.equal(a.key, `default/${correlatedEventName("web", "u1", "BackOff", "m")}`);
  assert.equal(a.aggregated, false);
  const node: InvolvedObject = { kind: "Node", apiVersion: "v1", namespace: "", name: "n1", uid: "n-uid" };
  assert.equal(c.correlate(occ("NodeNotReady", T0, "NodeNotReady", node)).namespace, "default");
});

test("similar events: from the 10th distinct message in the window, one aggregate Event", () => {
  const c = new EventCorrelator(source);
  const own = new Set<string>();
  for (let i = 1; i <= 9; i++) {
    const r = c.correlate(occ(`message ${i}`, T0 + i * 1_000));
    assert.equal(r.aggregated, false, `message ${i} is its own Event`);
    assert.equal(r.message, `message ${i}`);
    own.add(r.key);
  }
  assert.equal(own.size, 9);
  const tenth = c.correlate(occ("message 10", T0 + 10_000));
  assert.equal(tenth.aggregated, true);
  assert.equal(tenth.message, `${COMBINED_PREFIX}message 10`);
  assert.ok(!own.has(tenth.key));
  // Every later occurrence of the group, an earlier message too, goes to the same aggregate.
  const later = [c.correlate(occ("message 11", T0 + 11_000)), c.correlate(occ("message 1", T0 + 12_000))];
  for (const r of later) assert.equal(r.key, tenth.key);
  assert.equal(later[1]!.message, `${COMBINED_PREFIX}message 1`);
  // Another reason, or another object, is another group.
  assert.equal(c.correlate(occ("message 12", T0 + 13_000, "Failed")).aggregated, false);
  assert.equal(c.correlate(occ("message 12", T0 + 13_000, "BackOff", { ...pod, name: "api", uid: "u2" })).aggregated, false);
});

test("similar events: a group quiet for longer than the window starts over", () => {
  const c = new EventCorrelator(source);
  for (let i = 1; i <= 10; i++) c.correlate(occ(`message ${i}`, T0));
  assert.equal(c.correlate(occ("message 11", T0 + AGGREGATE_WINDOW_MS)).aggregated, true, "the window slides with each occurrence");
  const after = c.correlate(occ("message 12", T0 + 2 * AGGREGATE_WINDOW_MS + 1));
  assert.equal(after.aggregated, false);
  assert.equal(after.message, "message 12");
});

function tally(count: number, first: number, last: number): Tally {
  const correlated = new EventCorrelator(source).correlate(occ("m", first));
  return { correlated, object: pod, type: "Warning", reason: "BackOff", count, first, last };
}

test("eventFor: a new Event carries the tally; a stored one adds it within the window and starts afresh after", () => {
  const fresh = eventFor(undefined, tally(3, T0, T0 + 2_000), source);
  assert.equal(fresh.count, 3);
  assert.equal(fresh.firstTimestamp, "2026-01-01T00:00:00Z");
  assert.equal(fresh.lastTimestamp, "2026-01-01T00:00:02Z");
  assert.deepEqual(fresh.involvedObject, { ...pod, resourceVersion: "" });
  assert.deepEqual(fresh.source, { component: "kubelet-ish", host: "n1" });
  assert.equal(fresh.reportingComponent, "navarch-kubelet-ish");
  assert.equal(fresh.reportingInstance, "n1");
  assert.equal(fresh.type, "Warning");

  const stored: Event = { ...fresh, metadata: { ...fresh.metadata!, resourceVersion: "7" } };
  const more = eventFor(stored, tally(5, T0 + 60_000, T0 + 61_000), source);
  assert.equal(more.count, 8);
  assert.equal(more.firstTimestamp, "2026-01-01T00:00:00Z");
  assert.equal(more.lastTimestamp, "2026-01-01T00:01:01Z");
  assert.equal(more.metadata!.resourceVersion, "7");
  assert.equal(more.metadata!.uid, fresh.metadata!.uid);

  const late = T0 + 2_000 + EVENT_DEDUPE_WINDOW_MS;
  const afresh = eventFor(stored, tally(2, late, late), source);
  assert.equal(afresh.count, 2);
  assert.equal(afresh.firstTimestamp, new Date(late).toISOString().replace(/\.\d{3}Z$/, "Z"));
  assert.equal(afresh.metadata!.resourceVersion, "7", "replaced in place, by compare-and-swap");
});
