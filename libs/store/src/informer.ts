// List-then-watch cache of one kind (the informer). One KV watch per bucket feeds an in-memory
// map that the gateway serves Get/List/Watch from and controllers reconcile against.
//
// Sync: before watching we read the stream's last sequence; the watch first replays the last
// value of every key in sequence order, so the replay is complete once we have seen that
// sequence. Resume: after a reconnect (or a watch that ends) we watch again from the last
// revision we applied + 1, so no update is lost, and revisions we already applied are skipped,
// so none is applied twice or out of order. History: a ring of recent events lets a watcher
// resume from a resourceVersion without a relist, as long as it is not older than the ring.
//
// Undecodable values: a value that is not an object of the kind under its key (written around
// the API, or damaged) is not served. Its key leaves the cache (watchers see DELETED, as if the
// object were gone: serving the previous version would be stale data), and the key is remembered
// as undecodable until a good value or a delete replaces it, so a read of that key can say what is
// wrong instead of NOT_FOUND. Each one is counted and reported to onDecodeError subscribers.
import { clip, ExpiredError, type KubeObject } from "@navarch/api";
import { jetstreamManager } from "@nats-io/jetstream";
import { KvWatchInclude, type KvEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { nextTurn, sliceUsed } from "./event-loop-slice.js";
import type { ResourceStore } from "./resource-store.js";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent<T> {
  type: EventType;
  key: string;
  object: T;
  /** The previous state, for MODIFIED and DELETED. */
  old?: T | undefined;
  revision: number;
}

export type EventHandler<T> = (event: StoreEvent<T>) => void;

/** A stored value the informer could not decode, and why. */
export interface UndecodableValue {
  bucket: string;
  key: string;
  revision: number;
  reason: string;
}

export type DecodeErrorHandler = (bad: UndecodableValue) => void;

export interface InformerOptions {
  /**
   * How many recent events to keep for watch resumption (eventsSince); default 0. Only an
   * informer that serves watches (the gateway's) needs them: each event holds the object and its
   * previous state, so a ring of 10,000 on every cache cost ~1 GiB across 5,000 node agents.
   */
  historySize?: number;
  /** Called when the watch fails and is retried (for logging). */
  onWatchError?: (err: unknown) => void;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly decodeErrorHandlers = new Set<DecodeErrorHandler>();
  /** Keys whose latest value could not be decoded. */
  private readonly undecodableKeys = new Map<string, UndecodableValue>();
  /** Values that could not be decoded since start (a metric: each is also reported). */
  decodeFailures = 0;
  private readonly history: StoreEvent<T>[] = [];
  private readonly historySize: number;
  /** Every event after this revision is in `history`. */
  private historyFloor = 0;
  private sortedKeys: string[] | undefined;
  private waiters: { rev: number; resolve: () => void }[] = [];
  private rev = 0;
  private syncTarget = 0;
  private isSynced = false;
  private syncedResolve!: () => void;
  private readonly syncedPromise = new Promise<void>((r) => (this.syncedResolve = r));
  private stopped = false;
  private generation = 0;
  private stopCurrent: (() => void) | undefined;

  constructor(
    readonly store: ResourceStore<T>,
    private readonly nc: NatsConnection,
    private readonly opts: InformerOptions = {},
  ) {
    this.historySize = opts.historySize ?? 0;
  }

  /** Starts watching; resolves once the initial replay is complete. */
  async start(): Promise<void> {
    void this.followReconnects();
    void this.watchLoop();
    await this.syncedPromise;
  }

  stop(): void {
    this.stopped = true;
    this.stopCurrent?.();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  get synced(): boolean {
    return this.isSynced;
  }

  /** The revision of the last change applied: the resourceVersion of this cache's view. */
  get revision(): number {
    return this.rev;
  }

  get size(): number {
    return this.items.size;
  }

  /** The object, or undefined (also when namespace and name cannot name an object). */
  get(namespace: string, name: string): T | undefined {
    const key = this.store.keyOrUndefined(namespace, name);
    return key === undefined ? undefined : this.items.get(key);
  }

  /** Why the latest value of `key` is not served, when it could not be decoded. */
  undecodable(key: string): UndecodableValue | undefined {
    return this.undecodableKeys.get(key);
  }

  /** Every key whose latest value could not be decoded. */
  undecodableValues(): UndecodableValue[] {
    return [...this.undecodableKeys.values()];
  }

  /** Subscribes to values that cannot be decoded; returns the unsubscribe function. */
  onDecodeError(handler: DecodeErrorHandler): () => void {
    this.decodeErrorHandlers.add(handler);
    return () => this.decodeErrorHandlers.delete(handler);
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  /** Objects in one namespace, or all when namespace is undefined, in key order. */
  list(namespace?: string): T[] {
    if (namespace !== undefined && this.store.info.namespaced) {
      const m = this.byNamespace.get(namespace);
      if (!m) return [];
      return [...m.keys()].sort().map((k) => m.get(k)!);
    }
    return this.keys().map((k) => this.items.get(k)!);
  }

  /** All keys, sorted; cached until a key is added or removed. */
  keys(): string[] {
    if (!this.sortedKeys) this.sortedKeys = [...this.items.keys()].sort();
    return this.sortedKeys;
  }

  /** How many handlers are subscribed (the gateway counts its watches' subscriptions). */
  get subscribers(): number {
    return this.handlers.size;
  }

  /** Subscribes to changes; returns the unsubscribe function. Handlers run in revision order. */
  onEvent(handler: EventHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * The events after `revision`, for a watch that resumes there. Throws ExpiredError when the
   * history no longer reaches back that far (the client must list again).
   */
  eventsSince(revision: number): StoreEvent<T>[] {
    if (revision < this.historyFloor) {
      throw new ExpiredError(`too old resource version: ${revision} (oldest available: ${this.historyFloor})`);
    }
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  /** Resolves once the cache has applied `revision` (read-your-writes), or after timeoutMs. */
  waitForRevision(revision: number, timeoutMs = 5_000): Promise<boolean> {
    if (this.rev >= revision || this.stopped) return Promise.resolve(this.rev >= revision);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        rev: revision,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.rev >= revision);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private async followReconnects(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.stopped) return;
      // A reconnect may have lost the server-side consumer of our watch (a restarted server
      // forgets it); watching again from our revision is cheap and cannot skip anything.
      if (s.type === "reconnect") this.restartWatch();
    }
  }

  private restartWatch(): void {
    this.generation++;
    this.stopCurrent?.();
  }

  private async watchLoop(): Promise<void> {
    let delay = 100;
    while (!this.stopped) {
      const gen = this.generation;
      try {
        if (!this.isSynced && this.rev === 0) await this.findSyncPoint();
        const key = this.store.watchFilter;
        const iter = await this.store.kv.watch(
          this.rev > 0 ? { key, resumeFromRevision: this.rev + 1 } : { key, include: KvWatchInclude.LastValue },
        );
        this.stopCurrent = () => iter.stop();
        if (gen !== this.generation || this.stopped) {
          iter.stop();
          continue;
        }
        delay = 100;
        for await (const e of iter) {
          if (gen !== this.generation) break;
          this.apply(e);
          // A backlog (a burst of writes, a replay) arrives as one run of microtasks: slice it.
          if (sliceUsed()) await nextTurn();
        }
      } catch (err) {
        if (this.stopped) return;
        this.opts.onWatchError?.(err);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
      if (!this.stopped && gen === this.generation) {
        // The watch ended without being asked to: start again from where we are.
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Unfiltered: the replay is complete at the stream's last sequence. Filtered (a key prefix):
   * that sequence may belong to another prefix, so count the matching keys instead; with none
   * we are synced at once, otherwise when the watch reports nothing pending (delta 0).
   */
  private async findSyncPoint(): Promise<void> {
    if (this.store.keyPrefix) {
      const jsm = await jetstreamManager(this.nc);
      const bucket = this.store.bucket;
      const si = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `$KV.${bucket}.${this.store.watchFilter}` });
      if (Object.keys(si.state.subjects ?? {}).length === 0) this.markSynced();
      return;
    }
    const status = await this.store.kv.status();
    const state = (status as unknown as { si: { state: { messages: number; last_seq: number } } }).si.state;
    this.syncTarget = state.messages === 0 ? 0 : state.last_seq;
    if (this.syncTarget === 0) this.markSynced();
  }

  private apply(e: KvEntry): void {
    if (e.revision <= this.rev) return;
    this.rev = e.revision;
    const key = e.key;
    const old = this.items.get(key);
    let event: StoreEvent<T> | undefined;
    const obj = e.operation === "PUT" ? this.decodeOrReport(e) : undefined;
    if (obj) {
      this.undecodableKeys.delete(key);
      this.put(key, obj, !old);
      event = { type: old ? "MODIFIED" : "ADDED", key, object: obj, old, revision: e.revision };
    } else {
      if (e.operation !== "PUT") this.undecodableKeys.delete(key);
      if (old) {
        // Deleted, or replaced by a value we cannot decode: either way the old object is gone.
        this.remove(key);
        // The deleted object as last seen, stamped with the deletion's revision, as Kubernetes does.
        const gone = { ...old, metadata: { ...old.metadata!, resourceVersion: String(e.revision) } };
        event = { type: "DELETED", key, object: gone, old, revision: e.revision };
      }
    }
    if (!this.isSynced && (this.store.keyPrefix ? e.delta === 0 : this.rev >= this.syncTarget)) this.markSynced();
    if (event) this.record(event);
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => w.rev <= this.rev);
      this.waiters = this.waiters.filter((w) => w.rev > this.rev);
      for (const w of ready) w.resolve();
    }
  }

  /** The entry's object; undefined (counted, remembered, reported) when it cannot be decoded. */
  private decodeOrReport(e: KvEntry): T | undefined {
    try {
      return this.store.decodeAt(e.key, e.value, e.revision);
    } catch (err) {
      const bad: UndecodableValue = { bucket: this.store.bucket, key: e.key, revision: e.revision, reason: clip((err as Error).message, 256) };
      this.decodeFailures++;
      this.undecodableKeys.set(e.key, bad);
      for (const h of this.decodeErrorHandlers) {
        try {
          h(bad);
        } catch {
          // A reporter's failure must not stop the cache.
        }
      }
      return undefined;
    }
  }

  private record(event: StoreEvent<T>): void {
    if (this.isSynced && this.historySize <= 0) {
      this.historyFloor = event.revision;
    } else if (this.isSynced) {
      this.history.push(event);
      // Trim in batches of a tenth, not one event per event: splice shifts the whole array.
      if (this.history.length > this.historySize + Math.ceil(this.historySize / 10)) {
        const dropped = this.history.splice(0, this.history.length - this.historySize);
        this.historyFloor = dropped[dropped.length - 1]!.revision;
      }
    }
    for (const h of this.handlers) h(event);
  }

  private markSynced(): void {
    if (this.isSynced) return;
    this.isSynced = true;
    // Watchers may resume from any revision from here on.
    this.historyFloor = this.rev;
    this.syncedResolve();
  }

  private put(key: string, obj: T, isNew: boolean): void {
    this.items.set(key, obj);
    if (isNew) this.sortedKeys = undefined;
    const ns = obj.metadata?.namespace ?? "";
    let m = this.byNamespace.get(ns);
    if (!m) this.byNamespace.set(ns, (m = new Map()));
    m.set(key, obj);
  }

  private remove(key: string): void {
    const old = this.items.get(key);
    this.items.delete(key);
    this.sortedKeys = undefined;
    const ns = old?.metadata?.namespace ?? "";
    this.byNamespace.get(ns)?.delete(key);
  }
}
