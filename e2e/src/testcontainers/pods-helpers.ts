// Helpers of pods.test.ts: bounded waits with clear failure messages, the Pod API over gRPC (get,
// watch), the Docker CLI for what the node agents did on the host, streaming navctl commands
// (logs -f, get -w), and a throwaway local image registry (Debian's docker-registry).
import * as grpc from "@grpc/grpc-js";
import { GetRequest, KINDS, ListRequest, WatchRequest, type ContainerStatus, type Pod, type PodList, type PodWatchEvent } from "@navarch/api";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { GRPC_CLIENT_OPTIONS, sleep } from "../cluster.js";
import type { Cluster } from "./cluster.js";
import { ROOT } from "./images.js";

const CALL_TIMEOUT_MS = 10_000;
const NAVCTL = path.join(ROOT, "cli", "dist", "main.js");
/** Pod containers are found by these labels of the node agent's (libs/runtime LABELS). */
export const LABEL_POD = "navarch.pod.name";
export const LABEL_NS = "navarch.pod.namespace";
export const LABEL_ROLE = "navarch.container.role";

/**
 * Polls check() every `everyMs` until it returns a value (not undefined) or `timeoutMs` passed;
 * then throws "<what>: not within N ms" plus whatever detail() says about the last state.
 * Errors thrown by check() count as "not yet" (the last one is in the message).
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
  detail?: () => unknown,
  everyMs = 200,
): Promise<T> {
  const t0 = performance.now();
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
      lastErr = undefined;
    } catch (e) {
      lastErr = e;
    }
    if (performance.now() - t0 >= timeoutMs) break;
    await sleep(everyMs);
  }
  let d = "";
  try {
    const x = await detail?.();
    d = x === undefined ? "" : typeof x === "string" ? x : JSON.stringify(x);
  } catch (e) {
    d = `(detail failed: ${(e as Error).message})`;
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${lastErr ? ` (last error: ${(lastErr as Error).message})` : ""}${d ? `\n${d}` : ""}`);
}

// ---------------------------------------------------------------- Pod API (gRPC)

type AnyClient = grpc.Client & Record<string, Function>;

function podClient(cluster: Cluster): AnyClient {
  return new KINDS.Pod.client(cluster.apiAddr, grpc.credentials.createInsecure(), GRPC_CLIENT_OPTIONS) as AnyClient;
}

/** The Pod, or undefined when it does not exist (NOT_FOUND). */
export async function getPod(cluster: Cluster, name: string, namespace = "default"): Promise<Pod | undefined> {
  const client = podClient(cluster);
  try {
    return await new Promise<Pod | undefined>((resolve, reject) => {
      client.get!.call(
        client,
        GetRequest.fromPartial({ name, namespace }),
        cluster.metadata(),
        { deadline: Date.now() + CALL_TIMEOUT_MS },
        (err: grpc.ServiceError | null, res: Pod) => (err ? (err.code === grpc.status.NOT_FOUND ? resolve(undefined) : reject(err)) : resolve(res)),
      );
    });
  } finally {
    client.close();
  }
}

export function containerStatus(pod: Pod | undefined, container: string): ContainerStatus | undefined {
  return pod?.status?.containerStatuses.find((c) => c.name === container);
}

/** A short, readable summary of a pod's status for failure messages. */
export function podSummary(pod: Pod | undefined): string {
  if (!pod) return "pod: <none>";
  const s = pod.status;
  const cs = (s?.containerStatuses ?? []).map((c) => {
    const st = c.state?.running ? "running" : c.state?.terminated ? `terminated(${c.state.terminated.reason},${c.state.terminated.exitCode})` : c.state?.waiting ? `waiting(${c.state.waiting.reason})` : "?";
    const last = c.lastState?.terminated ? ` last=terminated(${c.lastState.terminated.reason},${c.lastState.terminated.exitCode})` : "";
    return `${c.name}:${st} restarts=${c.restartCount}${last} id=${c.containerID.replace(/^docker:\/\//, "").slice(0, 12)}`;
  });
  return `pod ${pod.metadata?.name}: phase=${s?.phase || "-"} podIP=${s?.podIP || "-"} reason=${s?.reason || "-"} [${cs.join("; ")}]`;
}

/** The Pod once `ready(pod)` holds, else a failure naming the last status seen and the node's log tail. */
export function waitForPod(
  cluster: Cluster,
  name: string,
  what: string,
  timeoutMs: number,
  ready: (pod: Pod) => boolean,
): Promise<Pod> {
  let last: Pod | undefined;
  return waitUntil(
    `pod ${name} ${what}`,
    timeoutMs,
    async () => {
      last = await getPod(cluster, name);
      return last && ready(last) ? last : undefined;
    },
    () => `${podSummary(last)}${nodeLogTail(cluster, last?.spec?.nodeName)}`,
  );
}

