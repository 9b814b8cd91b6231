// Watch: the current state (or the events after a resourceVersion) and then every change, from
// the informer; BOOKMARKs tell idle watchers how far they are.
//
// What a watch may cost is bounded (issue 11; docs/api-limits.md). The replay is produced one
// message at a time as the client takes them, never built up front. Live events that arrive
// while the client is behind wait as encoded messages whose bytes count against the watch's
// budget and the gateway's (limits.ts); a watch over budget is cut off with OUT_OF_RANGE, as
// Kubernetes answers 410 Gone, and the client lists again (ADR 19). The replay's starting point
// is taken and the subscription made in one synchronous step, so no event falls between them;
// the subscription is removed on every way a watch ends (cancel, error, cut-off, shutdown).
import * as grpc from "@grpc/grpc-js";
import { parseResourceVersion, type KindInfo, type KubeObject, type WatchRequest } from "@navarch/api";
import type { Informer, StoreEvent } from "@navarch/store";
import type { GatewayContext } from "./context.js";
import type { ClientLimits } from "./limits.js";
import { parseSelection, selects, type Selection } from "./selection.js";
import { toStatus } from "./status.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEventOut {
  type: WatchEventType;
  object: KubeObject;
}

/** Encoded messages are written as they are: the watch method's serializer passes Buffers through (server.ts). */
export type WatchCall = grpc.ServerWritableStream<WatchRequest, WatchEventOut | Buffer>;

/**
 * Bytes a watch hands to gRPC before the HTTP/2 stream has taken them. The next message waits
 * for those writes to complete, as it waits for 'drain' when call.write() returns false; a client
 * that does not read leaves at most this (plus one message) in the gateway.
 */
const WRITE_WINDOW_BYTES = 16 * 1024;

/** How a store event looks through a selection: objects entering or leaving it are ADDED or DELETED. */
export function translate(sel: Selection, e: StoreEvent<KubeObject>): WatchEventOut | undefined {
  const now = e.type !== "DELETED" && selects(sel, e.object);
  const before = e.old !== undefined && selects(sel, e.old);
  if (e.type === "DELETED") return before ? { type: "DELETED", object: e.object } : undefined;
  if (now && before) return { type: "MODIFIED", object: e.object };
  if (now) return { type: "ADDED", object: e.object };
  if (before) return { type: "DELETED", object: e.object };
  return undefined;
}

/** Where a watch's first events come from, one at a time (undefined: the replay is done). */
interface Replay {
  next(): WatchEventOut | undefined;
}

/**
 * The objects present at revision `at`, walking the informer's sorted key list of that moment
 * (shared, not copied: a watch costs no memory per object). An object changed since `at` is sent
 * as it is now, and the live events queued for it up to now are skipped (`skip`), so the client
 * gets each object's latest state once; one deleted since is sent neither as ADDED nor DELETED.
 */
function listReplay(informer: Informer, sel: Selection, at: number, skip: Map<string, number>): Replay {
  const keys = informer.keys();
  let i = 0;
  let end = keys.length;
  if (sel.namespace !== undefined && informer.store.info.namespaced) {
    // A namespace's keys share the prefix "<namespace>." (libs/store keys.ts) and so are one run
    // of the sorted list: from "<namespace>." up to "<namespace>/" ('/' follows '.').
    const ns = informer.store.keyPrefix + sel.namespace;
    i = lowerBound(keys, `${ns}.`);
    end = lowerBound(keys, `${ns}/`);
  }
  return {
    next() {
      while (i < end) {
        const key = keys[i++]!;
        const obj = informer.getByKey(key);
        if (!obj || Number(obj.metadata?.resourceVersion) > at) skip.set(key, informer.revision);
        if (obj && selects(sel, obj)) return { type: "ADDED", object: obj };
      }
      return undefined;
    },
  };
}

