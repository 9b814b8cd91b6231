// The scale benchmark (issue 4): Kubernetes' largest supported cluster, simulated - 5,000 hollow
// nodes and 150,000 pods against one control plane (the all-in-one without a node agent, its
// embedded nats-server) on this machine.
//
//   0. the control plane; NODES hollow nodes (services/hollow-nodes: node agents on fake runtimes,
//      10 s heartbeats; ~1,250 nodes per process) against its NATS; until the API lists them all Ready. The
//      RSS (VmRSS) of the all-in-one, the nats-server and the hollow nodes is sampled every second
//      from here on
//   1. a light mutating load through the API for the whole run: ConfigMap creates at 20/s, open
//      loop (latency from the scheduled start), in a namespace of their own
//   2. PODS pods (no nodeName, requests 10m CPU / 16Mi) created through the API, IN_FLIGHT calls
//      at a time; one PodService.Watch of all namespaces stamps when each pod is first seen bound
//      and Running
//   3. until every pod is Running, then SETTLE seconds more of the light load at full size
//   4. figures: the control plane's largest RSS (target: all-in-one <= 4 GiB; nats-server
//      reported beside it), the light load's p99 (target <= 1 s), time to all pods bound and
//      Running, creation -> Running p50/p99
//
// Environment: NAVARCH_BENCH_SCALE_NODES (5,000; quick 100), NAVARCH_BENCH_SCALE_PODS (150,000;
// quick 3,000), NAVARCH_BENCH_SCALE_SETTLE_SECONDS (15; quick 3), NAVARCH_BENCH_SCALE_PREBIND=1
// (pods are created with spec.nodeName, round-robin over the hollow nodes: the control plane's
// cost without the scheduler in the path), NAVARCH_BENCH_NAMESPACES, NAVARCH_BENCH_CREATE_IN_FLIGHT,
// NAVARCH_BENCH_HOLLOW_HEARTBEAT_SECONDS, NAVARCH_BENCH_HOLLOW_PROCESSES (see scheduler.ts).
import { KINDS } from "@navarch/api";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ClientPool, configMap, create } from "./client.js";
import { startCluster } from "./cluster.js";
import { mib, ms, percent, rate, table } from "./report.js";
import { latencies, minFinite, throughput } from "./scale-figures.js";
import { CpuWindow, createNamespaces, createPods, intEnv, keepLogs, PodTracker, RssSampler, startHollowNodes, waitNodesReady, type HollowProcess } from "./scale-harness.js";
import { controlPlaneEnv } from "./scheduler.js";
import { summarize, type Summary } from "./stats.js";

export const RSS_TARGET_BYTES = 4 * 1024 ** 3;
export const LIGHT_P99_TARGET_MS = 1_000;
const LIGHT_RATE = 20;
const LOAD_NAMESPACE = "bench-scale-load";
const NODE_PREFIX = "hollow-";

export interface ScaleBenchConfig {
  quick: boolean;
  nodes: number;
  pods: number;
  namespaces: string[];
  inFlight: number;
  heartbeatSeconds: number;
  /** hollow-nodes processes the nodes are split over. */
  hollowProcesses: number;
  settleSeconds: number;
  /** How long to wait for all pods Running after the last create; then the figures are printed as they are. */
  runningTimeoutSeconds: number;
  prebind: boolean;
  log: (s: string) => void;
  nodeArgs: string[];
}

export function scaleBenchConfig(quick: boolean, log: (s: string) => void, nodeArgs: string[] = []): ScaleBenchConfig {
  const namespaces = intEnv("NAVARCH_BENCH_NAMESPACES", 4, 1, 100);
  const nodes = intEnv("NAVARCH_BENCH_SCALE_NODES", quick ? 100 : 5_000, 1, 20_000);
  return {
    quick,
    nodes,
    
    pods: intEnv("NAVARCH_BENCH_SCALE_PODS", quick ? 3_000 : 150_000, 1, 1_000_000),
    namespaces: Array.from({ length: namespaces }, (_, i) => `bench-scale-${i}`),
    inFlight: intEnv("NAVARCH_BENCH_CREATE_IN_FLIGHT", 64, 1, 1_024),
    heartbeatSeconds: intEnv("NAVARCH_BENCH_HOLLOW_HEARTBEAT_SECONDS", 10, 1, 300),
    // About 1,250 nodes (and their pods) per process by default; see HollowOptions.processes.
    hollowProcesses: intEnv("NAVARCH_BENCH_HOLLOW_PROCESSES", Math.ceil(nodes / 1_250), 1, 64),
    settleSeconds: intEnv("NAVARCH_BENCH_SCALE_SETTLE_SECONDS", quick ? 3 : 15, 0, 3_600),
    runningTimeoutSeconds: intEnv("NAVARCH_BENCH_SCALE_RUNNING_TIMEOUT_SECONDS", quick ? 120 : 900, 1, 86_400),
    prebind: process.env.NAVARCH_BENCH_SCALE_PREBIND === "1",
    log,
    nodeArgs,
  };
}

