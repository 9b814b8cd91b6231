// Events about any object (a Node's NodeNotReady, a Pod's TaintManagerEviction ...) for
// controllers, the way `kubectl describe` shows them. The node agent's pod recorder
// (services/node-agent/src/events) works the same way for pods; this one names the involved
// object's kind, so control-plane controllers can record about anything.
//
// Recording never blocks or fails a reconcile: record() only queues (bounded; when full, events
// are dropped and counted) and one writer drains the queue in the background, logging failures.
// Repeats are folded as Kubernetes' event correlator does: the same (object uid, reason, message)
// within 10 minutes increments `count` and moves `lastTimestamp` on one Event, named
// <object>.<16 hex of a hash of uid, reason, message>, with compare-and-swap.
//
// Events about cluster-scoped objects (Nodes) go to the "default" namespace, as in Kubernetes.
import { AlreadyExistsError, ConflictError, KINDS, type Event } from "@navarch/api";
import { timestamp, type ResourceStore } from "@navarch/store";
import { createHash, randomUUID } from "node:crypto";
import { silentLogger, type Logger } from "./logger.js";

export const EVENT_DEDUPE_WINDOW_MS = 10 * 60 * 1000;
export const CLUSTER_SCOPED_EVENT_NAMESPACE = "default";

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

interface Queued {
  object: InvolvedObject;
  type: ObjectEventType;
  reason: string;
  message: string;
  at: number;
}

export interface EventRecorderOptions {
  store: ResourceStore<Event>;
  /** source.component and reportingComponent, e.g. "node-controller". */
  component: string;
  /** source.host / reportingInstance (a node name, a pod name); "" when none. */
  instance?: string;
  logger?: Logger;
  maxQueue?: number;
  now?: () => number;
}

/** The Event name for (object, reason, message): repeats map to the same Event. */
export function correlatedEventName(objectName: string, uid: string, reason: string, message: string): string {
  const hash = createHash("sha256").update(`${uid}\n${reason}\n${message}`).digest("hex").slice(0, 16);
  return `${objectName.slice(0, 253 - 17)}.${hash}`;
}

export class ObjectEventRecorder {
  private queue: Queued[] = [];
  private readonly maxQueue: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  /** Our latest write per Event key (its revision saves a read on repeats). */
  private readonly cache = new Map<string, Event>();
  private draining: Promise<void> | undefined;
  private stopped = false;
  dropped = 0;
  private lastDropWarning = -Infinity;
  written = 0;
  failed = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    this.maxQueue = opts.maxQueue ?? 1_000;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger ?? silentLogger;
  }

  record(object: InvolvedObject, type: ObjectEventType, reason: string, message: string): void {
    if (this.stopped) return;
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      // One line per 10 s at most: under a burst (a scheduler binding thousands of pods) a line
      // per drop, or per hundred, would flood the log with the same news.
      const t = this.now();
      if (t - this.lastDropWarning >= 10_000) {
        this.lastDropWarning = t;
        this.logger.warn({ dropped: this.dropped }, "event queue full; dropping events (events are best effort)");
      }
      return;
    }
    this.queue.push({ object, type, reason, message, at: this.now() });
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
        const o = item.object;
        this.logger.warn({ reason: item.reason, object: `${o.kind}/${o.namespace ? o.namespace + "/" : ""}${o.name}`, err: String(err) }, "recording an event failed");
      }
    }
  }

  private async write(item: Queued): Promise<void> {
    const { store } = this.opts;
    const ns = item.object.namespace || CLUSTER_SCOPED_EVENT_NAMESPACE;
    const name = correlatedEventName(item.object.name, item.object.uid, item.reason, item.message);
    const cacheKey = `${ns}/${name}`;
    let current = this.cache.get(cacheKey);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const next = current ? this.repeat(current, item) : this.fresh(ns, name, item);
        const stored = current ? await store.update(next) : await store.create(next);
        this.remember(cacheKey, stored!);
        return;
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof AlreadyExistsError)) throw err;
        current = await store.get(ns, name);
      }
    }
    throw new ConflictError(`event ${ns}/${name} keeps changing`);
  }

  private repeat(existing: Event, item: Queued): Event {
    const last = Date.parse(existing.lastTimestamp || existing.firstTimestamp || "");
    if (Number.isNaN(last) || item.at - last >= EVENT_DEDUPE_WINDOW_MS) {
      const fresh = this.fresh(existing.metadata!.namespace, existing.metadata!.name, item);
      return { ...fresh, metadata: { ...fresh.metadata!, resourceVersion: existing.metadata!.resourceVersion } };
    }
    return { ...existing, count: (existing.count || 1) + 1, lastTimestamp: timestamp(new Date(item.at)) };
  }

  private fresh(namespace: string, name: string, item: Queued): Event {
    const at = timestamp(new Date(item.at));
    const o = item.object;
    return KINDS.Event.codec.fromPartial({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace, uid: randomUUID(), creationTimestamp: at },
      involvedObject: { kind: o.kind, namespace: o.namespace, name: o.name, uid: o.uid, apiVersion: o.apiVersion, fieldPath: o.fieldPath ?? "" },
      reason: item.reason,
      message: item.message,
      source: { component: this.opts.component, host: this.opts.instance ?? "" },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type: item.type,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance ?? "",
    });
  }

  private remember(key: string, event: Event): void {
    this.cache.delete(key);
    this.cache.set(key, event);
    while (this.cache.size > 4_096) this.cache.delete(this.cache.keys().next().value!);
  }
}