/** The events after `from`, from the informer's history (throws ExpiredError when too old). */
function historyReplay(informer: Informer, sel: Selection, from: number): Replay {
  const events = informer.eventsSince(from);
  let i = 0;
  return {
    next() {
      while (i < events.length) {
        const out = translate(sel, events[i++]!);
        if (out) return out;
      }
      return undefined;
    },
  };
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Queued {
  msg: Buffer;
  /** The store key and revision of the event ("" and the cache's revision for a BOOKMARK). */
  key: string;
  revision: number;
}

/** One open watch: its replay, its queue of waiting messages and its byte accounting. */
class Watch {
  private replay: Replay | undefined;
  private queue: Queued[] = [];
  private head = 0;
  /** Bytes of queued messages (dropped when the watch is cut off). */
  queued = 0;
  /** Bytes handed to gRPC whose write has not completed (freed only as the client reads). */
  private inFlight = 0;
  private waitingForDrain = false;
  /** No more events are produced (cut off, cancelled, failed or shut down). */
  private ended = false;
  private finished = false;
  private unsubscribe: () => void = () => undefined;
  private bookmarks: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: WatchHub,
    private readonly call: WatchCall,
    private readonly encode: (e: WatchEventOut) => Buffer,
    private readonly release: () => void,
    /** Keys the replay sent a newer state of, with the revision that state includes. */
    private readonly skip: Map<string, number>,
  ) {
    // 'close' follows every end of the call: the status sent, a cancel, a broken connection.
    call.on("cancelled", () => this.finish());
    call.on("close", () => this.finish());
  }

  get buffered(): number {
    return this.queued + this.inFlight;
  }

  /** Synchronous with taking the replay's starting point: no event can fall in between. */
  start(informer: Informer, replay: Replay, sel: Selection, info: KindInfo, bookmarkMs: number | undefined): void {
    this.replay = replay;
    // Headers at once: the client knows its watch was accepted before any event arrives.
    this.call.sendMetadata(new grpc.Metadata());
    this.unsubscribe = informer.onEvent((e) => {
      // A failing watch must not throw into the informer, which feeds every other subscriber.
      try {
        const out = translate(sel, e);
        if (out) this.enqueue(out, e.key, e.revision);
      } catch (err) {
        this.end(toStatus(err, this.hub.logger));
      }
    });
    if (bookmarkMs !== undefined) {
      this.bookmarks = setInterval(() => {
        // Only when idle: a bookmark says "you have everything up to here".
        if (this.replay || this.head < this.queue.length || this.ended) return;
        const object = info.codec.fromPartial({ metadata: { resourceVersion: String(informer.revision) } });
        this.enqueue({ type: "BOOKMARK", object }, "", informer.revision);
      }, bookmarkMs);
    }
    this.pump();
  }

  /** Stops producing events; sends `status` (after what gRPC already holds) or ends with OK. */
  end(status?: Partial<grpc.StatusObject>): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe();
    if (this.bookmarks) clearInterval(this.bookmarks);
    this.dropQueue();
    this.replay = undefined;
    if (this.call.cancelled || this.finished) return;
    if (status) this.call.emit("error", status);
    else this.call.end();
  }

  /** Cut off: too far behind. OUT_OF_RANGE, like a too old resourceVersion: list again. */
  cutOff(why: string): void {
    this.hub.cutOffs++;
    this.end({
      code: grpc.status.OUT_OF_RANGE,
      details: `watch cut off: ${why}; list again (or watch again from the last resourceVersion received)`,
    });
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.end();
    this.hub.adjust(-this.inFlight);
    this.inFlight = 0;
    this.release();
    this.hub.remove(this);
  }

  private dropQueue(): void {
    const bytes = this.queued;
    this.queue = [];
    this.head = 0;
    this.queued = 0;
    this.skip.clear();
    this.hub.adjust(-bytes);
  }

  private enqueue(out: WatchEventOut, key: string, revision: number): void {
    if (this.ended) return;
    const msg = this.encode(out);
    if (!this.replay && this.head === this.queue.length && this.canWrite()) {
      this.write(msg);
      return;
    }
    this.queue.push({ msg, key, revision });
    this.queued += msg.length;
    this.hub.adjust(msg.length);
    const limit = this.hub.limits.watchBufferBytes;
    if (!this.ended && limit > 0 && this.buffered > limit) {
      this.cutOff(`its client is too slow (more than ${limit} bytes of events waiting)`);
    }
  }

  private canWrite(): boolean {
    return !this.waitingForDrain && this.inFlight < WRITE_WINDOW_BYTES && !this.ended;
  }

  /** Hands messages to gRPC while it takes them: the replay first, then the queue. */
  private pump(): void {
    try {
      while (this.canWrite()) {
        if (this.replay) {
          const out = this.replay.next();
          if (out) this.write(this.encode(out));
          else this.replay = undefined;
          continue;
        }
        if (this.head === this.queue.length) {
          if (this.head > 0) this.dropQueue();
          return;
        }
        const q = this.queue[this.head++]!;
        this.queued -= q.msg.length;
        this.hub.adjust(-q.msg.length);
        // Already reflected in the state the replay sent for this key.
        if (this.skip.size > 0 && q.revision <= (this.skip.get(q.key) ?? 0)) continue;
        this.write(q.msg);
      }
    } catch (err) {
      this.end(toStatus(err, this.hub.logger));
    }
  }

  private write(msg: Buffer): void {
    const n = msg.length;
    this.inFlight += n;
    this.hub.adjust(n);
    const more = this.call.write(msg, () => {
      if (this.finished) return;
      this.inFlight -= n;
      this.hub.adjust(-n);
      if (!this.waitingForDrain) this.pump();
    });
    if (!more) {
      this.waitingForDrain = true;
      this.call.once("drain", () => {
        this.waitingForDrain = false;
        this.pump();
      });
    }
  }
}

