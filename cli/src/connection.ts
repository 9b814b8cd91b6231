// Where navctl talks to: resolves server/token/namespace (flags > env > config file), makes the
// gRPC clients with the bearer token, turns callbacks into promises and gRPC statuses into the
// one-line messages kubectl users know.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import * as grpc from "@grpc/grpc-js";
import {
  DeleteRequest,
  DiscoveryServiceClient,
  GetRequest,
  ListRequest,
  WatchRequest,
  type KindInfo,
  type KubeObject,
} from "@navarch/api";
import { clientConfigPath, navarchHome, readClientConfig, type ClientConfig } from "@navarch/config";
import { CliError } from "./errors.js";
import { resourceRef } from "./resources.js";

/** Deadline of every unary call. */
export const CALL_TIMEOUT_MS = 10_000;

/**
 * Waits before each retry of a create whose outcome was not seen (docs/api-retries.md): about
 * 15 s in all, long enough for a restarted gateway, bounded so a dead one fails clearly.
 */
const CREATE_RETRY_DELAYS_MS = [200, 500, 1_000, 2_000, 4_000, 8_000];
/** The gRPC metadata the gateway reads the key from. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";

/**
 * A call the server refused by a per-client limit (RESOURCE_EXHAUSTED with a `retry-after-ms`
 * trailer: nothing was done, so the same call is safe to repeat) is retried after the hint, at
 * most this many times and never waiting longer than RETRY_AFTER_CAP_MS at once.
 */
export const MAX_LIMIT_RETRIES = 5;
const RETRY_AFTER_CAP_MS = 10_000;

/** The server's retry hint of a refusal by a limit, in ms; undefined if it is not one. */
export function retryAfterMs(err: { code?: number; metadata?: grpc.Metadata }): number | undefined {
  if (err.code !== grpc.status.RESOURCE_EXHAUSTED) return undefined;
  const raw = err.metadata?.get("retry-after-ms")[0];
  const ms = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
  return Number.isFinite(ms) ? Math.min(ms, RETRY_AFTER_CAP_MS) : undefined;
}

export interface GlobalOptions {
  server?: string | undefined;
  token?: string | undefined;
  namespace?: string | undefined;
  config?: string | undefined;
}

export interface Settings {
  server: string;
  token: string;
  /** The namespace commands use when none is given on an object. */
  namespace: string;
  /** Whether -n was given (then a manifest naming another namespace is refused). */
  namespaceExplicit: boolean;
  configPath: string;
}

