// The ingress HTTP server. It holds the current route table in one field: each request reads it
// once, when it arrives, and keeps the backend it picked for its whole life (retries included).
// A new table is one assignment, with no listener restarted and no connection touched, so
// requests in flight across a change finish where they started and the next ones follow the new
// rules. That is the "reload" of this proxy: there is nothing to reload.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@navarch/controller";
import { lookup, normalizeHost, normalizePath } from "../routes/match.js";
import { EMPTY_TABLE, type RouteTable } from "../routes/table.js";
import { RoundRobin } from "./balancer.js";
import { answer, forward, type ForwardOptions } from "./forward.js";
import { forwardUpgrade, refuse } from "./upgrade.js";

export interface IngressProxyOptions {
  logger: Logger;
  connectTimeoutMs?: number;
  backendTimeoutMs?: number;
}

export class IngressProxy {
  private current: RouteTable = EMPTY_TABLE;
  private readonly server: http.Server;
  private readonly forwarding: ForwardOptions;

  constructor(opts: IngressProxyOptions) {
    this.forwarding = {
      // Keep-alive connections to pods, reused across requests (Node honours a pod's Keep-Alive
      // timeout hint, so an idle connection is dropped before the pod would close it).
      agent: new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: "lifo" }),
      balancer: new RoundRobin(),
      connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
      backendTimeoutMs: opts.backendTimeoutMs ?? 60_000,
      logger: opts.logger,
    };
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on("upgrade", (req, socket, head) => {
      const match = lookup(this.current, normalizeHost(req.headers.host), normalizePath(req.url));
      if (!match) return refuse(socket, 404);
      forwardUpgrade(req, socket, head, match.backend, this.forwarding);
    });
    this.server.on("clientError", (_err, socket) => refuse(socket, 400));
  }

  get table(): RouteTable {
    return this.current;
  }

  /** Swaps the route table in (atomically: one assignment). */
  setTable(table: RouteTable): void {
    this.current = table;
    const ids = new Set<string>();
    const note = (b: { id: string } | undefined) => b && ids.add(b.id);
    for (const routes of [...table.exact.values(), ...table.wildcard.values(), ...(table.anyHost ? [table.anyHost] : [])]) {
      for (const p of routes.paths) note(p.backend);
      note(routes.defaultBackend);
    }
    note(table.defaultBackend);
    this.forwarding.balancer.retain(ids);
  }

  /** Listens; resolves with the bound address (port 0 picks one). */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.server.once("error", fail);
      this.server.listen({ host, port }, () => {
        this.server.off("error", fail);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections, lets the requests in flight finish for up to `graceMs`, then
   * closes whatever is left.
   */
  async close(graceMs: number): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    this.forwarding.agent.destroy();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const match = lookup(this.current, normalizeHost(req.headers.host), normalizePath(req.url));
    if (!match) {
      req.resume();
      return answer(res, 404);
    }
    if (match.backend.addresses.length === 0) {
      req.resume();
      this.forwarding.logger.debug({ backend: match.backend.id, why: match.backend.unavailable }, "no endpoints: 503");
      return answer(res, 503);
    }
    forward(req, res, match.backend, this.forwarding);
  }
}
