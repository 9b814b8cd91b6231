// One store and one informer per kind, shared by every controller of a process: one KV watch per
// bucket, never one per controller or per object.
import type { KindInfo, KubeObject } from "@navarch/api";
import { EVENT_TTL_MS, Informer, ResourceStore, type OpenOptions } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import { silentLogger, type Logger } from "./logger.js";

export interface SharedInformersOptions {
  /**
   * Bucket options per kind (replicas, max age), used when this process is the first to open it.
   * Without a maxAgeMs the kind's default applies (defaultOpenOptions: Events expire).
   */
  openOptions?: (info: KindInfo) => OpenOptions;
  /** Recent events each informer keeps for watches that resume (the gateway's NAVARCH_WATCH_HISTORY). */
  historySize?: number;
  logger?: Logger;
}

/**
 * What a bucket gets unless the caller says otherwise: the Event bucket drops entries after
 * EVENT_TTL_MS, whichever service happens to create it (the gateway opens it the same way).
 */
export function defaultOpenOptions(info: KindInfo): OpenOptions {
  return info.kind === "Event" ? { maxAgeMs: EVENT_TTL_MS } : {};
}

export class SharedInformers {
  private readonly stores = new Map<string, Promise<ResourceStore<any>>>();
  private readonly informers = new Map<string, Promise<Informer<any>>>();
  private readonly syncs: Promise<void>[] = [];
  private readonly running = new Set<Informer<any>>();
  private started = false;
  private stopped = false;
  private readonly logger: Logger;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: SharedInformersOptions = {},
  ) {
    this.logger = opts.logger ?? silentLogger;
  }

  /** The kind's store, opening (and on first use creating) its bucket once. */
  store<T extends KubeObject>(info: KindInfo<T>): Promise<ResourceStore<T>> {
    let s = this.stores.get(info.kind);
    if (!s) {
      const given = this.opts.openOptions?.(info as KindInfo) ?? {};
      const defaults = defaultOpenOptions(info as KindInfo);
      s = ResourceStore.open(this.nc, info, { ...defaults, ...given, maxAgeMs: given.maxAgeMs ?? defaults.maxAgeMs });
      this.stores.set(info.kind, s);
      s.catch(() => this.stores.delete(info.kind));
    }
    return s as Promise<ResourceStore<T>>;
  }

  /** The kind's informer; started at once if start() was already called. */
  informer<T extends KubeObject>(info: KindInfo<T>): Promise<Informer<T>> {
    let i = this.informers.get(info.kind);
    if (!i) {
      i = this.store(info).then((store) => {
        const informer = new Informer<T>(store, this.nc, {
          ...(this.opts.historySize !== undefined ? { historySize: this.opts.historySize } : {}),
          onWatchError: (err) => this.logger.warn({ kind: info.kind, err: String(err) }, "watch failed; retrying"),
        });
        if (this.started) this.startOne(informer);
        return informer;
      });
      this.informers.set(info.kind, i);
    }
    return i as Promise<Informer<T>>;
  }

  /** Starts every informer asked for so far; resolves once all have replayed. */
  async start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      for (const i of await Promise.all(this.informers.values())) this.startOne(i);
    }
    await Promise.all(this.syncs);
  }

  private startOne(informer: Informer<any>): void {
    if (this.running.has(informer) || this.stopped) return;
    this.running.add(informer);
    this.syncs.push(informer.start());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = await Promise.allSettled(this.informers.values());
    for (const r of all) if (r.status === "fulfilled") r.value.stop();
  }
}
