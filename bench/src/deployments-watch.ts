// What the deployment benchmark observes through the API, as a client (kubectl rollout status, a
// dashboard) would: a Watch of one kind in one namespace, the latest object per name, every change
// stamped with the wall clock, and waits for a condition over the whole set.
import * as grpc from "@grpc/grpc-js";
import { WatchRequest, type KindInfo, type KubeObject } from "@navarch/api";
import type { Clock } from "./docker.js";

export class ObjectWatch<T extends KubeObject> {
  readonly objects = new Map<string, T>();
  private readonly client: grpc.Client;
  private call: grpc.ClientReadableStream<{ type: string; object?: T }> | undefined;
  private listeners = new Set<(at: number) => void>();
  private failure: Error | undefined;
  private closing = false;

  constructor(
    addr: string,
    private readonly token: string,
    private readonly info: KindInfo<T>,
    private readonly namespace: string,
    private readonly clock: Clock,
  ) {
    this.client = new grpc.Client(addr, grpc.credentials.createInsecure(), { "grpc.enable_http_proxy": 0, "grpc.max_receive_message_length": -1 });
  }

  start(): void {
    const def = this.info.service.watch!;
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${this.token}`);
    this.call = this.client.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize as (b: Buffer) => { type: string; object?: T },
      WatchRequest.fromPartial({ namespace: this.namespace }),
      md,
      {},
    );
    this.call.on("data", (ev: { type: string; object?: T }) => {
      const at = this.clock();
      const name = ev.object?.metadata?.name;
      if (!name || ev.type === "BOOKMARK") return;
      if (ev.type === "DELETED") this.objects.delete(name);
      else this.objects.set(name, ev.object!);
      for (const l of this.listeners) l(at);
    });
    this.call.on("error", (err: Error) => {
      if (!this.closing) this.failure = err;
    });
  }

  /** Calls fn(at) after every change; returns the unsubscribe. */
  onChange(fn: (at: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves with the wall-clock time of the first change after which `cond` holds (now, if it already does). */
  until(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
    if (cond()) return Promise.resolve(this.clock());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${what}: not within ${timeoutMs} ms${this.failure ? ` (watch failed: ${this.failure.message})` : ""}`));
      }, timeoutMs);
      const off = this.onChange((at) => {
        if (!cond()) return;
        clearTimeout(timer);
        off();
        resolve(at);
      });
    });
  }

  /** Throws if the watch broke (its figures would be missing events). */
  check(): void {
    if (this.failure) throw new Error(`${this.info.kind} watch failed: ${this.failure.message}`);
  }

  close(): void {
    this.closing = true;
    this.call?.cancel();
    this.client.close();
  }
}
