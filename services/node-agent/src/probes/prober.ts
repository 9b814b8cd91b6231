// One probe attempt against a container, as the kubelet makes it:
//   http   GET <scheme>://<host or pod IP>:<port><path>; 200-399 is a success (a redirect is not
//          followed: its 3xx counts as a success, as the kubelet does for a redirect elsewhere);
//          TLS is not verified; headers from httpHeaders (a "Host" one replaces the host's).
//   tcp    a TCP connection to <host or pod IP>:<port> opens.
//   exec   the command, run in the container through the runtime, exits 0.
// Every attempt ends within its timeout and never throws: a failure is an outcome with the reason
// as output (shown in the Unhealthy event). The agent reaches its pods' IPs directly, as a node's
// kubelet does (on a Docker host the pod network's bridge is routable from the host) - unless the
// runtime's pod IPs are made up (hollow nodes): then the runtime answers HTTP and TCP probes itself
// (simulatedNetworkProbe) and nothing is dialed.
//
// At most `maxConcurrent` attempts run at once on a node; the others wait for a slot, and their
// timeout starts when they run (waiting is the node's doing, not the container's). The queue is
// bounded by itself: each probe loop has at most one attempt outstanding.
import type { ContainerRuntime } from "@navarch/runtime";
import { ExecTimeoutError } from "@navarch/runtime";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { ProbeAction, ProbeSpec } from "./spec.js";

export interface ProbeOutcome {
  ok: boolean;
  /** The reason of a failure (or what a success said), at most MAX_OUTPUT characters. */
  output: string;
}

export interface ProbeTarget {
  containerId: string;
  podIP: string;
}

/** The kubelet keeps 10 KiB of a probe's output; an Event message needs far less. */
export const MAX_OUTPUT = 1024;
const MAX_BODY_BYTES = 10 * 1024;
/** Beyond its own timeout, how long an exec may take to be set up before we stop waiting. */
const EXEC_SETUP_SLACK_MS = 2_000;
export const DEFAULT_MAX_CONCURRENT_PROBES = 32;

export type ProbeRuntime = Pick<ContainerRuntime, "exec" | "simulatedNetworkProbe">;

export class Prober {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly maxConcurrent: number;

  constructor(
    private readonly runtime: ProbeRuntime,
    opts: { maxConcurrent?: number } = {},
  ) {
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_PROBES);
  }

  /** Attempts running now (tests). */
  get active(): number {
    return this.running;
  }

  async run(spec: Pick<ProbeSpec, "action" | "timeoutMs">, target: ProbeTarget): Promise<ProbeOutcome> {
    await this.acquire();
    try {
      const outcome = await attempt(this.runtime, spec.action, target, spec.timeoutMs);
      return { ok: outcome.ok, output: clip(outcome.output) };
    } catch (err) {
      return { ok: false, output: clip(errorText(err)) };
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `running` stays the same.
    if (next) next();
    else this.running--;
  }
}

function attempt(runtime: ProbeRuntime, action: ProbeAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  if ((action.type === "http" || action.type === "tcp") && runtime.simulatedNetworkProbe) {
    return runtime.simulatedNetworkProbe(target.containerId, { type: action.type, port: action.port, path: action.type === "http" ? action.path : undefined });
  }
  switch (action.type) {
    case "http":
      return httpGet(action, action.host || target.podIP, timeoutMs);
    case "tcp":
      return tcpConnect(action.host || target.podIP, action.port, timeoutMs);
    case "exec":
      return execCommand(runtime, target.containerId, action.command, timeoutMs);
    case "invalid":
      return Promise.resolve({ ok: false, output: action.message });
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function httpGet(a: Extract<ProbeAction, { type: "http" }>, host: string, timeoutMs: number): Promise<ProbeOutcome> {
  const url = `${a.scheme}://${hostPort(host, a.port)}${a.path}`;
  if (!host) return Promise.resolve({ ok: false, output: `Get "${url}": the pod has no IP` });
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const headers: Record<string, string> = { "user-agent": "navarch-probe/1", accept: "*/*" };
    for (const [name, value] of a.headers) headers[name.toLowerCase()] = value;
    const client = a.scheme === "https" ? https : http;
    // agent: false - a fresh connection per attempt, as a probe must test the listener, and no
    // keep-alive socket outlives the attempt.
    const req = client.request(url, { method: "GET", headers, agent: false, rejectUnauthorized: false }, (res) => {
      const code = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk.subarray(0, MAX_BODY_BYTES - size));
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) end();
      });
      const end = () => {
        const ok = code >= 200 && code < 400;
        finish({ ok, output: ok ? Buffer.concat(chunks).toString("utf8").trim() : `HTTP probe failed with statuscode: ${code}` });
      };
      res.on("end", end);
      res.on("error", () => end());
    });
    const timer = setTimeout(() => finish({ ok: false, output: `Get "${url}": timed out after ${seconds(timeoutMs)}` }), timeoutMs);
    req.on("error", (err) => finish({ ok: false, output: `Get "${url}": ${errorText(err)}` }));
    req.end();
  });
}

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = hostPort(host, port);
  if (!host) return Promise.resolve({ ok: false, output: `dial tcp ${addr}: the pod has no IP` });
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (o: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ ok: false, output: `dial tcp ${addr}: i/o timeout after ${seconds(timeoutMs)}` }), timeoutMs);
    socket.once("connect", () => finish({ ok: true, output: "" }));
    socket.once("error", (err) => finish({ ok: false, output: `dial tcp ${addr}: ${errorText(err)}` }));
  });
}

async function execCommand(runtime: ProbeRuntime, containerId: string, command: string[], timeoutMs: number): Promise<ProbeOutcome> {
  if (!containerId) return { ok: false, output: "the container has no id yet" };
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The runtime times the command itself; this bounds a runtime that does not answer at all.
  const stuck = new Promise<ProbeOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, output: `command ${JSON.stringify(command)} did not finish within ${seconds(timeoutMs)}` }), timeoutMs + EXEC_SETUP_SLACK_MS);
  });
  const run = runtime.exec(containerId, command, timeoutMs).then(
    (r): ProbeOutcome => ({ ok: r.exitCode === 0, output: r.output.trim() || (r.exitCode === 0 ? "" : `command ${JSON.stringify(command)} exited with code ${r.exitCode}`) }),
    (err: unknown): ProbeOutcome =>
      err instanceof ExecTimeoutError
        ? { ok: false, output: `command ${JSON.stringify(command)} timed out after ${seconds(timeoutMs)}` }
        : { ok: false, output: errorText(err) },
  );
  try {
    return await Promise.race([run, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

function clip(s: string): string {
  return s.length > MAX_OUTPUT ? `${s.slice(0, MAX_OUTPUT - 3)}...` : s;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
