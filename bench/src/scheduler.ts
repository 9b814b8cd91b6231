// The scheduler benchmark (issue 4): how fast the scheduler binds pods on a simulated cluster.
//
//   0. an all-in-one of its own without a node agent (the control plane: gateway, controllers,
//      scheduler, embedded nats-server); NODES hollow nodes (services/hollow-nodes, node agents on
//      fake runtimes, one process) against its NATS; wait until the API lists them all Ready
//   1. one PodService.Watch of all namespaces stamps when each pod is first seen bound
//   2. PODS pods (no nodeName, requests 10m CPU / 16Mi, spread over NAMESPACES namespaces) created
//      through the API, IN_FLIGHT calls at a time, each call's start time kept
//   3. until the watch has seen every pod bound: bound pods/s (first to last binding: the target,
//      >= 1,000/s on 2 cores; also from the first create, the busiest second and the steady-state
//      median second), creation -> binding seen p50/p99, the most pods waiting at once (created, not
//      yet bound: near zero means the scheduler kept up with the API and binding was limited by
//      the creates), who used the CPU
//
// Environment: NAVARCH_BENCH_SCHED_NODES (1,000; quick 50), NAVARCH_BENCH_SCHED_PODS (30,000;
// quick 1,000), NAVARCH_BENCH_NAMESPACES (4), NAVARCH_BENCH_CREATE_IN_FLIGHT (64),
// NAVARCH_BENCH_HOLLOW_HEARTBEAT_SECONDS (10).
import { KINDS } from "@navarch/api";
import os from "node:os";
import { ClientPool } from "./client.js";
import { startCluster, type Cluster } from "./cluster.js";
import { ms, percent, rate, table } from "./report.js";
import { latencies, maxBacklog, throughput } from "./scale-figures.js";
import { CpuWindow, createNamespaces, createPods, intEnv, PodTracker, startHollowNodes, waitNodesReady, type HollowProcess } from "./scale-harness.js";

export const BIND_RATE_TARGET = 1_000;
const NODE_PREFIX = "hollow-";

export interface SchedulerBenchConfig {
  quick: boolean;
  nodes: number;
  pods: number;
  namespaces: string[];
  inFlight: number;
  heartbeatSeconds: number;
  log: (s: string) => void;
  nodeArgs: string[];
}

export function schedulerBenchConfig(quick: boolean, log: (s: string) => void, nodeArgs: string[] = []): SchedulerBenchConfig {
  const namespaces = intEnv("NAVARCH_BENCH_NAMESPACES", 4, 1, 100);
  return {
    quick,
    nodes: intEnv("NAVARCH_BENCH_SCHED_NODES", quick ? 50 : 1_000, 1, 20_000),
    pods: intEnv("NAVARCH_BENCH_SCHED_PODS", quick ? 1_000 : 30_000, 1, 1_000_000),
    namespaces: Array.from({ length: namespaces }, (_, i) => `bench-sched-${i}`),
    inFlight: intEnv("NAVARCH_BENCH_CREATE_IN_FLIGHT", 64, 1, 1_024),
    heartbeatSeconds: intEnv("NAVARCH_BENCH_HOLLOW_HEARTBEAT_SECONDS", 10, 1, 300),
    log,
    nodeArgs,
  };
}

/** The control plane's settings for hollow nodes: a node is Unknown after 4 missed heartbeats. */
export function controlPlaneEnv(heartbeatSeconds: number): Record<string, string> {
  return { NAVARCH_NODE_MONITOR_GRACE_SECONDS: String(4 * heartbeatSeconds) };
}

