// LogService.StreamLogs: the gateway side of `navctl logs`. It checks the call and the pod against
// the Pod informer, asks the agent of the pod's node for the log over NATS
// (navarch.node.<nodeToken>.logs) and relays the chunks to the gRPC stream. Protocol:
// libs/store/src/node-channels.ts and docs/adr/0004-logs-over-nats.md.
//
// Flow control end to end: a chunk counts as delivered when gRPC has handed it to the client's
// HTTP/2 stream; the keepalives to <replyTo>.alive carry the delivered byte count, and the node
// never runs more than LOGS_WINDOW_BYTES ahead of it. So a slow client slows the node's reading of
// the log instead of filling the gateway's memory; a node that ignores the window is cut off with
// RESOURCE_EXHAUSTED once its client is MAX_BEHIND_BYTES behind.
import * as grpc from "@grpc/grpc-js";
import {
  clipBytes,
  InvalidError,
  KINDS,
  NotFoundError,
  PreconditionError,
  type Pod,
  type PodLogsChunk,
  type PodLogsRequest,
} from "@navarch/api";
import {
  LOGS_END_HEADER,
  LOGS_ERROR_HEADER,
  LOGS_KEEPALIVE_MS,
  LOGS_KEEPALIVE_TIMEOUT_MS,
  LOGS_OFFSET_HEADER,
  LOGS_WINDOW_BYTES,
  logsAliveSubject,
  logsCancelSubject,
  nodeLogsSubject,
  type LogsReply,
  type LogsRequest,
} from "@navarch/store";
import { createInbox, errors as natsErrors, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { GatewayContext } from "./context.js";
import { toStatus } from "./status.js";

export interface LogsOptions {
  /** How long the node agent has to answer the request. */
  requestTimeoutMs: number;
  keepaliveMs: number;
  /** A stream whose node sends nothing (not even its idle heartbeat) this long fails UNAVAILABLE. */
  nodeSilenceMs: number;
  /** Bytes received from the node and not yet delivered to the client before the stream is cut. */
  maxBehindBytes: number;
}

export const DEFAULT_LOGS_OPTIONS: LogsOptions = {
  requestTimeoutMs: 5_000,
  keepaliveMs: LOGS_KEEPALIVE_MS,
  nodeSilenceMs: LOGS_KEEPALIVE_TIMEOUT_MS,
  maxBehindBytes: 16 * 1024 * 1024,
};

/** Acknowledge delivered bytes at least this often (in bytes), besides the periodic keepalive. */
const ACK_EVERY_BYTES = LOGS_WINDOW_BYTES / 4;

type LogsCall = grpc.ServerWritableStream<PodLogsRequest, PodLogsChunk>;

/** A refusal with a gRPC code our error classes do not carry. */
class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** The LogService implementation, for server.addService(LogServiceService, ...). */
export function logServiceHandlers(ctx: GatewayContext, opts: Partial<LogsOptions> = {}): grpc.UntypedServiceImplementation {
  const api = new LogsApi(ctx, ctx.nc, { ...DEFAULT_LOGS_OPTIONS, ...opts });
  return { streamLogs: (call: LogsCall) => api.serve(call) };
}

/** Where a log comes from, once the request is checked against the pod. */
export interface LogsTarget {
  pod: Pod;
  node: string;
  container: string;
}

export class LogsApi {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly nc: NatsConnection,
    private readonly opts: LogsOptions = DEFAULT_LOGS_OPTIONS,
  ) {}

  serve(call: LogsCall): void {
    const fail = (err: unknown) => {
      if (!call.cancelled) call.emit("error", statusOf(err, this.ctx));
    };
    try {
      this.ctx.auth.authenticate(call.metadata);
    } catch (err) {
      fail(err);
      return;
    }
    this.stream(call).catch(fail);
  }

  /** Checks the request against the Pod informer: the pod, its node and the container. */
  async target(req: PodLogsRequest): Promise<LogsTarget> {
    const namespace = req.namespace || "default";
    if (!req.name) throw InvalidError.at("name", "Required value");
    const key = this.ctx.store<Pod>(KINDS.Pod).key(namespace, req.name); // refuses a bad namespace or name
    if (req.tailLines !== undefined && req.tailLines < 0) throw InvalidError.at("tailLines", "must be 0 or more");
    if (req.sinceSeconds !== undefined && req.sinceSeconds < 1) throw InvalidError.at("sinceSeconds", "must be 1 or more");
    const pods = await this.ctx.fresh<Pod>(KINDS.Pod);
    const pod = pods.getByKey(key);
    if (!pod) throw new NotFoundError(`pods "${req.name}" not found`);
    const node = pod.spec?.nodeName ?? "";
    if (!node) throw new PreconditionError(`pod ${req.name} is not scheduled yet`);
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    const initNames = (pod.spec?.initContainers ?? []).map((c) => c.name);
    const choices = `choose one of: [${names.join(" ")}]${initNames.length ? ` or one of the init containers: [${initNames.join(" ")}]` : ""}`;
    let container = req.container;
    if (!container) {
      if (names.length !== 1) {
        throw InvalidError.at("container", `a container name must be specified for pod ${req.name}, ${choices}`);
      }
      container = names[0]!;
    } else if (!names.includes(container) && !initNames.includes(container)) {
      throw InvalidError.at("container", `container ${container} is not valid for pod ${req.name}, ${choices}`);
    }
    return { pod, node, container };
  }

  private async stream(call: LogsCall): Promise<void> {
    const req = call.request;
    const { pod, node, container } = await this.target(req);
    if (call.cancelled) return;

    const replyTo = createInbox();
    const body: LogsRequest = {
      namespace: pod.metadata!.namespace,
      name: pod.metadata!.name,
      uid: pod.metadata!.uid,
      container,
      follow: req.follow,
      previous: req.previous,
      tailLines: req.tailLines,
      sinceSeconds: req.sinceSeconds,
      timestamps: req.timestamps,
      replyTo,
    };

    let accepted = false;
    let closed = false;
    let received = 0;
    let delivered = 0;
    let ackedSent = 0;
    let lastFromNode = Date.now();
    let keepalive: NodeJS.Timeout | undefined;

    const publish = (subject: string, data: string) => {
      try {
        this.nc.publish(subject, data);
      } catch {
        // NATS is gone: the node stops on its own once keepalives stop.
      }
    };
    const ack = () => {
      ackedSent = delivered;
      publish(logsAliveSubject(replyTo), String(delivered));
    };
    const close = (outcome: { status?: Partial<grpc.StatusObject>; cancelNode: boolean }) => {
      if (closed) return;
      closed = true;
      clearInterval(keepalive);
      sub.unsubscribe();
      if (outcome.cancelNode && accepted) publish(logsCancelSubject(replyTo), "");
      if (call.cancelled) return;
      if (outcome.status) call.emit("error", outcome.status);
      else call.end();
    };

    const onMessage = (msg: Msg) => {
      if (closed) return;
      lastFromNode = Date.now();
      const h = msg.headers;
      if (h?.get(LOGS_END_HEADER) === "1") {
        const error = h.get(LOGS_ERROR_HEADER);
        close({
          status: error ? { code: grpc.status.UNAVAILABLE, details: `the log stream from node ${node} failed: ${error}` } : undefined,
          cancelNode: false,
        });
        return;
      }
      const offset = Number(h?.get(LOGS_OFFSET_HEADER) ?? NaN);
      if (offset !== received) {
        close({
          status: { code: grpc.status.DATA_LOSS, details: `part of the log from node ${node} was lost in transit (expected offset ${received}, got ${offset}); read it again` },
          cancelNode: true,
        });
        return;
      }
      const n = msg.data.length;
      if (n === 0) return; // the node's idle heartbeat
      received += n;
      if (received - delivered > this.opts.maxBehindBytes) {
        close({
          status: { code: grpc.status.RESOURCE_EXHAUSTED, details: `logs client is too slow: more than ${this.opts.maxBehindBytes} bytes behind` },
          cancelNode: true,
        });
        return;
      }
      call.write({ data: Buffer.from(msg.data) }, () => {
        delivered += n;
        if (!closed && delivered - ackedSent >= ACK_EVERY_BYTES) ack();
      });
    };

    // Subscribe to the inbox before asking, so no chunk can come before we listen.
    const sub: Subscription = this.nc.subscribe(replyTo, {
      callback: (err, msg) => {
        if (err) close({ status: { code: grpc.status.UNAVAILABLE, details: `log stream subscription failed: ${err.message}` }, cancelNode: true });
        else onMessage(msg);
      },
    });
    const onGone = () => close({ cancelNode: true });
    call.on("cancelled", onGone);
    call.on("close", onGone);

    let reply: LogsReply;
    try {
      const res = await this.nc.request(nodeLogsSubject(node), JSON.stringify(body), { timeout: this.opts.requestTimeoutMs });
      reply = res.json<LogsReply>();
    } catch (err) {
      close({ cancelNode: false, status: statusOf(this.requestError(err, node), this.ctx) });
      return;
    }
    if (closed) {
      // The client went away while we waited; tell the node it can stop.
      if (reply.ok) publish(logsCancelSubject(replyTo), "");
      return;
    }
    if (!reply.ok) {
      close({ cancelNode: false, status: statusOf(this.replyError(reply, pod, container, req.previous), this.ctx) });
      return;
    }
    accepted = true;
    ack();
    keepalive = setInterval(() => {
      if (Date.now() - lastFromNode > this.opts.nodeSilenceMs) {
        close({ status: { code: grpc.status.UNAVAILABLE, details: `node ${node} stopped sending the log (no message for ${Math.round(this.opts.nodeSilenceMs / 1000)}s)` }, cancelNode: true });
        return;
      }
      ack();
    }, this.opts.keepaliveMs);
  }

  private requestError(err: unknown, node: string): Error {
    const e = err as Error & { isNoResponders?: () => boolean };
    if (err instanceof natsErrors.NoRespondersError || e.isNoResponders?.() || e.cause instanceof natsErrors.NoRespondersError) {
      return new StatusError(grpc.status.UNAVAILABLE, `node ${node} is not reachable`);
    }
    if (err instanceof natsErrors.TimeoutError || e.cause instanceof natsErrors.TimeoutError) {
      return new StatusError(grpc.status.UNAVAILABLE, `node ${node} did not answer the logs request within ${this.opts.requestTimeoutMs / 1000}s`);
    }
    return new StatusError(grpc.status.UNAVAILABLE, `asking node ${node} for the log failed: ${e.message ?? String(err)}`);
  }

  private replyError(reply: Extract<LogsReply, { ok: false }>, pod: Pod, container: string, previous: boolean): Error {
    switch (reply.code) {
      case "NotFound": {
        if (!previous) {
          // As kubectl says it: why the container has no log yet, from the pod's status.
          const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
          const reason = status?.state?.waiting?.reason;
          if (reason) return new StatusError(grpc.status.FAILED_PRECONDITION, `container "${container}" in pod "${pod.metadata!.name}" is waiting to start: ${reason}`);
        }
        return new NotFoundError(reply.message);
      }
      case "BadRequest":
        return new InvalidError([{ path: "", message: reply.message }]);
      case "TooManyRequests":
        return new StatusError(grpc.status.RESOURCE_EXHAUSTED, reply.message);
      case "Unavailable":
        return new StatusError(grpc.status.UNAVAILABLE, reply.message);
      default:
        return new StatusError(grpc.status.INTERNAL, reply.message);
    }
  }
}

function statusOf(err: unknown, ctx: GatewayContext): Partial<grpc.StatusObject> {
  if (err instanceof StatusError) return { code: err.code, details: clipBytes(err.message) };
  return toStatus(err, ctx.logger);
}