export const isRunning = (pod: Pod): boolean =>
  pod.status?.phase === "Running" &&
  !!pod.status.podIP &&
  pod.status.containerStatuses.length === (pod.spec?.containers.length ?? 0) &&
  pod.status.containerStatuses.every((c) => !!c.state?.running);

export function nodeLogTail(cluster: Cluster, node: string | undefined, chars = 3_000): string {
  if (!node) return "";
  try {
    return `\n--- ${node} agent (last output) ---\n${cluster.node(node).logs().slice(-chars)}`;
  } catch {
    return "";
  }
}

export interface Observed {
  /** performance.now() when the event arrived. */
  at: number;
  type: string;
  pod: Pod;
}

/**
 * A gRPC watch of one pod (field selector on its name), keeping every event with its arrival time.
 * open() lists first and watches from that list's resourceVersion, so no change made after open()
 * resolved can be missed, however late the watch stream gets going.
 */
export class PodWatch {
  readonly events: Observed[] = [];
  error: Error | undefined;
  private call: grpc.ClientReadableStream<PodWatchEvent> | undefined;

  private constructor(private readonly client: AnyClient) {}

  static async open(cluster: Cluster, name: string, namespace = "default"): Promise<PodWatch> {
    const w = new PodWatch(podClient(cluster));
    const fieldSelector = `metadata.name=${name}`;
    try {
      const list = await new Promise<PodList>((resolve, reject) => {
        w.client.list!.call(
          w.client,
          ListRequest.fromPartial({ namespace, fieldSelector }),
          cluster.metadata(),
          { deadline: Date.now() + CALL_TIMEOUT_MS },
          (err: grpc.ServiceError | null, res: PodList) => (err ? reject(err) : resolve(res)),
        );
      });
      const at = performance.now();
      for (const pod of list.items) w.events.push({ at, type: "ADDED", pod });
      w.call = w.client.watch!.call(
        w.client,
        WatchRequest.fromPartial({ namespace, fieldSelector, resourceVersion: list.metadata?.resourceVersion ?? "" }),
        cluster.metadata(),
      ) as grpc.ClientReadableStream<PodWatchEvent>;
    } catch (e) {
      w.client.close();
      throw e;
    }
    w.call.on("data", (ev: PodWatchEvent) => {
      if (ev.object && ev.type !== "BOOKMARK") w.events.push({ at: performance.now(), type: ev.type, pod: ev.object });
    });
    w.call.on("error", (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) w.error = err;
    });
    return w;
  }

  close(): void {
    this.call?.cancel();
    this.client.close();
  }
}

// ---------------------------------------------------------------- Docker on the host