export async function runSchedulerBench(cfg: SchedulerBenchConfig): Promise<number> {
  const { log } = cfg;
  log(`scheduler: starting the control plane, then ${cfg.nodes} hollow nodes`);
  const cluster = await startCluster({ nodeArgs: cfg.nodeArgs, env: controlPlaneEnv(cfg.heartbeatSeconds) });
  let hollow: HollowProcess | undefined;
  const pools: ClientPool[] = [];
  let tracker: PodTracker | undefined;
  try {
    hollow = await startHollowNodes({
      natsUrl: cluster.natsUrl,
      count: cfg.nodes,
      prefix: NODE_PREFIX,
      heartbeatSeconds: cfg.heartbeatSeconds,
      startPerSecond: 200,
      readyTimeoutMs: (cfg.nodes / 200) * 1000 + 120_000,
      log,
    });
    const pool = (kind: Parameters<typeof poolOf>[1]) => {
      const p = poolOf(cluster, kind);
      pools.push(p);
      return p;
    };
    const nodes = pool(KINDS.Node);
    const namespaces = pool(KINDS.Namespace);
    const podPool = pool(KINDS.Pod);
    await Promise.all(pools.map((p) => p.ready()));
    await waitNodesReady(nodes, NODE_PREFIX, cfg.nodes, 120_000, log);
    await createNamespaces(namespaces, cfg.namespaces);

    tracker = new PodTracker(cluster.apiAddr, cluster.token, cfg.pods);
    tracker.start();
    const t = tracker;
    const sentAt = new Float64Array(cfg.pods).fill(NaN);
    const pids = () => ({ server: cluster.pid, nats: cluster.natsPid(), hollow: hollow?.pid });
    const cpu = new CpuWindow(pids);
    log(`scheduler: creating ${cfg.pods} pods, ${cfg.inFlight} calls in flight`);
    const creates = await createPods(podPool, cfg.pods, cfg.namespaces, cfg.inFlight, sentAt);
    if (creates.errors > 0) throw new Error(`${creates.errors} pod create(s) failed: ${creates.errorMessages.join(" | ")}`);
    log(`scheduler: created at ${rate(creates.opsPerSec)}/s; waiting for every pod to be bound`);
    await t.until(
      () => t.bound >= cfg.pods,
      Math.max(120_000, cfg.pods * 10),
      () => `${t.bound} of ${cfg.pods} pods bound`,
      () => log(`  bound ${t.bound}/${cfg.pods}, running ${t.running}; hollow nodes: ${hollow?.lastStats()}`),
    );
    const shares = cpu.shares();

    const binds = throughput(t.boundAt);
    const firstCreate = Math.min(...sentAt.filter(Number.isFinite));
    const e2e = (binds.count * 1000) / (binds.last - firstCreate);
    const lat = latencies(sentAt, t.boundAt);
    const backlog = maxBacklog(sentAt, t.boundAt);
    const out: string[] = [];
    const cpus = os.cpus();
    out.push(
      `Navarch scheduler benchmark${cfg.quick ? " (quick)" : ""}: node ${process.version}, ${cpus.length} CPU(s), ${cpus[0]?.model.trim() ?? "unknown CPU"}; ` +
        `${cfg.nodes.toLocaleString("en-US")} hollow nodes (one process, fake runtime), ${cfg.pods.toLocaleString("en-US")} pods without nodeName ` +
        `(requests 10m CPU / 16Mi) over ${cfg.namespaces.length} namespaces, created through the API with ${cfg.inFlight} calls in flight; ` +
        "bindings seen on one PodService.Watch of all namespaces",
    );
    out.push("");
    out.push(
      table(
        ["figure", "value"],
        [
          ["pods created (API), per s", rate(creates.opsPerSec)],
          ["create call p50 / p99 ms", `${ms(creates.latency.p50)} / ${ms(creates.latency.p99)}`],
          ["bound pods/s, first to last binding", rate(binds.perSecond)],
          ["bound pods/s, first create to last binding", rate(e2e)],
          ["bound pods/s, busiest second / steady-state median second", `${rate(binds.peakPerSecond)} / ${rate(binds.steadyPerSecond)}`],
          ["create -> bound seen, p50 / p90 / p99 / max ms", `${ms(lat.p50)} / ${ms(lat.p90)} / ${ms(lat.p99)} / ${ms(lat.max)}`],
          ["most pods created and not yet bound at once", backlog.toLocaleString("en-US")],
          ["pods Running when the last was bound", t.running.toLocaleString("en-US")],
          ["watch events received (resumed)", `${t.events.toLocaleString("en-US")} (${t.resumes})`],
        ],
      ),
    );
    out.push("");
    const pass = binds.count === cfg.pods && binds.perSecond >= BIND_RATE_TARGET;
    out.push(
      `bound pods/s with ${cfg.nodes.toLocaleString("en-US")} hollow nodes: ${rate(binds.perSecond)}/s (target >= ${BIND_RATE_TARGET.toLocaleString("en-US")}/s on 2 cores) ${pass ? "PASS" : "FAIL"}` +
        (cfg.nodes !== 1_000 || cfg.pods !== 30_000 ? " (the target is stated for 1,000 nodes and 30,000 pods)" : ""),
    );
    if (backlog <= cfg.inFlight * 2) {
      out.push(
        `the scheduler kept up with the creates (at most ${backlog} pods waited at once): binding was limited by the create rate, the scheduler's own capacity is higher.`,
      );
    }
    out.push(
      `CPU while creating and binding (share of one core; ${cpus.length} cores): all-in-one ${percent(shares.server!)}, nats-server ${percent(shares.nats!)}, ` +
        `hollow nodes ${percent(shares.hollow!)}, bench client ${percent(shares.client!)}, other processes ${percent(shares.other!)}` +
        (shares.other! > 0.1 ? " — other processes disturbed this run; run again on a quiet machine for clean figures" : ""),
    );
    console.log(out.join("\n"));
    // A missed target is reported above; only a broken run (thrown) makes the bench fail.
    return 0;
  } finally {
    tracker?.close();
    for (const p of pools) p.close();
    log("scheduler: stopping the hollow nodes and the control plane");
    await hollow?.stop();
    await cluster.dispose();
  }
}

function poolOf(cluster: Cluster, kind: typeof KINDS.Node | typeof KINDS.Namespace | typeof KINDS.Pod | typeof KINDS.ConfigMap): ClientPool {
  return new ClientPool(cluster.apiAddr, cluster.token, kind, 1);
}
