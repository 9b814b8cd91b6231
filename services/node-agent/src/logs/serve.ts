// The node side of `navctl logs`: answers log requests on navarch.node.<nodeToken>.logs and
// streams a container's log from the runtime to the requester's inbox (protocol in
// libs/store/src/node-channels.ts and docs/adr/0004-logs-over-nats.md).
//
// One stream, in order:
//   1. request {namespace, name, uid, container, follow, previous, tailLines, sinceSeconds,
//      timestamps, replyTo} -> find the container (findContainer) -> subscribe <replyTo>.* ->
//      answer {ok: true} (or {ok: false, code, message} and stop there).
//   2. runtime.logs(...) -> data messages to replyTo (<= 64 KiB, header Navarch-Logs-Offset), never
//      more than LOGS_WINDOW_BYTES past what the gateway acknowledged in its keepalives; an empty
//      data message every keepalive interval while nothing else is sent (the gateway's liveness
//      check of the node).
//   3. an empty message with Navarch-Logs-End: 1 (and Navarch-Logs-Error: <text> after a failure).
// A stream stops when the log ends, on <replyTo>.cancel, after LOGS_KEEPALIVE_TIMEOUT_MS without a
// keepalive, when `signal` aborts, or when publishing fails. Memory per stream is bounded: at most
// MAX_QUEUED_BYTES read from the runtime and not yet published.
import type { Logger } from "@navarch/config";
import type { ContainerRuntime, ContainerStatus } from "@navarch/runtime";
import {
  LOGS_CHUNK_BYTES,
  LOGS_END_HEADER,
  LOGS_ERROR_HEADER,
  LOGS_KEEPALIVE_MS,
  LOGS_KEEPALIVE_TIMEOUT_MS,
  LOGS_OFFSET_HEADER,
  LOGS_WINDOW_BYTES,
  nodeLogsSubject,
  type LogsErrorCode,
  type LogsReply,
  type LogsRequest,
} from "@navarch/store";
import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";

/** The runtime id of the container whose log is asked for, or undefined when there is none. */
export type FindContainer = (
  namespace: string,
  name: string,
  uid: string,
  container: string,
  previous: boolean,
) => Promise<string | undefined> | string | undefined;

export interface ServeLogsOptions {
  nc: NatsConnection;
  node: string;
  runtime: ContainerRuntime;
  logger: Logger;
  /** Aborting it stops serving and ends every open stream. */
  signal: AbortSignal;
  /** Defaults to defaultFindContainer(runtime, node) (the runtime's container list and labels). */
  findContainer?: FindContainer | undefined;
  /** Streams served at once; more are refused with TooManyRequests. Default 64. */
  maxStreams?: number | undefined;
  /** Tests shorten these; the defaults are the protocol's. */
  keepaliveMs?: number | undefined;
  keepaliveTimeoutMs?: number | undefined;
  windowBytes?: number | undefined;
}

export interface LogsServer {
  /** Streams open now. */
  readonly active: number;
  /** Stops serving and ends every open stream (as aborting `signal` does). */
  stop(): Promise<void>;
}

/** Log read from the runtime but not yet published, per stream, before reading pauses. */
const MAX_QUEUED_BYTES = 2 * LOGS_CHUNK_BYTES;
const DEFAULT_MAX_STREAMS = 64;
/** Subject characters the reply inbox may use: plain tokens, no wildcards. */
const SUBJECT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

