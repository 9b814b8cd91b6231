// Forwarding one request to one of a backend's pods, as an nginx proxy_pass would: the request
// goes out as it came (method, target, Host, body) over a pooled keep-alive connection, with the
// hop-by-hop headers left out and the X-Forwarded-* headers set; the answer comes back the same
// way. A pod that refuses the connection (or does not answer the connect in time, or closes a
// pooled connection as we reuse it) is passed over for the next one, up to MAX_TRIES pods, when
// the request can be sent twice: an idempotent method without a body (nginx's
// proxy_next_upstream "error timeout", which likewise leaves non-idempotent requests alone).
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { Logger } from "@navarch/controller";
import type { Address, Backend } from "../routes/table.js";
import { addressKey, type RoundRobin } from "./balancer.js";

export const MAX_TRIES = 3;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

// RFC 9110 7.6.1: meant for one connection, never forwarded (plus the ones the Connection header names).
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

// Set by us, never passed on from the client: this proxy is where requests enter the cluster, so
// whatever a client claims in them is not to be trusted (ingress-nginx's default,
// use-forwarded-headers: false). `expect` is answered here (Node sends 100 Continue).
const REPLACED = new Set(["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-real-ip", "forwarded", "expect"]);

export interface ForwardOptions {
  agent: http.Agent;
  balancer: RoundRobin;
  connectTimeoutMs: number;
  backendTimeoutMs: number;
  logger: Logger;
}

/** The headers the backend gets: the client's, minus hop-by-hop ones, plus X-Forwarded-*. */
export function backendHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const named = connectionTokens(req.headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || REPLACED.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  const client = clientAddress(req);
  out["x-forwarded-for"] = client;
  out["x-real-ip"] = client;
  out["x-forwarded-host"] = req.headers.host ?? "";
  out["x-forwarded-proto"] = "http";
  out["x-forwarded-port"] = String(req.socket.localPort ?? "");
  return out;
}

/** The backend's response headers for the client, in their original case and order. */
export function clientHeaders(up: IncomingMessage): string[] {
  const named = connectionTokens(up.headers.connection);
  const out: string[] = [];
  for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) {
    const k = up.rawHeaders[i]!;
    const lower = k.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out.push(k, up.rawHeaders[i + 1]!);
  }
  return out;
}

export function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? "";
  return a.startsWith("::ffff:") ? a.slice("::ffff:".length) : a;
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  return new Set(text.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean));
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** Ends the response with a short plain-text status page (nginx's wording). */
export function answer(res: ServerResponse, status: number): void {
  const body = `${status} ${http.STATUS_CODES[status] ?? ""}\n`;
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

type Failure = Error & { code?: string };

export function forward(req: IncomingMessage, res: ServerResponse, backend: Backend, opts: ForwardOptions): void {
  const canRetry = IDEMPOTENT.has(req.method ?? "") && !hasBody(req);
  const headers = backendHeaders(req);
  const tried = new Set<string>();
  let current: http.ClientRequest | undefined;
  let clientGone = false;
  res.on("close", () => {
    if (res.writableFinished) return;
    clientGone = true;
    current?.destroy();
  });

  const attempt = (address: Address): void => {
    tried.add(addressKey(address));
    const up = http.request({ host: address.ip, port: address.port, method: req.method, path: req.url, headers, agent: opts.agent });
    current = up;
    let connectTimer: NodeJS.Timeout | undefined;
    up.on("socket", (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => up.destroy(Object.assign(new Error(`connect to ${addressKey(address)} timed out`), { code: "ECONNTIMEOUT" })), opts.connectTimeoutMs);
      socket.once("connect", () => clearTimeout(connectTimer));
    });
    up.setTimeout(opts.backendTimeoutMs, () => up.destroy(Object.assign(new Error(`${addressKey(address)} sent nothing for ${opts.backendTimeoutMs} ms`), { code: "ETIMEDOUT" })));

    up.on("response", (answerFromPod) => {
      clearTimeout(connectTimer);
      res.writeHead(answerFromPod.statusCode ?? 502, answerFromPod.statusMessage, clientHeaders(answerFromPod));
      answerFromPod.pipe(res);
      // The pod went away mid-answer: the client must see a broken response, not a short one.
      answerFromPod.on("close", () => {
        if (!answerFromPod.complete) res.destroy();
      });
    });

    up.on("error", (err: Failure) => {
      clearTimeout(connectTimer);
      if (clientGone) return;
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      const notSent = err.code === "ECONNREFUSED" || err.code === "ECONNTIMEOUT" || err.code === "EHOSTUNREACH" || (up.reusedSocket && err.code === "ECONNRESET");
      const next = canRetry && notSent && tried.size < MAX_TRIES ? opts.balancer.pick(backend, tried) : undefined;
      opts.logger.debug({ backend: backend.id, pod: addressKey(address), err: err.message, retry: next ? addressKey(next) : undefined }, "backend request failed");
      if (next) return attempt(next);
      opts.logger.warn({ backend: backend.id, pod: addressKey(address), method: req.method, url: req.url, err: err.message, tries: tried.size }, "backend unreachable");
      answer(res, err.code === "ETIMEDOUT" || err.code === "ECONNTIMEOUT" ? 504 : 502);
    });

    if (canRetry) up.end();
    else req.pipe(up);
  };

  // A request without a body is complete already; reading it lets the client's connection be reused.
  if (canRetry) req.resume();
  const first = opts.balancer.pick(backend);
  if (!first) return answer(res, 503);
  attempt(first);
}
