// Events about pods (Pulling, Pulled, Created, Started, Killing, BackOff, Failed ...) as Event
// objects, the way `kubectl describe pod` shows them. Recording never blocks or fails pod
// handling: record() only queues (a bounded queue; when full, events are dropped and counted),
// and one writer drains the queue in the background, logging failures.
//
// Repeats are folded as Kubernetes' event correlator does: the same (object uid, reason, message)
// within 10 minutes increments `count` and moves `lastTimestamp` on one Event, named
// <pod>.<16 hex of a hash of uid, reason, message>, with compare-and-swap; after 10 minutes of
// quiet it starts counting afresh.
import { AlreadyExistsError, ConflictError, KINDS, type Event } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import { timestamp, type ResourceStore } from "@navarch/store";
import { createHash, randomUUID } from "node:crypto";

export const EVENT_COMPONENT = "node-agent";
export const REPORTING_COMPONENT = "navarch-node-agent";
export const DEDUPE_WINDOW_MS = 10 * 60 * 1000;

export interface InvolvedPod {
  namespace: string;
  name: string;
  uid: string;
  /** Default "Pod"; "Node" for an event about the node itself (namespace "default", like Kubernetes). */
  kind?: "Pod" | "Node";
}

export interface EventRecord {
  object: InvolvedPod;
  /** "spec.containers{app}" for a container's event; "" for the pod's. */
  fieldPath: string;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  at: number;
}

/** The Event name for a (uid, reason, message): repeats map to the same object. */
export function eventName(podName: string, uid: string, reason: string, message: string): string {
  const hash = createHash("sha256").update(`${uid}\n${reason}\n${message}`).digest("hex").slice(0, 16);
  // Names are at most 253 characters.
  return `${podName.slice(0, 253 - 17)}.${hash}`;
}

/** Whether an existing Event is still inside the window in which repeats are counted on it. */
export function withinWindow(existing: Event, now: number): boolean {
  const last = Date.parse(existing.lastTimestamp || existing.firstTimestamp || "");
  return !Number.isNaN(last) && now - last < DEDUPE_WINDOW_MS;
}

export interface RecorderOptions {
  store: ResourceStore<Event>;
  node: string;
  logger: Logger;
  maxQueue?: number;
  now?: () => number;
}

export class EventRecorder {
  private queue: EventRecord[] = [];
  private readonly maxQueue: number;
  private readonly now: () => number;
  /** Our latest write of each Event name (its revision saves a read on repeats). */
  private readonly cache = new Map<string, Event>();
  private draining: Promise<void> | undefined;
  private stopped = false;
  dropped = 0;
  written = 0;
  failed = 0;

  constructor(private readonly opts: RecorderOptions) {
    this.maxQueue = opts.maxQueue ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  record(object: InvolvedPod, fieldPath: string, type: "Normal" | "Warning", reason: string, message: string): void {
    if (this.stopped) return;
    if (this.queue.length >= this.maxQueue) {
      if (this.dropped++ % 100 === 0) this.opts.logger.warn({ dropped: this.dropped }, "event queue full; dropping events");
      return;
    }
    this.queue.push({ object, fieldPath, type, reason, message, at: this.now() });
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
        this.opts.logger.warn({ reason: item.reason, pod: `${item.object.namespace}/${item.object.name}`, err: String(err) }, "recording an event failed");
      }
    }
  }

  private async write(item: EventRecord): Promise<void> {
    const { store } = this.opts;
    const name = eventName(item.object.name, item.object.uid, item.reason, item.message);
    const ns = item.object.namespace;
    let current: Event | undefined = this.cache.get(name);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const next = current ? this.repeat(current, item) : this.fresh(name, item);
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

  private repeat(existing: Event, item: EventRecord): Event {
    if (!withinWindow(existing, item.at)) {
      const fresh = this.fresh(existing.metadata!.name, item);
      return { ...fresh, metadata: { ...fresh.metadata!, resourceVersion: existing.metadata!.resourceVersion } };
    }
    return { ...existing, count: (existing.count || 1) + 1, lastTimestamp: timestamp(new Date(item.at)) };
  }

  private fresh(name: string, item: EventRecord): Event {
    const at = timestamp(new Date(item.at));
    return KINDS.Event.codec.fromPartial({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: item.object.namespace, uid: randomUUID(), creationTimestamp: at },
      involvedObject: {
        kind: item.object.kind ?? "Pod",
        // A Node has no namespace; its Event is kept in item.object.namespace ("default").
        namespace: item.object.kind === "Node" ? "" : item.object.namespace,
        name: item.object.name,
        uid: item.object.uid,
        apiVersion: "v1",
        fieldPath: item.fieldPath,
      },
      reason: item.reason,
      message: item.message,
      source: { component: EVENT_COMPONENT, host: this.opts.node },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type: item.type,
      reportingComponent: REPORTING_COMPONENT,
      reportingInstance: this.opts.node,
    });
  }

  private remember(name: string, event: Event): void {
    this.cache.delete(name);
    this.cache.set(name, event);
    // Bounded: the oldest entries go first (a Map iterates in insertion order).
    while (this.cache.size > 4_096) this.cache.delete(this.cache.keys().next().value!);
  }
}
