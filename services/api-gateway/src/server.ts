// The gRPC server: one service per kind (standard methods), discovery, health and reflection.
// Each handler authenticates, then delegates to ObjectsApi / WatchHub; errors become statuses.
import * as grpc from "@grpc/grpc-js";
import {
  ALL_KINDS,
  DiscoveryServiceService,
  LogServiceService,
  type DeleteRequest,
  type GetRequest,
  type KindInfo,
  type KubeObject,
  type ListRequest,
  type WatchRequest,
} from "@navarch/api";
import { HealthImplementation } from "grpc-health-check";
import type { GatewayContext } from "./context.js";
import { idempotencyKeyOf } from "./create-requests.js";
import { apiResources, version, whoAmI } from "./discovery.js";
import { addGuardedService } from "./guarded-service.js";
import { logServiceHandlers } from "./logs.js";
import { ObjectsApi } from "./objects.js";
import { addReflection } from "./reflection.js";
import { toStatus } from "./status.js";
import { WatchHub, type WatchEventOut } from "./watch.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Unary = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => void;

export interface Gateway {
  server: grpc.Server;
  health: HealthImplementation;
  watches: WatchHub;
}

export function createGateway(ctx: GatewayContext, natsServerVersion: string, clusterId = ""): Gateway {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": ctx.options.maxObjectBytes * 2,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_permit_without_calls": 1,
  });
  const watches = new WatchHub(ctx);

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const unary = <Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<any, any>) => Promise<Res>): Unary =>
    (call, callback) => {
      try {
        ctx.auth.authenticate(call.metadata);
      } catch (err) {
        callback(toStatus(err, ctx.logger));
        return;
      }
      fn(call.request as Req, call).then(
        (res) => callback(null, res),
        (err) => callback(toStatus(err, ctx.logger)),
      );
    };

  for (const info of ALL_KINDS) {
    const api = new ObjectsApi(ctx, info);
    const handlers: grpc.UntypedServiceImplementation = {
      create: unary(async (obj: KubeObject, call) => api.create(obj, idempotencyKeyOf(call.metadata))),
      get: unary((req: GetRequest) => api.get(req)),
      list: unary((req: ListRequest) => api.list(req)),
      update: unary((obj: KubeObject) => api.update(obj)),
      delete: unary((req: DeleteRequest) => api.delete(req)),
      watch: (call: grpc.ServerWritableStream<WatchRequest, WatchEventOut>) => serveWatch(ctx, watches, info, call),
    };
    addGuardedService(server, info.service, handlers, ctx.logger);
  }

  addGuardedService(server, DiscoveryServiceService, {
    getVersion: unary(async () => version(natsServerVersion, clusterId)),
    listApiResources: unary(async () => apiResources()),
    whoAmI: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      try {
        callback(null, whoAmI(ctx.auth.authenticate(call.metadata)));
      } catch (err) {
        callback(toStatus(err, ctx.logger));
      }
    },
  }, ctx.logger);

  addGuardedService(server, LogServiceService, logServiceHandlers(ctx), ctx.logger);

  const health = new HealthImplementation({ "": "NOT_SERVING" });
  health.addToServer(server);
  addReflection(server);
  return { server, health, watches };
}

function serveWatch(ctx: GatewayContext, hub: WatchHub, info: KindInfo, call: grpc.ServerWritableStream<WatchRequest, WatchEventOut>): void {
  const fail = (err: unknown) => call.emit("error", toStatus(err, ctx.logger));
  try {
    ctx.auth.authenticate(call.metadata);
  } catch (err) {
    fail(err);
    return;
  }
  hub.serve(info, call).catch(fail);
}
