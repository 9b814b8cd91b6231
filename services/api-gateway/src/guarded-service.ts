// Every service the gateway serves is added through here, so that the two ends grpc-js handles
// on its own give precise statuses:
// - A request that is not valid protobuf made grpc-js answer INTERNAL "Error deserializing
//   request". The deserializer here never throws: it hands the handler a MalformedRequest, and
//   the handler answers INVALID_ARGUMENT (it is the client's fault, and nothing was read).
// - A response that cannot be serialized (a value of the wrong type) made grpc-js answer INTERNAL
//   "Error serializing response" with nothing in the log. Unary responses are serialized here,
//   in the handler, so the status and the log say which object could not be encoded.
import * as grpc from "@grpc/grpc-js";
import { clip, InvalidError, type KubeObject } from "@navarch/api";
import type { Logger } from "@navarch/config";
import { toStatus } from "./status.js";

/** What a handler gets in place of a request that could not be deserialized. */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

function malformed(request: unknown): InvalidError | undefined {
  if (!(request instanceof MalformedRequest)) return undefined;
  return InvalidError.at("", `malformed request: not a valid protobuf message (${request.reason})`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandler = (...args: any[]) => void;

export function addGuardedService(server: grpc.Server, definition: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation, logger: Logger): void {
  const guarded: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const handlers: Record<string, AnyHandler> = {};
  for (const [name, method] of Object.entries(definition)) {
    const m = method as grpc.MethodDefinition<unknown, unknown>;
    guarded[name] = {
      ...m,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return m.requestDeserialize(bytes);
        } catch (err) {
          return new MalformedRequest(clip((err as Error).message, 120));
        }
      },
      // Bytes are passed through: unary handlers serialize below, and a watch encodes each event
      // once, when it is queued, so that the bytes it holds are known (watch.ts).
      responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : m.responseSerialize(value)),
    };
    const handler = impl[name] as AnyHandler | undefined;
    if (!handler) continue;
    if (m.requestStream || m.responseStream) {
      // Streams: refuse a malformed first request; each streamed message is serialized by grpc-js.
      handlers[name] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const bad = malformed(call.request);
        if (bad) call.emit("error", toStatus(bad, logger));
        else handler(call);
      };
      continue;
    }
    handlers[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const bad = malformed(call.request);
      if (bad) {
        callback(toStatus(bad, logger) as grpc.ServiceError);
        return;
      }
      handler(call, (err: grpc.ServiceError | null, res?: unknown) => {
        if (err || res === undefined) {
          callback(err, res);
          return;
        }
        try {
          callback(null, m.responseSerialize(res));
        } catch (serr) {
          const what = describe(res, m.responseSerialize);
          logger.error({ err: serr, method: m.path, object: what }, "cannot serialize a response");
          callback({ code: grpc.status.INTERNAL, details: clip(`cannot serialize the response (${what}): ${(serr as Error).message}`, 512) } as grpc.ServiceError);
        }
      });
    };
  }
  server.addService(guarded, handlers);
}

/** Which object (for a list: which item) a response that fails to serialize is about. */
function describe(res: unknown, serialize: (value: unknown) => Buffer): string {
  const items = (res as { items?: KubeObject[] }).items;
  const name = (o: KubeObject | undefined) => `${o?.kind ?? "object"} ${o?.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o?.metadata?.name ?? "?"}`;
  if (!Array.isArray(items)) return name(res as KubeObject);
  // Only on this failure path: find the first item that fails alone.
  for (const item of items) {
    try {
      serialize({ ...(res as object), items: [item] });
    } catch {
      return `item ${name(item)} of a list of ${items.length}`;
    }
  }
  return `a list of ${items.length}`;
}