class RequestError extends Error {
  constructor(
    readonly code: LogsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves log requests for `node` until `signal` aborts. Resolves once the subscription is
 * registered with the server (a request sent afterwards reaches it).
 */
export async function serveLogs(opts: ServeLogsOptions): Promise<LogsServer> {
  const { nc, node, runtime, logger, signal } = opts;
  const findContainer = opts.findContainer ?? defaultFindContainer(runtime, node);
  const maxStreams = opts.maxStreams ?? DEFAULT_MAX_STREAMS;
  const timing = {
    keepaliveMs: opts.keepaliveMs ?? LOGS_KEEPALIVE_MS,
    keepaliveTimeoutMs: opts.keepaliveTimeoutMs ?? LOGS_KEEPALIVE_TIMEOUT_MS,
    windowBytes: opts.windowBytes ?? LOGS_WINDOW_BYTES,
  };
  const streams = new Set<LogStream>();
  /** Requests between the limit check and their stream (finding the container). */
  let starting = 0;
  let stopped = false;

  const reply = (msg: Msg, r: LogsReply) => {
    try {
      msg.respond(JSON.stringify(r));
    } catch (err) {
      logger.warn({ err }, "logs: could not answer a request");
    }
  };

  const handle = async (msg: Msg) => {
    if (!msg.reply) return;
    let req: LogsRequest;
    try {
      req = parseRequest(msg.data);
    } catch (err) {
      reply(msg, { ok: false, code: "BadRequest", message: (err as Error).message });
      return;
    }
    if (stopped) {
      reply(msg, { ok: false, code: "Unavailable", message: `the node agent of ${node} is shutting down` });
      return;
    }
    if (streams.size + starting >= maxStreams) {
      reply(msg, { ok: false, code: "TooManyRequests", message: `node ${node} is serving ${maxStreams} log streams, the most it serves at once; try again later` });
      return;
    }
    let id: string | undefined;
    starting++;
    try {
      id = await findContainer(req.namespace, req.name, req.uid, req.container, req.previous);
    } catch (err) {
      logger.warn({ err, pod: `${req.namespace}/${req.name}`, container: req.container }, "logs: finding the container failed");
      reply(msg, { ok: false, code: "Unavailable", message: `the container runtime of node ${node} failed: ${(err as Error).message}` });
      return;
    } finally {
      starting--;
    }
    if (id === undefined) {
      reply(msg, {
        ok: false,
        code: "NotFound",
        message: req.previous
          ? `previous terminated container "${req.container}" in pod "${req.name}" not found`
          : `container "${req.container}" in pod "${req.name}" is waiting to start`,
      });
      return;
    }
    if (stopped) {
      reply(msg, { ok: false, code: "Unavailable", message: `the node agent of ${node} is shutting down` });
      return;
    }
    const stream = new LogStream(nc, runtime, logger, req, id, timing);
    streams.add(stream);
    try {
      stream.listen();
    } catch (err) {
      streams.delete(stream);
      stream.dispose();
      reply(msg, { ok: false, code: "Internal", message: `could not subscribe to ${req.replyTo}: ${(err as Error).message}` });
      return;
    }
    reply(msg, { ok: true });
    logger.debug({ pod: `${req.namespace}/${req.name}`, container: req.container, follow: req.follow }, "logs: streaming");
    stream.run().finally(() => streams.delete(stream));
  };

  const sub: Subscription = nc.subscribe(nodeLogsSubject(node), {
    callback: (err, msg) => {
      if (err) {
        logger.warn({ err }, "logs: subscription failed");
        return;
      }
      handle(msg).catch((e) => logger.error({ err: e }, "logs: request failed"));
    },
  });
  await nc.flush();

  let done: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    done ??= (async () => {
      stopped = true;
      signal.removeEventListener("abort", onAbort);
      sub.unsubscribe();
      const open = [...streams];
      for (const s of open) s.stop("the node agent is shutting down");
      await Promise.all(open.map((s) => s.finished));
    })();
    return done;
  };
  const onAbort = () => void stop();
  if (signal.aborted) await stop();
  else signal.addEventListener("abort", onAbort, { once: true });

  return {
    get active() {
      return streams.size;
    },
    stop,
  };
}

/** Checks a request's shape; throws with the first problem. */
export function parseRequest(data: Uint8Array): LogsRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new Error("the logs request is not JSON");
  }
  if (typeof raw !== "object" || raw === null) throw new Error("the logs request is not a JSON object");
  const r = raw as Record<string, unknown>;
  const str = (k: string, required: boolean): string => {
    const v = r[k] ?? "";
    if (typeof v !== "string") throw new Error(`${k}: must be a string`);
    if (required && v === "") throw new Error(`${k}: Required value`);
    return v;
  };
  const bool = (k: string): boolean => {
    const v = r[k] ?? false;
    if (typeof v !== "boolean") throw new Error(`${k}: must be a boolean`);
    return v;
  };
  const count = (k: string, min: number): number | undefined => {
    const v = r[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) throw new Error(`${k}: must be an integer >= ${min}`);
    return v;
  };
  const replyTo = str("replyTo", true);
  if (!SUBJECT.test(replyTo)) throw new Error(`replyTo: "${replyTo}" is not a subject without wildcards`);
  return {
    namespace: str("namespace", true),
    name: str("name", true),
    uid: str("uid", false),
    container: str("container", true),
    follow: bool("follow"),
    previous: bool("previous"),
    tailLines: count("tailLines", 0),
    sinceSeconds: count("sinceSeconds", 1),
    timestamps: bool("timestamps"),
    replyTo,
  };
}

