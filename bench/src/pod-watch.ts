// What the pod benchmark observes of Navarch, each observation stamped with a wall clock:
//   - PodWatch: the API's PodService.Watch, as a client sees it (the figure that counts);
//   - StoreTimeline: the NATS KV buckets underneath (the embedded nats-server has no auth), with
//     the server's own timestamps: navarch-node-pods (the projection the node agent watches),
//     navarch-pod-status (the agent's reports) and navarch-pods (where the status folder writes).
//     They say where between Create and the watch the time goes.
import * as grpc from "@grpc/grpc-js";
import { KINDS, WatchRequest, type Pod, type PodWatchEvent } from "@navarch/api";
import { Kvm, type KvWatchEntry } from "@nats-io/kv";
import { bucketName, connectNats, NODE_PODS_BUCKET, POD_STATUS_BUCKET } from "@navarch/store";
import type { Clock } from "./docker.js";

/** The facts of a pod status the bench judges. */
export interface PodState {
  at: number;
  phase: string;
  ready: boolean;
  running: boolean;
  restartCount: number;
  deleted: boolean;
}

export function stateOf(status: { phase?: string; containerStatuses?: { ready?: boolean; restartCount?: number; state?: { running?: unknown } }[] } | undefined, at: number, deleted = false): PodState {
  const c = status?.containerStatuses?.[0];
  return {
    at,
    phase: status?.phase ?? "",
    ready: c?.ready === true,
    running: !!c?.state?.running,
    restartCount: c?.restartCount ?? 0,
    deleted,
  };
}

/** Running with its (one) container running and ready. */
export const isRunning = (s: PodState) => !s.deleted && s.phase === "Running" && s.running && s.ready;

type Pred = (s: PodState) => boolean;

/** Per pod name, every state observed, in order; waiters are checked on every observation. */
export class History {
  readonly byName = new Map<string, PodState[]>();
  private waiters = new Set<{ name: string; pred: Pred; resolve: (s: PodState) => void }>();

  add(name: string, s: PodState): void {
    let list = this.byName.get(name);
    if (!list) this.byName.set(name, (list = []));
    list.push(s);
    for (const w of this.waiters) {
      if (w.name === name && w.pred(s)) {
        this.waiters.delete(w);
        w.resolve(s);
      }
    }
  }

  /** When `name` first matched pred (undefined: not yet). */
  first(name: string, pred: Pred): PodState | undefined {
    return this.byName.get(name)?.find(pred);
  }

  waitFor(name: string, pred: Pred, timeoutMs: number, what: string): Promise<PodState> {
    const seen = this.first(name, pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        name,
        pred,
        resolve: (s: PodState) => {
          clearTimeout(t);
          resolve(s);
        },
      };
      const t = setTimeout(() => {
        this.waiters.delete(w);
        const last = this.byName.get(name)?.at(-1);
        reject(new Error(`${what}: not within ${timeoutMs} ms (last seen: ${last ? JSON.stringify(last) : "nothing"})`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }
}

/** PodService.Watch on one namespace; every event decoded (the client's cost, a few hundred events). */
export class PodWatch {
  readonly history = new History();
  private readonly client: grpc.Client;
  private call: grpc.ClientReadableStream<PodWatchEvent> | undefined;
  private failure: Error | undefined;
  private closing = false;

  constructor(
    addr: string,
    private readonly token: string,
    private readonly namespace: string,
    private readonly clock: Clock,
  ) {
    this.client = new grpc.Client(addr, grpc.credentials.createInsecure(), { "grpc.enable_http_proxy": 0 });
  }

  start(): void {
    const def = KINDS.Pod.service.watch!;
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${this.token}`);
    this.call = this.client.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize as (b: Buffer) => PodWatchEvent,
      WatchRequest.fromPartial({ namespace: this.namespace }),
      md,
      {},
    );
    this.call.on("data", (ev: PodWatchEvent) => {
      const at = this.clock();
      const pod: Pod | undefined = ev.object;
      const name = pod?.metadata?.name;
      if (!name || ev.type === "BOOKMARK") return;
      this.history.add(name, stateOf(pod.status, at, ev.type === "DELETED"));
    });
    this.call.on("error", (err: Error) => {
      if (!this.closing) this.failure = err;
    });
  }

  /** Throws if the watch broke (its figures would be missing events). */
  check(): void {
    if (this.failure) throw new Error(`pod watch failed: ${this.failure.message}`);
  }

  close(): void {
    this.closing = true;
    this.call?.cancel();
    this.client.close();
  }
}

/** Watches of the KV buckets under the API, stamped with the time the server stored each entry. */
export class StoreTimeline {
  /** navarch-node-pods <node>.default.<name>: when the pod reached the node's projection. */
  readonly projected = new Map<string, number>();
  /** navarch-pod-status: the agent's reports. */
  readonly reports = new History();
  /** navarch-pods: the Pod as stored (status folded in by the pod status folder). */
  readonly stored = new History();
  private readonly closers: (() => void)[] = [];

  private constructor(private readonly close_: () => Promise<void>) {}

  static async open(natsUrl: string, node: string, namespace: string): Promise<StoreTimeline> {
    const nc = await connectNats({ url: natsUrl, name: "navarch-bench" });
    const t = new StoreTimeline(() => nc.close());
    const kvm = new Kvm(nc);
    const follow = async (bucket: string, key: string, on: (e: KvWatchEntry) => void) => {
      const kv = await kvm.open(bucket);
      const it = await kv.watch({ key });
      t.closers.push(() => it.stop());
      void (async () => {
        for await (const e of it) on(e);
      })().catch(() => undefined);
    };
    const nameOf = (key: string, prefix: string) => (key.startsWith(prefix) ? key.slice(prefix.length) : undefined);
    await follow(NODE_PODS_BUCKET, `${node}.${namespace}.>`, (e) => {
      const name = nameOf(e.key, `${node}.${namespace}.`);
      if (name && e.operation === "PUT" && !t.projected.has(name)) t.projected.set(name, e.created.getTime());
    });
    const folded = (into: History, prefix: string) => (e: KvWatchEntry) => {
      const name = nameOf(e.key, prefix);
      if (!name) return;
      if (e.operation !== "PUT") {
        into.add(name, stateOf(undefined, e.created.getTime(), true));
        return;
      }
      const obj = e.json<{ status?: Parameters<typeof stateOf>[0] }>();
      into.add(name, stateOf(obj.status, e.created.getTime()));
    };
    await follow(POD_STATUS_BUCKET, `${namespace}.>`, folded(t.reports, `${namespace}.`));
    await follow(bucketName(KINDS.Pod), `${namespace}.>`, folded(t.stored, `${namespace}.`));
    return t;
  }

  async close(): Promise<void> {
    for (const c of this.closers) c();
    await this.close_().catch(() => undefined);
  }
}