/**
 * Creates at a fixed rate until stopped (open loop: latency counts from each call's scheduled
 * start). Every sample keeps its scheduled time, so the run can be cut into phases.
 */
class LightLoad {
  readonly at: number[] = [];
  readonly latencyMs: number[] = [];
  errors = 0;
  readonly messages = new Set<string>();
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly op: (i: number) => Promise<unknown>,
    private readonly perSecond: number,
  ) {}

  start(): void {
    const t0 = performance.now();
    const wall0 = Date.now();
    let issued = 0;
    const tick = () => {
      if (this.stopped) return;
      const now = performance.now();
      while (t0 + (issued * 1000) / this.perSecond <= now) {
        const scheduled = t0 + (issued * 1000) / this.perSecond;
        const i = issued++;
        const p = this.op(i).then(
          () => {
            this.at.push(wall0 + (scheduled - t0));
            this.latencyMs.push(performance.now() - scheduled);
          },
          (err: unknown) => {
            this.errors++;
            if (this.messages.size < 5) this.messages.add(err instanceof Error ? err.message : String(err));
          },
        );
        this.pending.add(p);
        void p.finally(() => this.pending.delete(p));
      }
      this.timer = setTimeout(tick, Math.max(0, t0 + (issued * 1000) / this.perSecond - performance.now()));
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.pending);
  }

  /** One line per completed call: its scheduled time (ISO), its latency in ms. */
  csv(): string {
    return "scheduled,latency_ms\n" + this.at.map((at, i) => `${new Date(at).toISOString()},${this.latencyMs[i]!.toFixed(1)}`).join("\n") + "\n";
  }

  /** Latencies of the calls scheduled within [from, to) (epoch ms). */
  between(from: number, to: number): Summary {
    const out: number[] = [];
    for (let i = 0; i < this.at.length; i++) if (this.at[i]! >= from && this.at[i]! < to) out.push(this.latencyMs[i]!);
    return summarize(out);
  }
}

