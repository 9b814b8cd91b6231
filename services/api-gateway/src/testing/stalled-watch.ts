// A watch client that stops reading, for tests and measurements. A grpc-js client that is not
// read still takes every message off the connection (it buffers them itself, without bound), so
// it cannot show what a slow reader costs the server; this one speaks HTTP/2 directly and
// pauses its stream, so the server's writes stop at the HTTP/2 flow-control window.
import http2 from "node:http2";
import { WatchRequest, type KindInfo } from "@navarch/api";

export interface StalledWatch {
  /** Starts reading: buffered events are taken, and the status follows if the call ended. */
  read(): void;
  /** Messages received so far (counted only while reading). */
  readonly received: number;
  /** The events received so far, decoded. */
  readonly events: { type: string; object: { metadata?: { name?: string; resourceVersion?: string } } }[];
  /** The status: code and message, once the call has ended (or the stream closed: code -1). */
  status: Promise<{ code: number; details: string }>;
  cancel(): void;
}

export function stalledWatch(address: string, info: KindInfo, token: string, req: Partial<WatchRequest>): StalledWatch {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => undefined);
  const path = (info.service as unknown as { watch: { path: string } }).watch.path;
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${token}` });
  const body = Buffer.from(WatchRequest.encode(WatchRequest.fromPartial(req)).finish());
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  stream.end(frame);
  stream.pause();
  let received = 0;
  const events: StalledWatch["events"][number][] = [];
  const decode = (info.service as unknown as { watch: { responseDeserialize: (b: Buffer) => StalledWatch["events"][number] } }).watch.responseDeserialize;
  let pending = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const end = 5 + pending.readUInt32BE(1);
      events.push(decode(Buffer.from(pending.subarray(5, end))));
      pending = pending.subarray(end);
      received++;
    }
  });
  const status = new Promise<{ code: number; details: string }>((resolve) => {
    const fromHeaders = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) resolve({ code: Number(h["grpc-status"]), details: decodeURIComponent(String(h["grpc-message"] ?? "")) });
    };
    stream.on("response", fromHeaders);
    stream.on("trailers", fromHeaders);
    stream.on("close", () => {
      resolve({ code: -1, details: "stream closed without a status" });
      session.close();
    });
    stream.on("error", () => undefined);
  });
  return {
    read: () => stream.resume(),
    get received() {
      return received;
    },
    events,
    status,
    cancel: () => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
    },
  };
}
