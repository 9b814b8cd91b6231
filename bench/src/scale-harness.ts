// What the scheduler and scale benchmarks share: hollow nodes as a child process
// (services/hollow-nodes), waiting for their Nodes to be Ready through the API, a PodService
// watch that stamps when each bench pod was first seen bound and Running, and an RSS sampler.
import * as grpc from "@grpc/grpc-js";
import { KINDS, WatchRequest, type Node, type Pod, type PodWatchEvent } from "@navarch/api";
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { create, list, type ClientPool } from "./client.js";
import { cpuMs, machineBusyMs, ROOT, rssBytes, sleep, type Cluster } from "./cluster.js";
import { closedLoop, type PhaseResult } from "./load.js";

const HOLLOW_MAIN = path.join(ROOT, "services", "hollow-nodes", "dist", "main.js");
const STOP_TIMEOUT_MS = 30_000;

export interface HollowProcess {
  /** One pid per hollow-nodes process. */
  pids: number[];
  /** The processes' last status lines, summed ("nodes=... pods=... running=..."). */
  lastStats(): string;
  tail(): string;
  /** SIGINT, then SIGKILL if they do not exit in time. Idempotent. */
  stop(): Promise<void>;
}

const hollowGroups = new Set<ChildProcess>();

/** Last resort on exit: no hollow-nodes process outlives the bench. */
process.on("exit", () => {
  for (const c of hollowGroups) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }
});

/** Stops every hollow-nodes process still running. */
export async function stopAllHollow(): Promise<void> {
  await Promise.allSettled([...hollowGroups].map((c) => stopChild(c)));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGINT");
  const done = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
    await Promise.race([exited, sleep(5_000)]);
  }
}

export interface HollowOptions {
  natsUrl: string;
  count: number;
  /**
   * Processes the nodes are split over (each with its own NATS connection). One process can run
   * 5,000 idle agents, but with 150,000 pods its heap passes 3 GiB and a long GC pause made NATS
   * cut its connection as a slow consumer; every agent then watched again at once.
   */
  processes: number;
  prefix: string;
  heartbeatSeconds: number;
  /** For all processes together. */
  startPerSecond: number;
  /** Extra environment (NAVARCH_HOLLOW_NODE_CPU, ...). */
  env?: Record<string, string>;
  readyTimeoutMs: number;
  log: (s: string) => void;
}

interface HollowChild {
  child: ChildProcess;
  ready: boolean;
  stats: string;
  out: string;
  err: string;
}

