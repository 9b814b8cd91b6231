// Events about any object (SuccessfulCreate on a ReplicaSet, ScalingReplicaSet on a Deployment,
// ...) as Event objects, the way `kubectl describe` shows them. Recording never blocks or fails
// a controller's sync: record() only queues (bounded; when full, events are dropped and counted),
// and one writer drains the queue in the background, logging failures.
//
// Repeats are folded as Kubernetes' event correlator does: the same (object uid, reason, message)
// within 10 minutes increments `count` and moves `lastTimestamp` on one Event, named
// <object>.<16 hex of a hash of uid, reason, message>, with compare-and-swap; after 10 minutes of
// quiet it starts counting afresh. (The node agent's pod events follow the same rules.)
import { AlreadyExistsError, ConflictError, KINDS, type Event, type KubeObject } from "@navarch/api";
import { timestamp, type ResourceStore } from "@navarch/store";
import { createHash, randomUUID } from "node:crypto";
import type { Logger } from "./logger.js";

export const EVENT_DEDUPE_WINDOW_MS = 10 * 60 * 1000;

export type EventRecordType = "Normal" | "Warning";

/** What an Event points at (its involvedObject). */
export interface EventSubject {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  uid: string;
}

/** The subject of an object that carries its kind and apiVersion. */
export function subjectOf(obj: KubeObject): EventSubject {
  const m = obj.metadata!;
  return { kind: obj.kind, apiVersion: obj.apiVersion, namespace: m.namespace, name: m.name, uid: m.uid };
}

/** The Event name for a (uid, reason, message): repeats map to the same object. */
export function eventObjectName(objectName: string, uid: string, reason: string, message: string): string {
  const hash = createHash("sha256").update(`${uid}\n${reason}\n${message}`).digest("hex").slice(0, 16);
  return `${objectName.slice(0, 253 - 17)}.${hash}`;
}

/** Whether an existing Event is still inside the window in which repeats are counted on it. */
export function withinDedupeWindow(existing: Event, now: number): boolean {
  const last = Date.parse(existing.lastTimestamp || existing.firstTimestamp || "");
  return !Number.isNaN(last) && now - last < EVENT_DEDUPE_WINDOW_MS;
}

export interface EventRecorderOptions {
  store: ResourceStore<Event>;
  /** source.component and reportingComponent, e.g. "replicaset-controller". */
  component: string;
  /** source.host and reportingInstance ("" for a control plane component). */
  host?: string;
  logger: Logger;
  maxQueue?: number;
  now?: () => number;
}

interface Pending {
  subject: EventSubject;
  type: EventRecordType;
  reason: string;
  message: string;
  at: number;
}

export class EventRecorder {
  private queue: Pending[] = [];
  private readonly maxQueue: number;
  private readonly now: () => number;
  /** Our latest write of each Event name (its revision saves a read on repeats). */
  private readonly cache = new Map<string, Event>();
  private draining: Promise<void> | undefined;
  private stopped = false;
  dropped = 0;
  written = 0;
  failed = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    this.maxQueue = opts.maxQueue ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  record(subject: EventSubject, type: EventRecordType, reason: string, message: string): void {
    if (this.stopped) return;
    if (this.queue.length >= this.maxQueue) {
      if (this.dropped++ % 100 === 0) this.opts.logger.warn({ dropped: this.dropped }, "event queue full; dropping events");
      return;
    }
    this.queue.push({ subject, type, reason, message, at: this.now() });
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Writes what is queued (within timeoutMs) and stops accepting events. */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.stopped = true;
    await Promise.race([this.draining, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.queue = [];
  }

  /** Resolves once the queue is empty (tests). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const item = this.queue.shift()!;
      try {
        await this.write(item);
        this.written++;
      } catch (err) {
        this.failed++;
        const s = item.subject;
        this.opts.logger.warn({ reason: item.reason, object: `${s.kind}/${s.namespace}/${s.name}`, err: String(err) }, "recording an event failed");
      }
    }
  }

  private async write(item: Pending): Promise<void> {
    const { store } = this.opts;
    const name = eventObjectName(item.subject.name, item.subject.uid, item.reason, item.message);
    const ns = item.subject.namespace || "default";
    let current: Event | undefined = this.cache.get(name);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const next = current ? this.repeat(current, item) : this.fresh(name, ns, item);
        const stored = current ? await store.update(next) : await store.create(next);
        this.remember(name, stored!);
        return;
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof AlreadyExistsError)) throw err;
        current = await store.get(ns, name);
      }
    }
    throw new ConflictError(`event ${ns}/${name} keeps changing`);
  }

  private repeat(existing: Event, item: Pending): Event {
    if (!withinDedupeWindow(existing, item.at)) {
      const fresh = this.fresh(existing.metadata!.name, existing.metadata!.namespace, item);
      return { ...fresh, metadata: { ...fresh.metadata!, resourceVersion: existing.metadata!.resourceVersion } };
    }
    return { ...existing, count: (existing.count || 1) + 1, lastTimestamp: timestamp(new Date(item.at)) };
  }

  private fresh(name: string, namespace: string, item: Pending): Event {
    const at = timestamp(new Date(item.at));
    const s = item.subject;
    return KINDS.Event.codec.fromPartial({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace, uid: randomUUID(), creationTimestamp: at },
      involvedObject: { kind: s.kind, namespace: s.namespace, name: s.name, uid: s.uid, apiVersion: s.apiVersion, fieldPath: "" },
      reason: item.reason,
      message: item.message,
      source: { component: this.opts.component, host: this.opts.host ?? "" },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type: item.type,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.host ?? "",
    });
  }

  private remember(name: string, event: Event): void {
    this.cache.delete(name);
    this.cache.set(name, event);
    // Bounded: the oldest entries go first (a Map iterates in insertion order).
    while (this.cache.size > 4_096) this.cache.delete(this.cache.keys().next().value!);
  }
}