export async function runScaleBench(cfg: ScaleBenchConfig): Promise<number> {
  const { log } = cfg;
  log(`scale: starting the control plane, then ${cfg.nodes} hollow nodes`);
  const cluster = await startCluster({ nodeArgs: cfg.nodeArgs, env: controlPlaneEnv(cfg.heartbeatSeconds) });
  let hollow: HollowProcess | undefined;
  const rss = new RssSampler(() => ({ server: cluster.pid, nats: cluster.natsPid(), hollow: hollow?.pids }));
  const pools: ClientPool[] = [];
  let tracker: PodTracker | undefined;
  let load: LightLoad | undefined;
  try {
    const t0 = Date.now();
    hollow = await startHollowNodes({
      natsUrl: cluster.natsUrl,
      count: cfg.nodes,
      processes: cfg.hollowProcesses,
      prefix: NODE_PREFIX,
      heartbeatSeconds: cfg.heartbeatSeconds,
      startPerSecond: 200,
      readyTimeoutMs: (cfg.nodes / 200) * 1000 + 300_000,
      log,
    });
    const pool = (kind: typeof KINDS.Node | typeof KINDS.Namespace | typeof KINDS.Pod | typeof KINDS.ConfigMap) => {
      const p = new ClientPool(cluster.apiAddr, cluster.token, kind, 1);
      pools.push(p);
      return p;
    };
    const nodes = pool(KINDS.Node);
    const namespaces = pool(KINDS.Namespace);
    const podPool = pool(KINDS.Pod);
    const cmPool = pool(KINDS.ConfigMap);
    await Promise.all(pools.map((p) => p.ready()));
    await waitNodesReady(nodes, NODE_PREFIX, cfg.nodes, 300_000, log);
    const nodesReadyS = (Date.now() - t0) / 1000;
    await createNamespaces(namespaces, [...cfg.namespaces, LOAD_NAMESPACE]);
    const rssIdle = rss.last.get("server");

    tracker = new PodTracker(cluster.apiAddr, cluster.token, cfg.pods);
    tracker.start();
    const t = tracker;
    load = new LightLoad((i) => create(cmPool, configMap(LOAD_NAMESPACE, `light-${i}`)), LIGHT_RATE);
    const cpu = new CpuWindow(() => ({ server: cluster.pid, nats: cluster.natsPid(), hollow: hollow?.pids }));
    const loadStart = Date.now();
    load.start();
    const sentAt = new Float64Array(cfg.pods).fill(NaN);
    log(`scale: creating ${cfg.pods} pods, ${cfg.inFlight} calls in flight, and ConfigMaps at ${LIGHT_RATE}/s`);
    const progress = () =>
      log(`  bound ${t.bound}/${cfg.pods}, running ${t.running}; RSS all-in-one ${mib(rss.last.get("server"))}, nats-server ${mib(rss.last.get("nats"))}; hollow nodes: ${hollow?.lastStats()}`);
    const progressTimer = setInterval(progress, 15_000);
    let creates;
    try {
      const nodeOf = cfg.prebind ? (i: number) => `${NODE_PREFIX}${i % cfg.nodes}` : undefined;
      creates = await createPods(podPool, 0, cfg.pods, cfg.namespaces, cfg.inFlight, sentAt, nodeOf);
    } finally {
      clearInterval(progressTimer);
    }
    const createdAt = Date.now();
    if (creates.errors > 0) log(`scale: ${creates.errors} pod create(s) failed: ${creates.errorMessages.join(" | ")}`);
    log(`scale: created at ${rate(creates.opsPerSec)}/s; waiting for every pod to be Running`);
    const allRunning = await t
      .until(() => t.running >= creates.ok, cfg.runningTimeoutSeconds * 1000, () => `${t.running} of ${creates.ok} pods Running (${t.bound} bound)`, progress)
      .then(
        () => true,
        (err: Error) => {
          t.check();
          log(`scale: ${err.message}; reporting what was reached`);
          return false;
        },
      );
    const runningAt = Date.now();
    const shares = cpu.shares();
    log(`scale: ${allRunning ? "all Running" : "giving up waiting"}; ${cfg.settleSeconds} s more of the light load`);
    await new Promise((r) => setTimeout(r, cfg.settleSeconds * 1000));
    await load.stop();
    const endAt = Date.now();
    rss.sample();
    if (load.errors > 0) log(`  light load: ${load.errors} error(s): ${[...load.messages].join(" | ")}`);

    const firstCreate = minFinite(sentAt);
    const binds = throughput(t.boundAt);
    const runs = throughput(t.runningAt);
    const toRunning = latencies(sentAt, t.runningAt);
    const toBound = latencies(sentAt, t.boundAt);
    const whole = load.between(loadStart, endAt);
    const during = load.between(loadStart, createdAt);
    const untilRunning = load.between(createdAt, runningAt);
    const settled = load.between(runningAt, endAt);
    const server = rss.max.get("server");
    const natsMax = rss.max.get("nats");
    const s = (v: number) => `${(v / 1000).toFixed(1)} s`;
    const n = (v: number) => v.toLocaleString("en-US");
    const lightRow = (what: string, x: Summary) => [what, `${x.count}`, `${ms(x.p50)} / ${ms(x.p99)} / ${ms(x.max)}`];

    const out: string[] = [];
    const cpus = os.cpus();
    out.push(
      `Navarch scale benchmark${cfg.quick ? " (quick)" : ""}: node ${process.version}, ${cpus.length} CPU(s), ${cpus[0]?.model.trim() ?? "unknown CPU"}, ` +
        `${Math.round(os.totalmem() / 1024 ** 3)} GiB; ${cfg.nodes.toLocaleString("en-US")} hollow nodes (${cfg.hollowProcesses} process(es), fake runtime, ${cfg.heartbeatSeconds} s heartbeats), ` +
        `${cfg.pods.toLocaleString("en-US")} pods ${cfg.prebind ? "created bound (spec.nodeName round-robin, no scheduler in the path)" : "without nodeName"} over ${cfg.namespaces.length} namespaces created through the API with ${cfg.inFlight} calls in flight, ` +
        `ConfigMap creates at ${LIGHT_RATE}/s throughout`,
    );
    out.push("");
    out.push(
      table(
        ["figure", "value"],
        [
          ["hollow nodes started and Ready (API)", s(nodesReadyS * 1000)],
          ["pods created (API), per s; create call p50 / p99 ms", `${rate(creates.opsPerSec)}; ${ms(creates.latency.p50)} / ${ms(creates.latency.p99)}${creates.errors > 0 ? `; ${n(creates.errors)} failed` : ""}`],
          [`pods bound: ${n(binds.count)}, the last after (from the first create)`, s(binds.last - firstCreate)],
          [
            `pods Running: ${n(runs.count)}${allRunning ? ", the last after (from the first create)" : `, gave up ${cfg.runningTimeoutSeconds} s after the last create`}`,
            allRunning ? s(runs.last - firstCreate) : "-",
          ],
          ["bound pods/s, first to last binding", rate(binds.perSecond)],
          ["create -> bound seen, p50 / p99 ms", `${ms(toBound.p50)} / ${ms(toBound.p99)}`],
          ["create -> Running seen, p50 / p99 ms", `${ms(toRunning.p50)} / ${ms(toRunning.p99)}`],
          ["all-in-one RSS: before the pods / largest / at the end", `${mib(rssIdle)} / ${mib(server)} / ${mib(rss.last.get("server"))}`],
          ["nats-server RSS: largest / at the end", `${mib(natsMax)} / ${mib(rss.last.get("nats"))}`],
          ["hollow nodes RSS: largest", mib(rss.max.get("hollow"))],
          ["watch events received (resumed)", `${t.events.toLocaleString("en-US")} (${t.resumes})`],
        ],
      ),
    );
    out.push("");
    out.push(
      table(
        [`ConfigMap create at ${LIGHT_RATE}/s (open loop)`, "calls", "p50 / p99 / max ms"],
        [
          lightRow("while the pods were created", during),
          lightRow(allRunning ? "until all pods Running" : "after the creates, until given up", untilRunning),
          lightRow(`${allRunning ? "all Running" : "then"}, ${cfg.settleSeconds} s`, settled),
          lightRow("whole run", whole),
        ],
      ),
    );
    out.push("");
    const full = cfg.nodes === 5_000 && cfg.pods === 150_000 ? "" : " (the targets are stated for 5,000 nodes and 150,000 pods)";
    const rssPass = server !== undefined && server <= RSS_TARGET_BYTES;
    out.push(
      `control-plane RSS with ${cfg.nodes.toLocaleString("en-US")} nodes / ${cfg.pods.toLocaleString("en-US")} pods: all-in-one ${mib(server)} ` +
        `(target <= ${mib(RSS_TARGET_BYTES)}) ${rssPass ? "PASS" : "FAIL"}; nats-server ${mib(natsMax)} beside it${full}`,
    );
    const p99Pass = load.errors === 0 && whole.count > 0 && whole.p99 <= LIGHT_P99_TARGET_MS;
    out.push(
      `API p99 under the run (ConfigMap creates at ${LIGHT_RATE}/s): ${ms(whole.p99)} ms (target <= ${LIGHT_P99_TARGET_MS} ms) ${p99Pass ? "PASS" : "FAIL"}` +
        (load.errors > 0 ? ` (${load.errors} errors)` : "") +
        full,
    );
    out.push(
      `CPU from the first create to ${allRunning ? "all Running" : "giving up"} (share of one core; ${cpus.length} cores): all-in-one ${percent(shares.server!)}, nats-server ${percent(shares.nats!)}, ` +
        `hollow nodes ${percent(shares.hollow!)}, bench client ${percent(shares.client!)}, other processes ${percent(shares.other!)}` +
        (shares.other! > 0.1 ? " — other processes disturbed this run; run again on a quiet machine for clean figures" : ""),
    );
    console.log(out.join("\n"));
    // Missed targets are reported above; failed creates make the run fail.
    return creates.errors > 0 ? 1 : 0;
  } finally {
    await load?.stop();
    rss.stop();
    tracker?.close();
    for (const p of pools) p.close();
    log("scale: stopping the hollow nodes and the control plane");
    await hollow?.stop();
    // Stopped first, so its logs are complete when they are kept (dispose removes its home).
    await cluster.stop().catch((err: Error) => log(`scale: ${err.message.split("\n")[0]}`));
    const kept = keepLogs(cluster, "scale");
    if (kept) log(`scale: control-plane logs kept in ${kept}`);
    // Beside them, every light-load call (to line slow ones up with the control plane's log).
    if (kept && load) writeFileSync(path.join(kept, "light-load.csv"), load.csv());
    await cluster.dispose();
  }
}