export function docker(args: string[], timeoutMs = 60_000): string {
  return execFileSync("docker", args, { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Full IDs of the Docker containers of a pod (bound to `node`), sorted; all=true includes stopped ones. */
export function podContainers(pod: string, node: string, opts: { all?: boolean; role?: "sandbox" | "app"; namespace?: string } = {}): string[] {
  const args = ["ps", "-q", "--no-trunc", "--filter", `label=${LABEL_POD}=${pod}`, "--filter", `label=navarch.node=${node}`];
  args.push("--filter", `label=${LABEL_NS}=${opts.namespace ?? "default"}`);
  if (opts.role) args.push("--filter", `label=${LABEL_ROLE}=${opts.role}`);
  if (opts.all) args.push("-a");
  return docker(args).split("\n").filter(Boolean).sort();
}

export interface Inspected {
  Id: string;
  Name: string;
  State: { Running: boolean; Status: string; ExitCode: number; OOMKilled: boolean; StartedAt: string; FinishedAt: string };
  HostConfig: { NetworkMode: string; Memory: number };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
  Config: { Labels: Record<string, string> };
}

export function inspect(id: string): Inspected {
  return (JSON.parse(docker(["inspect", id])) as Inspected[])[0]!;
}

/** "docker://<id>" -> "<id>". */
export const bareId = (containerID: string): string => containerID.replace(/^docker:\/\//, "");

export interface DockerEvent {
  /** "create", "start", "kill", "die", "destroy", ... */
  action: string;
  id: string;
  /** The container's labels plus Docker's attributes (name, image, exitCode, signal). */
  attributes: Record<string, string>;
  /** Unix ms (Docker's clock: this machine's). */
  time: number;
}

/**
 * `docker events` for the containers of one pod, from `since` on (replayed, so nothing that
 * happened after construction is missed): what the node agent really did, with Docker's own times.
 */
export class DockerEvents {
  readonly events: DockerEvent[] = [];
  private readonly child: ChildProcess;
  private partial = "";
  stderr = "";

  constructor(pod: string, node: string, since = Date.now()) {
    this.child = spawn(
      "docker",
      [
        "events",
        "--format",
        "{{json .}}",
        "--since",
        (since / 1000).toFixed(3),
        "--filter",
        "type=container",
        "--filter",
        `label=${LABEL_POD}=${pod}`,
        "--filter",
        `label=navarch.node=${node}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      const parts = (this.partial + s).split("\n");
      this.partial = parts.pop()!;
      for (const line of parts) {
        if (!line.trim()) continue;
        const e = JSON.parse(line) as { Action: string; id: string; Actor?: { Attributes?: Record<string, string> }; timeNano: number };
        this.events.push({ action: e.Action, id: e.id, attributes: e.Actor?.Attributes ?? {}, time: e.timeNano / 1e6 });
      }
    });
    this.child.stderr!.setEncoding("utf8").on("data", (s: string) => (this.stderr += s));
  }

  /** Events of the app container `container` (not the sandbox), optionally of one action. */
  of(container: string, action?: string): DockerEvent[] {
    return this.events.filter((e) => e.attributes["navarch.container.name"] === container && (action === undefined || e.action === action));
  }

  /** "+123ms kill(signal=15) web#0" lines, relative to `t0`, for failure messages. */
  timeline(t0: number): string {
    return this.events
      .map((e) => {
        const extra = e.attributes.signal ? `(signal=${e.attributes.signal})` : e.attributes.exitCode ? `(exitCode=${e.attributes.exitCode})` : "";
        return `+${Math.round(e.time - t0)}ms ${e.action}${extra} ${e.attributes["navarch.container.name"]}#${e.attributes["navarch.container.attempt"] ?? "?"}`;
      })
      .join("\n");
  }

  close(): void {
    this.child.kill("SIGTERM");
  }
}

// ---------------------------------------------------------------- HTTP, ports

/** GET with a timeout, no proxy (pod IPs are containers of this machine). */
export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (s: string) => (body += s));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** A TCP port of 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- streaming navctl

/** The environment of a navctl child: this cluster, no proxies. */
function navctlEnv(cluster: Cluster): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["NAVARCH_NATS_URL", "NAVARCH_NAMESPACE"]) delete env[k];
  for (const k of Object.keys(env)) if (/^(https?|grpc|all|no)_proxy$/i.test(k)) delete env[k];
  return { ...env, NAVARCH_HOME: cluster.home, NAVARCH_SERVER: cluster.apiAddr, NAVARCH_TOKEN: cluster.token };
}

/** A navctl command that keeps running (logs -f, get -w): its output so far, line waits, stop(). */
export class NavctlStream {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  /** Every complete stdout line with its arrival time (performance.now()). */
  readonly lines: { at: number; text: string }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = "";

  constructor(cluster: Cluster, readonly args: string[]) {
    this.child = spawn(process.execPath, [NAVCTL, ...args], { cwd: ROOT, env: navctlEnv(cluster), stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      this.stdout += s;
      const parts = (this.partial + s).split("\n");
      this.partial = parts.pop()!;
      const at = performance.now();
      for (const text of parts) this.lines.push({ at, text });
    });
    this.child.stderr!.setEncoding("utf8").on("data", (s: string) => (this.stderr += s));
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the lines once `enough(lines)` holds; fails naming the output when it does not in time. */
  waitLines<T>(what: string, timeoutMs: number, enough: (lines: { at: number; text: string }[]) => T | undefined): Promise<T> {
    return waitUntil(
      `navctl ${this.args.join(" ")}: ${what}`,
      timeoutMs,
      () => {
        const v = enough(this.lines);
        if (v === undefined && !this.running) throw new Error(`navctl exited (code ${this.child.exitCode}, signal ${this.child.signalCode})`);
        return v;
      },
      () => `stdout:\n${this.stdout.slice(-3_000)}\nstderr:\n${this.stderr.slice(-2_000)}`,
      50,
    );
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 5 s). */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

// ---------------------------------------------------------------- a local registry

export const REGISTRY_BIN = "/usr/bin/docker-registry";

export interface LocalRegistry {
  /** "127.0.0.1:<port>" */
  readonly host: string;
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Debian's docker-registry (distribution 2.x) on 127.0.0.1:<free port>, storage in a temp dir.
 * Docker treats 127.0.0.0/8 as an insecure registry, so plain HTTP works without daemon config.
 */
export async function startRegistry(timeoutMs = 15_000): Promise<LocalRegistry> {
  if (!existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} not found: apt-get install -y docker-registry`);
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "navarch-e2e-registry-"));
  const config = path.join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const child = spawn(REGISTRY_BIN, ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out = (out + s).slice(-20_000)));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (out = (out + s).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      `docker-registry on 127.0.0.1:${port} answering /v2/`,
      timeoutMs,
      async () => {
        if (child.exitCode !== null) throw new Error(`docker-registry exited with code ${child.exitCode}`);
        return (await httpGet(`http://127.0.0.1:${port}/v2/`, 1_000)).status === 200 ? true : undefined;
      },
      () => out,
      100,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { host: `127.0.0.1:${port}`, port, output: () => out, stop };
}