export interface WatchStats {
  /** Watches whose call has not ended. */
  watches: number;
  /** Encoded bytes they hold: queued, or handed to gRPC and not yet written. */
  bufferedBytes: number;
  /** Watches cut off for being too slow since the gateway started. */
  cutOffs: number;
}

export class WatchHub {
  private readonly active = new Set<Watch>();
  private total = 0;
  cutOffs = 0;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly clientLimits: ClientLimits,
  ) {}

  get limits() {
    return this.clientLimits.limits;
  }

  get logger() {
    return this.ctx.logger;
  }

  async serve(info: KindInfo, call: WatchCall, client: { client: string; who: string }): Promise<void> {
    const req = call.request;
    const sel = parseSelection(info, req);
    let from: number | undefined;
    if (req.resourceVersion !== "" && req.resourceVersion !== "0") from = parseResourceVersion(req.resourceVersion, "resourceVersion");
    const release = this.clientLimits.acquireWatch(client.client, client.who);
    let informer: Informer;
    let replay: Replay;
    const skip = new Map<string, number>();
    try {
      informer = await this.ctx.fresh(info, from ?? 0);
      // --- synchronous from here: the replay's starting point, then the subscription ---
      if (!call.cancelled) {
        replay = from === undefined ? listReplay(informer, sel, informer.revision, skip) : historyReplay(informer, sel, from);
      }
    } catch (err) {
      release();
      throw err;
    }
    if (call.cancelled) {
      release();
      return;
    }
    const encode = (info.service as grpc.ServiceDefinition).watch!.responseSerialize as (e: WatchEventOut) => Buffer;
    const watch = new Watch(this, call, encode, release, skip);
    this.active.add(watch);
    watch.start(informer, replay!, sel, info, req.allowWatchBookmarks ? this.ctx.options.bookmarkSeconds * 1000 : undefined);
  }

  /** Keeps the total of bytes all watches hold; past its cap, cuts off the watch with the most queued. */
  adjust(delta: number): void {
    this.total += delta;
    const cap = this.limits.watchBufferTotalBytes;
    if (delta <= 0 || cap === 0) return;
    for (let i = 0; this.total > cap && i < this.active.size; i++) {
      let worst: Watch | undefined;
      for (const w of this.active) if (w.queued > 0 && (!worst || w.queued > worst.queued)) worst = w;
      if (!worst) return;
      worst.cutOff(`the API server's watch buffers are full (more than ${cap} bytes) and this watch is the furthest behind`);
    }
  }

  remove(watch: Watch): void {
    this.active.delete(watch);
  }

  stats(): WatchStats {
    return { watches: this.active.size, bufferedBytes: this.total, cutOffs: this.cutOffs };
  }

  /** Ends every open watch (the gateway is shutting down); clients re-watch elsewhere. */
  closeAll(): void {
    for (const w of [...this.active]) w.end();
  }
}
