// The bench's gRPC client: a small pool of channels to one kind's service, used round-robin.
//
// Requests are built with the codecs' fromPartial (the ts-proto encoders need every field set)
// and serialized by the generated service definition, as any client does. Responses are kept as
// bytes: decoding them is the client's cost, not the server's, and on this 2-core machine it
// would take CPU from the server under test (decoding 10,000 ConfigMaps takes tens of ms). The
// bench checks what it needs from the wire instead (countItems) and reports the decode cost of a
// large List once, separately (decodeList).
import * as grpc from "@grpc/grpc-js";
import { GetRequest, KINDS, ListRequest, type ConfigMap, type KindInfo } from "@navarch/api";

const CALL_TIMEOUT_MS = 10_000;

/**
 * The client's HTTP/2 receive window. grpc-js keeps Node's default of 64 KiB per stream, so a
 * List response of a few hundred KiB waits for WINDOW_UPDATEs from this (busy) process: measured,
 * lists with limit 500 at 8 in flight went from ~250-320/s to ~370-440/s with 8 MiB. The bench
 * should measure the server, not that stall.
 */
const FLOW_CONTROL_WINDOW = 8 * 1024 * 1024;

type Method = "create" | "get" | "list" | "delete";

export class ClientPool {
  private readonly clients: grpc.Client[];
  private next = 0;
  private readonly md: grpc.Metadata;
  private readonly service: grpc.ServiceDefinition;

  /**
   * `channels` separate HTTP/2 connections (grpc.use_local_subchannel_pool: otherwise grpc-js
   * shares one subchannel among clients with the same target and options).
   */
  constructor(addr: string, token: string, kind: KindInfo, channels: number) {
    const options: grpc.ChannelOptions = {
      "grpc.enable_http_proxy": 0, // our traffic stays on 127.0.0.1
      "grpc.max_receive_message_length": -1, // a full List of every object is larger than 4 MiB
      "grpc.use_local_subchannel_pool": 1,
      "grpc-node.flow_control_window": FLOW_CONTROL_WINDOW,
    };
    this.service = kind.service;
    this.clients = Array.from({ length: Math.max(1, channels) }, () => new grpc.Client(addr, grpc.credentials.createInsecure(), options));
    this.md = new grpc.Metadata();
    this.md.set("authorization", `Bearer ${token}`);
  }

  get size(): number {
    return this.clients.length;
  }

  /** Waits until every channel is connected. */
  async ready(timeoutMs = 10_000): Promise<void> {
    await Promise.all(
      this.clients.map(
        (c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + timeoutMs, (err?: Error) => (err ? reject(err) : resolve()))),
      ),
    );
  }

  /** One unary call; resolves with the response's bytes. */
  call(method: Method, request: unknown): Promise<Buffer> {
    const def = this.service[method]!;
    const c = this.clients[this.next]!;
    this.next = (this.next + 1) % this.clients.length;
    return new Promise((resolve, reject) => {
      c.makeUnaryRequest(def.path, def.requestSerialize, rawBytes, request, this.md, { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) =>
        err ? reject(err) : resolve(res!),
      );
    });
  }

  /** The service's own decoder of a List response (for the one-off decode measurement). */
  decodeList(bytes: Buffer): { items: unknown[] } {
    return this.service.list!.responseDeserialize(bytes) as { items: unknown[] };
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

function rawBytes(b: Buffer): Buffer {
  return b;
}

/** Creates `obj`, a message already built with its codec's fromPartial. */
export function create(pool: ClientPool, obj: unknown): Promise<Buffer> {
  return pool.call("create", obj);
}

export async function get(pool: ClientPool, namespace: string, name: string): Promise<Buffer> {
  const res = await pool.call("get", GetRequest.fromPartial({ namespace, name }));
  if (res.length === 0) throw new Error(`get ${namespace}/${name}: empty response`);
  return res;
}

export function list(pool: ClientPool, namespace: string, limit: number): Promise<Buffer> {
  return pool.call("list", ListRequest.fromPartial({ namespace, limit }));
}

/** `items` is field 4 of every generated <Kind>List message (apiVersion 1, kind 2, metadata 3). */
const LIST_ITEMS_FIELD = 4;

/**
 * How many items a serialized <Kind>List holds, read from the wire without decoding them: walks
 * the top-level fields and counts field 4. Throws on bytes that are not a well-formed message.
 */
export function countItems(bytes: Uint8Array): number {
  let pos = 0;
  let count = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new Error("truncated varint in List response");
      const b = bytes[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
      if (shift > 63) throw new Error("bad varint in List response");
    }
  };
  while (pos < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        varint();
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = varint();
        pos += len;
        if (field === LIST_ITEMS_FIELD) count++;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unexpected wire type ${tag & 7} in List response`);
    }
    if (pos > bytes.length) throw new Error("truncated List response");
  }
  return count;
}

/** The data of every bench ConfigMap: one key, 200 bytes. */
const PAYLOAD = "0123456789abcdefghijklmnopqrstuvwxyz".repeat(6).slice(0, 200);

export function configMap(namespace: string, name: string): ConfigMap {
  return KINDS.ConfigMap.codec.fromPartial({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace, name, labels: { app: "navarch-bench" } },
    data: { payload: PAYLOAD },
  });
}