/** Flags override env (NAVARCH_SERVER, NAVARCH_TOKEN), which override the config file. */
export function resolveSettings(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  const configPath = opts.config ?? clientConfigPath(navarchHome(env));
  const server = nonEmpty(opts.server) ?? nonEmpty(env.NAVARCH_SERVER);
  const token = nonEmpty(opts.token) ?? nonEmpty(env.NAVARCH_TOKEN);
  let file: ClientConfig | undefined;
  if (server === undefined || token === undefined) {
    try {
      file = readClientConfig(configPath);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  } else if (fs.existsSync(configPath)) {
    try {
      file = readClientConfig(configPath);
    } catch {
      // Server and token are given; the file could only add a default namespace.
    }
  }
  const namespace = nonEmpty(opts.namespace);
  return {
    server: server ?? file!.server,
    token: token ?? file!.token,
    namespace: namespace ?? file?.namespace ?? "default",
    namespaceExplicit: namespace !== undefined,
    configPath,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/** A failed call, with its gRPC code kept so callers can branch on NOT_FOUND, ABORTED, ... */
export class ApiError extends CliError {
  override name = "ApiError";
  constructor(
    message: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(message);
  }
}

/** What a call was about, so NOT_FOUND can say `configmaps "x" not found`. */
export interface CallContext {
  server: string;
  info?: KindInfo | undefined;
  name?: string | undefined;
  /** Get, Update and Delete name an object that must exist; Create and List do not. */
  namesExisting?: boolean | undefined;
}

const UNREACHABLE = /No connection established|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|Name resolution failed|Connection dropped|failed to connect/i;

/** The message for a gRPC status, worded as kubectl words the same failure. */
export function grpcErrorMessage(err: { code?: number; details?: string; message?: string }, ctx: CallContext): string {
  const details = (err.details ?? err.message ?? "").split("\n")[0]!.trim();
  const what = ctx.info && ctx.name ? `${resourceRef(ctx.info)} "${ctx.name}"` : undefined;
  switch (err.code) {
    case grpc.status.NOT_FOUND:
      return what && ctx.namesExisting ? `${what} not found` : details || "not found";
    case grpc.status.ALREADY_EXISTS:
      return what ? `${what} already exists` : details || "already exists";
    case grpc.status.ABORTED:
      return what
        ? `Operation cannot be fulfilled on ${what}: ${details || "the object has been modified; please apply your changes to the latest version and try again"}`
        : details || "conflict: the object has been modified";
    case grpc.status.INVALID_ARGUMENT:
      return details || "invalid argument";
    case grpc.status.UNAUTHENTICATED:
      if (!details || /^unauthenticated$/i.test(details)) return "unauthenticated: invalid or missing token";
      return /^unauthenticated/i.test(details) ? details : `unauthenticated: ${details}`;
    case grpc.status.PERMISSION_DENIED:
      return /^forbidden/i.test(details) ? details : `forbidden: ${details || "permission denied"}`;
    case grpc.status.UNAVAILABLE:
      return !details || UNREACHABLE.test(details)
        ? `the server at ${ctx.server} is not reachable`
        : `the server at ${ctx.server} is unavailable: ${details}`;
    case grpc.status.DEADLINE_EXCEEDED:
      return `the server at ${ctx.server} did not answer within ${CALL_TIMEOUT_MS / 1000}s`;
    case grpc.status.UNIMPLEMENTED:
      return `the server at ${ctx.server} does not support this request${details ? `: ${details}` : ""}`;
    case grpc.status.CANCELLED:
      return "the request was cancelled";
    case grpc.status.INTERNAL:
      return `internal error on the server: ${details}`;
    default:
      return details || `request failed with gRPC status ${err.code ?? "unknown"}`;
  }
}

export function toApiError(err: unknown, ctx: CallContext): ApiError {
  const e = err as grpc.ServiceError;
  return new ApiError(grpcErrorMessage(e, ctx), e.code ?? grpc.status.UNKNOWN, e.details ?? "");
}

export interface ListOptions {
  namespace: string;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Page size; 0 asks for everything at once. */
  chunkSize?: number | undefined;
}

export interface WatchOptions {
  namespace: string;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  resourceVersion?: string | undefined;
  allowWatchBookmarks?: boolean | undefined;
}

function isLoopback(server: string): boolean {
  const host = server.replace(/^dns:\/\/\/?/, "").replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyClient = any;

export class Connection {
  private channel: grpc.Channel | undefined;
  private readonly clients = new Map<string, AnyClient>();

  constructor(readonly settings: Settings) {}

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata({ waitForReady: false });
    md.set("authorization", `Bearer ${this.settings.token}`);
    return md;
  }

  private getChannel(): grpc.Channel {
    // grpc-js honours http_proxy; a cluster on this machine must not be reached through it.
    const options = isLoopback(this.settings.server) ? { "grpc.enable_http_proxy": 0 } : {};
    this.channel ??= new grpc.Channel(this.settings.server, grpc.credentials.createInsecure(), options);
    return this.channel;
  }

  private clientFor(key: string, ctor: new (address: string, creds: grpc.ChannelCredentials, options?: any) => AnyClient): AnyClient {
    let client = this.clients.get(key);
    if (!client) {
      client = new ctor(this.settings.server, grpc.credentials.createInsecure(), { channelOverride: this.getChannel() });
      this.clients.set(key, client);
    }
    return client;
  }

  kindClient(info: KindInfo): AnyClient {
    return this.clientFor(info.kind, info.client);
  }

  discovery(): DiscoveryServiceClient {
    return this.clientFor("$discovery", DiscoveryServiceClient) as DiscoveryServiceClient;
  }

  /**
   * One unary call with the auth metadata and the deadline; failures become ApiError. A refusal
   * by the server's rate limit is retried after its hint (bounded: MAX_LIMIT_RETRIES).
   */
  async call<T>(client: AnyClient, method: string, request: unknown, ctx: Omit<CallContext, "server"> = {}, md = this.metadata()): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<T>((resolve, reject) => {
          const options: Partial<grpc.CallOptions> = { deadline: Date.now() + CALL_TIMEOUT_MS };
          client[method](request, md, options, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
        });
      } catch (err) {
        const wait = retryAfterMs(err as grpc.ServiceError);
        if (wait === undefined || attempt >= MAX_LIMIT_RETRIES) throw toApiError(err, { ...ctx, server: this.settings.server });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  get(info: KindInfo, namespace: string, name: string): Promise<KubeObject> {
    const req = GetRequest.fromPartial({ namespace: info.namespaced ? namespace : "", name });
    return this.call(this.kindClient(info), "get", req, { info, name, namesExisting: true });
  }

  /**
   * Creates with an idempotency key, and retries with the same key while the outcome is unknown
   * (UNAVAILABLE: the gateway went away or restarted; DEADLINE_EXCEEDED): the gateway answers a
   * retry of a create that was in fact stored with the stored object, never ALREADY_EXISTS.
   */
  async create(info: KindInfo, obj: KubeObject): Promise<KubeObject> {
    const md = this.metadata();
    md.set(IDEMPOTENCY_KEY_HEADER, randomUUID());
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call(this.kindClient(info), "create", obj, { info, name: obj.metadata?.name }, md);
      } catch (err) {
        const unknownOutcome = err instanceof ApiError && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED);
        if (!unknownOutcome || attempt >= CREATE_RETRY_DELAYS_MS.length) throw err;
        await new Promise((r) => setTimeout(r, CREATE_RETRY_DELAYS_MS[attempt]));
      }
    }
  }

  update(info: KindInfo, obj: KubeObject): Promise<KubeObject> {
    return this.call(this.kindClient(info), "update", obj, { info, name: obj.metadata?.name, namesExisting: true });
  }

  delete(info: KindInfo, req: Partial<DeleteRequest> & { name: string }): Promise<KubeObject> {
    const full = DeleteRequest.fromPartial({ ...req, namespace: info.namespaced ? (req.namespace ?? "") : "" });
    return this.call(this.kindClient(info), "delete", full, { info, name: req.name, namesExisting: true });
  }

  /** One page. */
  listPage(info: KindInfo, opts: ListOptions, cont: string, limit: number): Promise<{ metadata?: { resourceVersion: string; continue: string }; items: KubeObject[] }> {
    const req = ListRequest.fromPartial({
      namespace: info.namespaced ? opts.namespace : "",
      labelSelector: opts.labelSelector ?? "",
      fieldSelector: opts.fieldSelector ?? "",
      limit,
      continue: cont,
    });
    return this.call(this.kindClient(info), "list", req, { info });
  }

  /** Every matching object, paging through with `continue` until the last page. */
  async list(info: KindInfo, opts: ListOptions): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const limit = opts.chunkSize ?? 500;
    const items: KubeObject[] = [];
    let cont = "";
    let resourceVersion = "";
    for (let page = 0; ; page++) {
      const res = await this.listPage(info, opts, cont, limit);
      items.push(...(res.items ?? []));
      if (page === 0) resourceVersion = res.metadata?.resourceVersion ?? "";
      cont = res.metadata?.continue ?? "";
      if (!cont || limit <= 0) break;
    }
    return { items, resourceVersion };
  }

  /** A watch stream (no deadline); 'data' events are `{type, object}`. */
  watch(info: KindInfo, opts: WatchOptions): grpc.ClientReadableStream<{ type: string; object?: KubeObject }> {
    const req = WatchRequest.fromPartial({
      namespace: info.namespaced ? opts.namespace : "",
      labelSelector: opts.labelSelector ?? "",
      fieldSelector: opts.fieldSelector ?? "",
      resourceVersion: opts.resourceVersion ?? "",
      allowWatchBookmarks: opts.allowWatchBookmarks ?? false,
    });
    return this.kindClient(info).watch(req, this.metadata());
  }

  close(): void {
    this.clients.clear();
    this.channel?.close();
    this.channel = undefined;
  }
}
