// What an occurrence of an event becomes in the store, as Kubernetes' event correlator decides
// (client-go tools/record/events_cache.go), as pure functions of the occurrence and the time:
//
// - the same (object uid, reason, message) maps to one Event, named
//   <object>.<16 hex of a hash of uid, reason, message>; a repeat within 10 minutes of the last
//   one adds to its `count` and moves `lastTimestamp` (after 10 minutes of quiet it counts afresh);
// - similar events (same source, object, type and reason, different messages): from the 10th
//   distinct message within 10 minutes of the previous one, every occurrence goes to one aggregate
//   Event whose message is "(combined from similar events): <latest message>".
//
// Events about cluster-scoped objects (Nodes) go to the "default" namespace, as in Kubernetes.
import { KINDS, type Event } from "@navarch/api";
import { timestamp } from "@navarch/store";
import { createHash, randomUUID } from "node:crypto";

export const EVENT_DEDUPE_WINDOW_MS = 10 * 60 * 1000;
export const CLUSTER_SCOPED_EVENT_NAMESPACE = "default";
/** Distinct messages of similar events within the window before they are combined (Kubernetes: 10). */
export const AGGREGATE_MAX_MESSAGES = 10;
export const AGGREGATE_WINDOW_MS = 10 * 60 * 1000;
export const COMBINED_PREFIX = "(combined from similar events): ";
/** How many (source, object, type, reason) groups the aggregator remembers (Kubernetes' LRU size). */
const MAX_AGGREGATE_GROUPS = 4_096;

export interface InvolvedObject {
  kind: string;
  apiVersion: string;
  /** "" for cluster-scoped objects. */
  namespace: string;
  name: string;
  uid: string;
  /** e.g. "spec.containers{app}"; "" for the object itself. */
  fieldPath?: string;
}

export type ObjectEventType = "Normal" | "Warning";

/** Who reports: Event.source and reportingComponent/reportingInstance. */
export interface EventSource {
  /** source.component, e.g. "node-controller". */
  component: string;
  /** source.host and reportingInstance (a node name); "" when none. */
  instance: string;
  /** reportingComponent; the component when not given. */
  reportingComponent: string;
}

export interface Occurrence {
  object: InvolvedObject;
  type: ObjectEventType;
  reason: string;
  message: string;
  at: number;
}

/** The Event an occurrence is counted on. */
export interface Correlated {
  namespace: string;
  name: string;
  /** `<namespace>/<name>`: one Event, one key. */
  key: string;
  /** The message the Event shows (the combined one for an aggregate). */
  message: string;
  aggregated: boolean;
}

/** The Event name for (object, reason, message): repeats map to the same Event. */
export function correlatedEventName(objectName: string, uid: string, reason: string, message: string): string {
  const hash = createHash("sha256").update(`${uid}\n${reason}\n${message}`).digest("hex").slice(0, 16);
  // Names are at most 253 characters.
  return `${objectName.slice(0, 253 - 17)}.${hash}`;
}

/** Whether an Event last seen at `existing.lastTimestamp` still counts a repeat at `at`. */
export function withinDedupeWindow(existing: Event, at: number): boolean {
  const last = Date.parse(existing.lastTimestamp || existing.firstTimestamp || "");
  return !Number.isNaN(last) && at - last < EVENT_DEDUPE_WINDOW_MS;
}

interface AggregateGroup {
  /** Distinct messages seen, up to AGGREGATE_MAX_MESSAGES (more need not be told apart). */
  messages: Set<string>;
  last: number;
}

/**
 * Decides which Event each occurrence is counted on. Holds the similar-events groups (bounded,
 * least recently used first out); time comes in with each occurrence, so tests run it on
 * simulated time.
 */
export class EventCorrelator {
  private readonly groups = new Map<string, AggregateGroup>();

  constructor(
    private readonly source: EventSource,
    private readonly maxMessages = AGGREGATE_MAX_MESSAGES,
    private readonly windowMs = AGGREGATE_WINDOW_MS,
  ) {}

  correlate(o: Occurrence): Correlated {
    const ns = o.object.namespace || CLUSTER_SCOPED_EVENT_NAMESPACE;
    const groupKey = [o.object.kind, o.object.namespace, o.object.name, o.object.uid, o.object.apiVersion, o.type, o.reason].join("\n");
    let group = this.groups.get(groupKey);
    if (group) this.groups.delete(groupKey);
    // The window slides: a group quiet for longer than it starts over (as client-go does).
    if (!group || o.at - group.last > this.windowMs) group = { messages: new Set(), last: o.at };
    if (group.messages.size < this.maxMessages) group.messages.add(o.message);
    group.last = o.at;
    this.groups.set(groupKey, group);
    while (this.groups.size > MAX_AGGREGATE_GROUPS) this.groups.delete(this.groups.keys().next().value!);

    if (group.messages.size < this.maxMessages) {
      const name = correlatedEventName(o.object.name, o.object.uid, o.reason, o.message);
      return { namespace: ns, name, key: `${ns}/${name}`, message: o.message, aggregated: false };
    }
    // One aggregate per group; its name hashes what the group shares, never a message.
    const name = correlatedEventName(o.object.name, o.object.uid, o.reason, `${COMBINED_PREFIX}${o.type}\n${this.source.component}`);
    return { namespace: ns, name, key: `${ns}/${name}`, message: COMBINED_PREFIX + o.message, aggregated: true };
  }
}

/** Occurrences of one Event not yet written: how many, the first and the last. */
export interface Tally {
  correlated: Correlated;
  object: InvolvedObject;
  type: ObjectEventType;
  reason: string;
  count: number;
  first: number;
  last: number;
}

/** The Event to write for a tally: a new one, or `existing` with the tally added (compare-and-swap on its revision). */
export function eventFor(existing: Event | undefined, t: Tally, source: EventSource): Event {
  if (existing && withinDedupeWindow(existing, t.first)) {
    return {
      ...existing,
      count: (existing.count || 1) + t.count,
      lastTimestamp: timestamp(new Date(Math.max(t.last, Date.parse(existing.lastTimestamp) || 0))),
      message: t.correlated.message,
    };
  }
  const fresh = freshEvent(t, source);
  // Outside the window an existing Event starts counting afresh, in place.
  if (existing) fresh.metadata = { ...fresh.metadata!, resourceVersion: existing.metadata!.resourceVersion };
  return fresh;
}

function freshEvent(t: Tally, source: EventSource): Event {
  const o = t.object;
  return KINDS.Event.codec.fromPartial({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: t.correlated.name, namespace: t.correlated.namespace, uid: randomUUID(), creationTimestamp: timestamp(new Date(t.first)) },
    involvedObject: { kind: o.kind, namespace: o.namespace, name: o.name, uid: o.uid, apiVersion: o.apiVersion, fieldPath: o.fieldPath ?? "" },
    reason: t.reason,
    message: t.correlated.message,
    source: { component: source.component, host: source.instance },
    firstTimestamp: timestamp(new Date(t.first)),
    lastTimestamp: timestamp(new Date(t.last)),
    count: t.count,
    type: t.type,
    reportingComponent: source.reportingComponent,
    reportingInstance: source.instance,
  });
}
