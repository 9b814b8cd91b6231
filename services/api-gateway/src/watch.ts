// Watch: the current state (or the events after a resourceVersion) and then every change, from
// the informer; BOOKMARKs tell idle watchers how far they are. Replay and subscription happen in
// one synchronous step, so no event falls between them.
import * as grpc from "@grpc/grpc-js";
import { parseResourceVersion, type KindInfo, type KubeObject, type WatchRequest } from "@navarch/api";
import type { StoreEvent } from "@navarch/store";
import type { GatewayContext } from "./context.js";
import { parseSelection, selects, type Selection } from "./selection.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEventOut {
  type: WatchEventType;
  object: KubeObject;
}

/** A client this far behind is cut off (it can resume from its last resourceVersion). */
const MAX_BUFFERED_EVENTS = 20_000;

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

export class WatchHub {
  private readonly active = new Set<() => void>();

  constructor(private readonly ctx: GatewayContext) {}

  async serve(info: KindInfo, call: grpc.ServerWritableStream<WatchRequest, WatchEventOut>): Promise<void> {
    const req = call.request;
    const sel = parseSelection(info, req);
    let from: number | undefined;
    if (req.resourceVersion !== "" && req.resourceVersion !== "0") from = parseResourceVersion(req.resourceVersion, "resourceVersion");
    const informer = await this.ctx.fresh(info, from ?? 0);
    if (call.cancelled) return;

    let closed = false;
    const send = (event: WatchEventOut) => {
      if (closed) return;
      if (call.writableLength > MAX_BUFFERED_EVENTS) {
        close({ code: grpc.status.RESOURCE_EXHAUSTED, details: "watch client is too slow; watch again from the last resourceVersion it received" });
        return;
      }
      call.write(event);
    };
    // --- synchronous: replay, then subscribe ---
    const replay: WatchEventOut[] =
      from === undefined
        ? informer.list(sel.namespace).filter((o) => selects(sel, o)).map((object) => ({ type: "ADDED", object }))
        : informer.eventsSince(from).flatMap((e) => translate(sel, e) ?? []);
    const unsubscribe = informer.onEvent((e) => {
      const out = translate(sel, e);
      if (out) send(out);
    });
    for (const e of replay) send(e);
    // --- end of the synchronous part ---

    const bookmarks = req.allowWatchBookmarks
      ? setInterval(() => {
          send({ type: "BOOKMARK", object: info.codec.fromPartial({ metadata: { resourceVersion: String(informer.revision) } }) });
        }, this.ctx.options.bookmarkSeconds * 1000)
      : undefined;

    const close = (status?: Partial<grpc.StatusObject>) => {
      if (closed) return;
      closed = true;
      unsubscribe();
      if (bookmarks) clearInterval(bookmarks);
      this.active.delete(stop);
      if (status) call.emit("error", status);
      else if (!call.cancelled) call.end();
    };
    const stop = () => close();
    this.active.add(stop);
    call.on("cancelled", stop);
    call.on("close", stop);
    call.on("error", stop);
  }

  /** Ends every open watch (the gateway is shutting down); clients re-watch elsewhere. */
  closeAll(): void {
    for (const stop of [...this.active]) stop();
  }
}