/** Starts services/hollow-nodes (several processes) and resolves once every node runs. */
export async function startHollowNodes(o: HollowOptions): Promise<HollowProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(https?|grpc|all|no)_proxy$/i.test(k)) delete env[k];
  const n = Math.max(1, Math.min(o.processes, o.count));
  const t0 = Date.now();
  const children: HollowChild[] = [];
  for (let p = 0; p < n; p++) {
    const first = Math.floor((p * o.count) / n);
    const count = Math.floor(((p + 1) * o.count) / n) - first;
    // A simulated cluster of 150,000 pods needs more than V8's default heap.
    const child = spawn(process.execPath, ["--max-old-space-size=16384", HOLLOW_MAIN], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...env,
        NAVARCH_NATS_URL: o.natsUrl,
        NAVARCH_HOLLOW_NODES: String(count),
        NAVARCH_HOLLOW_NODE_FIRST_INDEX: String(first),
        NAVARCH_HOLLOW_NODE_PREFIX: o.prefix,
        NAVARCH_HOLLOW_HEARTBEAT_SECONDS: String(o.heartbeatSeconds),
        NAVARCH_HOLLOW_START_PER_SECOND: String(o.startPerSecond / n),
        NAVARCH_HOLLOW_STATS_SECONDS: "5",
        NAVARCH_LOG_LEVEL: "warn",
        ...o.env,
      },
    });
    hollowGroups.add(child);
    child.once("exit", () => hollowGroups.delete(child));
    child.once("error", () => undefined);
    const h: HollowChild = { child, ready: false, stats: "", out: "", err: "" };
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      h.out = (h.out + s).slice(-16_000);
      for (const line of s.split("\n")) {
        const m = /^hollow nodes: (.*)$/.exec(line);
        if (m) h.stats = m[1]!;
        if (/^hollow nodes ready:/.test(line)) h.ready = true;
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (h.err = (h.err + s).slice(-16_000)));
    children.push(h);
  }
  const tail = () =>
    children.map((h, i) => `\n--- hollow-nodes ${i} stdout ---\n${h.out.slice(-2_000)}\n--- hollow-nodes ${i} stderr ---\n${h.err.slice(-2_000)}`).join("");
  const proc: HollowProcess = {
    pids: children.map((h) => h.child.pid!),
    lastStats: () => sumStats(children.map((h) => h.stats)),
    tail,
    stop: async () => {
      await Promise.all(children.map((h) => stopChild(h.child)));
    },
  };
  const deadline = Date.now() + o.readyTimeoutMs;
  while (!children.every((h) => h.ready)) {
    if (children.some((h) => h.child.exitCode !== null || h.child.signalCode !== null)) {
      await proc.stop();
      throw new Error(`hollow-nodes exited before it was ready${tail()}`);
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`hollow-nodes not ready within ${o.readyTimeoutMs} ms${tail()}`);
    }
    await sleep(200);
  }
  o.log(`hollow nodes ready: ${o.count} in ${n} process(es) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return proc;
}

/** Sums status lines "k=v k2=a/b rss=12MiB" field by field (numbers only; "a/b" part by part). */
export function sumStats(lines: string[]): string {
  const sums = new Map<string, number[]>();
  const units = new Map<string, string>();
  for (const line of lines) {
    for (const field of line.split(/\s+/).filter(Boolean)) {
      const [k, v] = field.split("=") as [string, string | undefined];
      if (v === undefined) continue;
      const parts = v.split("/").map((x) => {
        const m = /^(\d+(?:\.\d+)?)(\D*)$/.exec(x);
        if (m?.[2]) units.set(k, m[2]);
        return m ? Number(m[1]) : NaN;
      });
      const acc = sums.get(k) ?? parts.map(() => 0);
      sums.set(k, acc.map((a, i) => a + (parts[i] ?? NaN)));
    }
  }
  return [...sums].map(([k, v]) => `${k}=${v.join("/")}${units.get(k) ?? ""}`).join(" ");
}

/** Waits until the API lists `count` Nodes named `<prefix>...` with Ready=True; returns how long it took. */
export async function waitNodesReady(pool: ClientPool, prefix: string, count: number, timeoutMs: number, log: (s: string) => void): Promise<number> {
  const t0 = Date.now();
  let last = -1;
  for (;;) {
    const nodes = pool.decodeList(await list(pool, "", 0)) as { items: Node[] };
    const ready = nodes.items.filter((n) => n.metadata?.name.startsWith(prefix) && n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
    if (ready >= count) return Date.now() - t0;
    if (ready !== last) log(`nodes Ready: ${ready}/${count}`);
    last = ready;
    if (Date.now() - t0 > timeoutMs) throw new Error(`only ${ready} of ${count} hollow nodes Ready after ${timeoutMs} ms`);
    await sleep(1_000);
  }
}

/** Bench pods are named p<index>; their namespace is chosen by index. */
export function podName(i: number): string {
  return `p${i}`;
}

/**
 * When each bench pod was first seen bound (spec.nodeName set) and Running, from one
 * PodService.Watch of all namespaces; times are epoch ms (NaN: not yet). A watch the server cuts
 * off (a slow client) is resumed from the last resourceVersion seen.
 */
export class PodTracker {
  readonly boundAt: Float64Array;
  readonly runningAt: Float64Array;
  bound = 0;
  running = 0;
  /** Pods seen unbound with PodScheduled=False (the scheduler found no node for them). */
  unschedulable = 0;
  private readonly unschedulableSeen: Uint8Array;
  /** Watch events received, and times the watch was resumed. */
  events = 0;
  resumes = 0;
  private readonly client: grpc.Client;
  private call: grpc.ClientReadableStream<PodWatchEvent> | undefined;
  private resourceVersion = "";
  private closing = false;
  private failure: Error | undefined;
  private readonly md = new grpc.Metadata();

  constructor(
    addr: string,
    token: string,
    private readonly count: number,
  ) {
    this.boundAt = new Float64Array(count).fill(NaN);
    this.runningAt = new Float64Array(count).fill(NaN);
    this.unschedulableSeen = new Uint8Array(count);
    this.client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
      "grpc.enable_http_proxy": 0,
      "grpc.max_receive_message_length": -1,
      "grpc-node.flow_control_window": 8 * 1024 * 1024,
    });
    this.md.set("authorization", `Bearer ${token}`);
  }

  start(): void {
    const def = KINDS.Pod.service.watch!;
    const call = this.client.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize as (b: Buffer) => PodWatchEvent,
      WatchRequest.fromPartial({ namespace: "", resourceVersion: this.resourceVersion }),
      this.md,
      {},
    );
    this.call = call;
    call.on("data", (ev: PodWatchEvent) => this.onEvent(ev));
    call.on("error", (err: grpc.ServiceError) => {
      if (this.closing || this.call !== call) return;
      if (err.code === grpc.status.RESOURCE_EXHAUSTED && this.resourceVersion !== "" && this.resumes < 100) {
        this.resumes++;
        this.start();
        return;
      }
      this.failure = err;
    });
  }

  private onEvent(ev: PodWatchEvent): void {
    const at = Date.now();
    this.events++;
    const pod = ev.object;
    const rv = pod?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    const name = pod?.metadata?.name ?? "";
    if (ev.type === "BOOKMARK" || ev.type === "DELETED" || name[0] !== "p") return;
    const i = Number(name.slice(1));
    if (!Number.isInteger(i) || i < 0 || i >= this.count) return;
    if (!pod!.spec?.nodeName && !this.unschedulableSeen[i] && pod!.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False")) {
      this.unschedulableSeen[i] = 1;
      this.unschedulable++;
    }
    if (pod!.spec?.nodeName && Number.isNaN(this.boundAt[i]!)) {
      this.boundAt[i] = at;
      this.bound++;
    }
    if (pod!.status?.phase === "Running" && Number.isNaN(this.runningAt[i]!)) {
      this.runningAt[i] = at;
      this.running++;
    }
  }

  /** Throws if the watch broke for good (its figures would miss events). */
  check(): void {
    if (this.failure) throw new Error(`pod watch failed: ${this.failure.message}`);
  }

  /** Resolves when pred() holds (checked every 200 ms), or throws after timeoutMs. */
  async until(pred: () => boolean, timeoutMs: number, what: () => string, progress?: () => void): Promise<void> {
    const end = Date.now() + timeoutMs;
    let lastProgress = Date.now();
    while (!pred()) {
      this.check();
      if (Date.now() > end) throw new Error(`${what()}: not within ${Math.round(timeoutMs / 1000)} s`);
      if (progress && Date.now() - lastProgress >= 10_000) {
        lastProgress = Date.now();
        progress();
      }
      await sleep(200);
    }
  }

  close(): void {
    this.closing = true;
    this.call?.cancel();
    this.client.close();
  }
}

/** A process, or several counted together (the hollow nodes). */
export type Pids = number | number[] | undefined;

function sumOver(pids: Pids, read: (pid: number) => number | undefined): number | undefined {
  if (pids === undefined) return undefined;
  let sum = 0;
  for (const pid of Array.isArray(pids) ? pids : [pids]) {
    const v = read(pid);
    if (v === undefined) return undefined;
    sum += v;
  }
  return sum;
}

/** VmRSS of some processes every `everyMs`: the maximum and the last value of each. */
export class RssSampler {
  readonly max = new Map<string, number>();
  readonly last = new Map<string, number>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly pids: () => Record<string, Pids>,
    everyMs = 1_000,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    for (const [name, pids] of Object.entries(this.pids())) {
      const rss = sumOver(pids, rssBytes);
      if (rss === undefined) continue;
      this.last.set(name, rss);
      this.max.set(name, Math.max(this.max.get(name) ?? 0, rss));
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** Integer from the environment within [min, max], else the default. */
export function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  return v;
}

/** A bench pod: one container with small requests (so capacity is never what limits the run). */
export function benchPod(i: number, namespaces: string[], nodeName = ""): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: podName(i), namespace: namespaces[i % namespaces.length]!, labels: { app: "navarch-bench" } },
    spec: {
      nodeName,
      containers: [{ name: "app", image: "navarch/demo:1", resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
      terminationGracePeriodSeconds: 0,
    },
  });
}

/** Creates the namespaces (those that exist already are fine). */
export async function createNamespaces(pool: ClientPool, names: string[]): Promise<void> {
  for (const name of names) {
    await pool.call("create", KINDS.Namespace.codec.fromPartial({ apiVersion: "v1", kind: "Namespace", metadata: { name } })).catch((err: grpc.ServiceError) => {
      if (err.code !== grpc.status.ALREADY_EXISTS) throw err;
    });
  }
}

/**
 * Creates pods first..first+count-1 with `inFlight` calls at a time; sentAt[i] is when pod i's call
 * started. With `nodeOf`, each pod is created bound to that node (no scheduler in the path).
 */
export function createPods(
  pool: ClientPool,
  first: number,
  count: number,
  namespaces: string[],
  inFlight: number,
  sentAt: Float64Array,
  nodeOf?: (i: number) => string,
): Promise<PhaseResult> {
  return closedLoop(
    async (k) => {
      const i = first + k;
      sentAt[i] = Date.now();
      try {
        await create(pool, benchPod(i, namespaces, nodeOf?.(i)));
      } catch (err) {
        // Not counted as sent (the server may still have created it; then it counts as bound).
        sentAt[i] = NaN;
        throw err;
      }
    },
    { concurrency: inFlight, durationMs: 24 * 3600_000, maxCount: count },
  );
}

/** CPU used by named processes (and the whole machine) between two snapshots, as shares of one core. */
export class CpuWindow {
  private readonly t0 = Date.now();
  private readonly start: Map<string, number>;
  private readonly machine0: number;
  private readonly self0 = process.cpuUsage();

  constructor(private readonly pids: () => Record<string, Pids>) {
    // A process not started yet counts from zero once it runs.
    this.start = new Map(Object.entries(pids()).map(([k, p]) => [k, p === undefined ? 0 : (sumOver(p, cpuMs) ?? NaN)]));
    this.machine0 = machineBusyMs() ?? NaN;
  }

  /** Shares per process name, plus "client" (this process) and "other" (everything else). */
  shares(): Record<string, number> {
    const wall = Date.now() - this.t0;
    const out: Record<string, number> = {};
    let ours = 0;
    for (const [k, p] of Object.entries(this.pids())) {
      const used = (sumOver(p, cpuMs) ?? NaN) - (this.start.get(k) ?? NaN);
      out[k] = used / wall;
      if (Number.isFinite(used)) ours += used;
    }
    const self = process.cpuUsage(this.self0);
    const client = (self.user + self.system) / 1000;
    out.client = client / wall;
    out.other = Math.max(0, ((machineBusyMs() ?? NaN) - this.machine0 - ours - client) / wall);
    return out;
  }
}

/**
 * With NAVARCH_BENCH_KEEP_LOGS=<dir>, copies the control plane's logs (all-in-one, nats-server)
 * to <dir>/<part>-<time> before its temp home is removed, and returns that directory.
 */
export function keepLogs(cluster: Cluster, part: string): string | undefined {
  const dir = process.env.NAVARCH_BENCH_KEEP_LOGS;
  const logs = path.join(cluster.home, "logs");
  if (!dir || !existsSync(logs)) return undefined;
  const to = path.join(dir, `${part}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(to, { recursive: true });
  cpSync(logs, to, { recursive: true });
  return to;
}