/**
 * Which of the node's containers holds the log: the app containers of the pod (by uid when given,
 * else by namespace and name; ContainerStatus carries the runtime's LABELS) named `container`; the current one is the highest attempt, the
 * previous one the newest exited container with a lower attempt.
 */
export function pickContainer(
  list: readonly ContainerStatus[],
  q: { namespace: string; name: string; uid: string; container: string; previous: boolean },
): ContainerStatus | undefined {
  const mine = list
    .filter(
      (c) =>
        c.role === "app" &&
        c.name === q.container &&
        (q.uid ? c.pod.uid === q.uid : c.pod.namespace === q.namespace && c.pod.name === q.name),
    )
    .sort((a, b) => b.attempt - a.attempt || b.createdAt.getTime() - a.createdAt.getTime());
  const current = mine[0];
  if (!q.previous || current === undefined) return current;
  return mine.find((c) => c.state === "exited" && c.attempt < current.attempt);
}

/** findContainer from the runtime's own list of the node's containers (their LABELS). */
export function defaultFindContainer(runtime: ContainerRuntime, node: string): FindContainer {
  return async (namespace, name, uid, container, previous) =>
    pickContainer(await runtime.listContainers(node), { namespace, name, uid, container, previous })?.id;
}

interface Timing {
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  windowBytes: number;
}

/** One log stream: runtime -> bounded queue -> NATS messages within the gateway's window. */
class LogStream {
  private readonly abort = new AbortController();
  private controlSub: Subscription | undefined;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private sent = 0;
  private acked = 0;
  private lastSendAt = Date.now();
  private aliveTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private wake: (() => void) | undefined;
  private error: string | undefined;
  private ended = false;
  private finishedResolve!: () => void;
  readonly finished = new Promise<void>((r) => (this.finishedResolve = r));

  constructor(
    private readonly nc: NatsConnection,
    private readonly runtime: ContainerRuntime,
    private readonly logger: Logger,
    private readonly req: LogsRequest,
    private readonly id: string,
    private readonly timing: Timing,
  ) {}

  /** Subscribes to the gateway's keepalives and cancel before the request is answered. */
  listen(): void {
    const prefix = `${this.req.replyTo}.`;
    this.controlSub = this.nc.subscribe(`${this.req.replyTo}.*`, {
      callback: (err, msg) => {
        if (err) return this.stop(`control subscription failed: ${err.message}`);
        const what = msg.subject.slice(prefix.length);
        if (what === "cancel") this.stop();
        else if (what === "alive") this.onAlive(msg.data);
      },
    });
    this.armAliveTimer();
  }

