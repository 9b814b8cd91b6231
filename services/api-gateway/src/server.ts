// The gRPC server: one service per kind (standard methods), discovery, health and reflection.
// Each handler authenticates, then delegates to ObjectsApi / WatchHub; errors become statuses.
import * as grpc from "@grpc/grpc-js";
import {
  ALL_KINDS,
  DiscoveryServiceService,
  LogServiceService,
  type DeleteRequest,
  type GetRequest,
  type KubeObject,
  type ListRequest,
} from "@navarch/api";
import type { Identity } from "@navarch/store";
import { HealthImplementation } from "grpc-health-check";
import type { GatewayContext } from "./context.js";
import { idempotencyKeyOf } from "./create-requests.js";
import { apiResources, version, whoAmI } from "./discovery.js";
import { addGuardedService } from "./guarded-service.js";
import { ClientLimits, limitStatus, resolveLimits } from "./limits.js";
import { logServiceHandlers } from "./logs.js";
import { ObjectsApi } from "./objects.js";
import { addReflection } from "./reflection.js";
import { toStatus } from "./status.js";
import { WatchHub, type WatchCall } from "./watch.js";

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
  const limits = new ClientLimits(resolveLimits(ctx.options));
  const watches = new WatchHub(ctx, limits);
  const statusOf = (err: unknown) => limitStatus(err) ?? toStatus(err, ctx.logger);
  /** Authenticates the call and takes one request from its client's rate budget. */
  const admit = (metadata: grpc.Metadata): { identity: Identity; client: string; who: string } => {
    const { identity, client } = ctx.auth.authenticateClient(metadata);
    const who = `user "${identity.username}"`;
    limits.admit(client, who);
    return { identity, client, who };
  };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const unary = <Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<any, any>, identity: Identity) => Promise<Res>): Unary =>
    (call, callback) => {
      let identity: Identity;
      try {
        identity = admit(call.metadata).identity;
      } catch (err) {
        callback(statusOf(err));
        return;
      }
      fn(call.request as Req, call, identity).then(
        (res) => callback(null, res),
        (err) => callback(statusOf(err)),
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
      watch: (call: WatchCall) => {
        const fail = (err: unknown) => call.emit("error", statusOf(err));
        try {
          const client = admit(call.metadata);
          watches.serve(info, call, client).catch(fail);
        } catch (err) {
          fail(err);
        }
      },
    };
    addGuardedService(server, info.service, handlers, ctx.logger);
  }

  addGuardedService(server, DiscoveryServiceService, {
    getVersion: unary(async () => version(natsServerVersion, clusterId)),
    listApiResources: unary(async () => apiResources()),
    whoAmI: unary(async (_req: unknown, _call, identity) => whoAmI(identity)),
  }, ctx.logger);

  addGuardedService(server, LogServiceService, logServiceHandlers(ctx), ctx.logger);

  const health = new HealthImplementation({ "": "NOT_SERVING" });
  health.addToServer(server);
  addReflection(server);
  return { server, health, watches };
}