  async run(): Promise<void> {
    const { signal } = this.abort;
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastSendAt >= this.timing.keepaliveMs) this.publishData(Buffer.alloc(0));
    }, Math.max(10, Math.floor(this.timing.keepaliveMs / 2)));
    let it: AsyncIterator<Buffer> | undefined;
    try {
      it = this.runtime
        .logs(this.id, { follow: this.req.follow, tail: this.req.tailLines, sinceSeconds: this.req.sinceSeconds, timestamps: this.req.timestamps }, signal)
        [Symbol.asyncIterator]();
      for (;;) {
        const r = await nextOrAbort(it, signal);
        if (r === "aborted" || r.done) break;
        this.push(r.value);
        while (this.queued >= MAX_QUEUED_BYTES && !signal.aborted) await this.progress();
      }
    } catch (err) {
      if (!signal.aborted) {
        this.error = `reading the log of container "${this.req.container}" failed: ${(err as Error).message}`;
        this.logger.warn({ err, pod: `${this.req.namespace}/${this.req.name}`, container: this.req.container }, "logs: runtime stream failed");
      }
    }
    try {
      // The log ended (or failed): send what was read, as the window allows.
      while (this.queued > 0 && !signal.aborted) {
        this.flush(true);
        if (this.queued > 0) await this.progress();
      }
    } finally {
      if (it?.return) it.return().catch(() => {});
      this.end();
    }
  }

  /** Ends the stream; with `why`, the end message carries it as the error. */
  stop(why?: string): void {
    if (why !== undefined && this.error === undefined) this.error = why;
    if (!this.abort.signal.aborted) this.abort.abort();
    this.wake?.();
    // A stream stopped before run() began still has to end.
    if (this.heartbeat === undefined) this.end();
  }

  /** Forgets a stream that never started (no end message: the request is refused instead). */
  dispose(): void {
    this.ended = true;
    clearTimeout(this.aliveTimer);
    this.controlSub?.unsubscribe();
    this.finishedResolve();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.abort.signal.aborted) this.abort.abort();
    clearTimeout(this.aliveTimer);
    clearInterval(this.heartbeat);
    this.controlSub?.unsubscribe();
    try {
      const h = headers();
      h.set(LOGS_END_HEADER, "1");
      if (this.error !== undefined) h.set(LOGS_ERROR_HEADER, oneLine(this.error));
      this.nc.publish(this.req.replyTo, new Uint8Array(0), { headers: h });
    } catch {
      // The connection is gone; the gateway notices the silence.
    }
    this.logger.debug({ pod: `${this.req.namespace}/${this.req.name}`, container: this.req.container, bytes: this.sent, error: this.error }, "logs: stream ended");
    this.finishedResolve();
  }

  private onAlive(data: Uint8Array): void {
    this.armAliveTimer();
    const n = Number(new TextDecoder().decode(data));
    if (Number.isSafeInteger(n) && n > this.acked) {
      this.acked = Math.min(n, this.sent);
      this.flush(true);
    }
  }

  private armAliveTimer(): void {
    clearTimeout(this.aliveTimer);
    this.aliveTimer = setTimeout(() => this.stop("no keepalive from the gateway"), this.timing.keepaliveTimeoutMs);
  }

  private push(buf: Buffer): void {
    if (buf.length === 0) return;
    this.queue.push(buf);
    this.queued += buf.length;
    this.flush(false);
    // Whatever is left (less than a chunk) goes out once the runtime has nothing more at hand.
    if (this.queued > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush(true);
      });
    }
  }

  /** Publishes full chunks (and with `all` the rest) while the window allows. */
  private flush(all: boolean): void {
    while (!this.ended && (this.queued >= LOGS_CHUNK_BYTES || (all && this.queued > 0))) {
      if (this.sent - this.acked >= this.timing.windowBytes) break;
      if (!this.publishData(this.take(Math.min(LOGS_CHUNK_BYTES, this.queued)))) return;
    }
  }

  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const head = this.queue[0]!;
      if (head.length <= left) {
        parts.push(head);
        this.queue.shift();
        left -= head.length;
      } else {
        parts.push(head.subarray(0, left));
        this.queue[0] = head.subarray(left);
        left = 0;
      }
    }
    this.queued -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  private publishData(data: Buffer): boolean {
    if (this.ended) return false;
    try {
      const h = headers();
      h.set(LOGS_OFFSET_HEADER, String(this.sent));
      this.nc.publish(this.req.replyTo, data, { headers: h });
    } catch (err) {
      this.stop(`publishing the log failed: ${(err as Error).message}`);
      return false;
    }
    this.sent += data.length;
    this.lastSendAt = Date.now();
    if (data.length > 0) this.wake?.();
    return true;
  }

  /** Resolves on the next publish, acknowledgement or stop. */
  private progress(): Promise<void> {
    return new Promise((resolve) => {
      const prev = this.wake;
      this.wake = () => {
        this.wake = undefined;
        prev?.();
        resolve();
      };
      if (this.abort.signal.aborted) this.wake();
    });
  }
}

/** The iterator's next result, or "aborted" as soon as `signal` aborts (without leaking listeners). */
function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T> | "aborted"> {
  if (signal.aborted) return Promise.resolve("aborted");
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ").slice(0, 1024);
}
