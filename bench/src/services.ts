// The services benchmark (issue 6): traffic through a Service against the same load sent straight
// to the pod, same run, with wrk (Debian's package) on this host.
//
//   0. an all-in-one of its own with a node agent on the local Docker engine (node
//      bench-svc-<random>, pods on a Docker network of their own, cluster IPs from 10.95.0.0/16,
//      node ports 32700-32767: nothing shared with other clusters on the host); two identical
//      backend pods (navarch/demo:1, busybox httpd), "direct" for the direct paths and "backend"
//      behind a NodePort Service for the service paths; one client pod (busybox, idle); wait until
//      the Service answers through the node agent's nftables table
//   1. rounds (NAVARCH_BENCH_SVC_ROUNDS, default 5); in each, every service path runs wrk for S s
//      (NAVARCH_BENCH_SVC_SECONDS, default 5) right next to a run of the direct path of the same
//      origin (direct first in odd rounds, the service first in even ones):
//        host -> 127.0.0.1:NodePort  vs  host -> pod IP    output hook: DNAT, route_localnet, masquerade
//        host -> ClusterIP           vs  host -> pod IP    output hook: DNAT
//        pod  -> ClusterIP           vs  pod  -> pod IP    prerouting hook on the pod bridge: DNAT
//      ("pod": wrk in the client pod's network namespace, nsenter -n)
//   2. per path the median of its runs: requests/s, p50, p99, errors; per service path the median
//      of its per-pair ratios (a pair is seconds apart, so a machine busy with other work slows
//      both sides alike). Target: service >= 0.9x direct throughput (NodePort from the host,
//      ClusterIP from a pod).
//
// The backend answers every request on a fresh connection (busybox httpd closes after each), so
// every request pays the connection's setup, and with it the service's DNAT rule: the worst case
// for a NAT data path (on a kept-alive connection only its first packet meets the rule). Closing
// first, the server keeps each connection in TIME_WAIT for 60 s; a SYN reusing such a tuple is
// accepted only if its sequence number is newer. Direct and DNAT'd (or masqueraded) connections
// from one source address get unrelated sequence numbers (they are keyed by the address the
// client dialled), so alternating them against ONE server makes it refuse part of the SYNs (1 s
// retransmits; measured: 300+ SYN retransmits per 4 s run interleaved, 0 not): that is why the
// direct and the service paths each load their own, identical pod. wrk keeps 8 connections, below
// busybox httpd's listen backlog, whose overflow would add retransmits of its own.
// wrk, the backend and the control plane share this machine; the report prints how busy it was.
//
// Environment: NAVARCH_BENCH_SVC_SECONDS (5; quick 2), NAVARCH_BENCH_SVC_ROUNDS (5; quick 1),
// NAVARCH_BENCH_SVC_CONNECTIONS (8), NAVARCH_BENCH_SVC_THREADS (2).
import { GetRequest, KINDS, type Endpoints, type Pod, type Service } from "@navarch/api";
import { assertServiceTrafficStaysLocal } from "@navarch/runtime";
import type Docker from "dockerode";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { ClientPool } from "./client.js";
import { machineBusyMs, ROOT, startCluster, type Cluster } from "./cluster.js";
import { connectDocker, DEMO_IMAGE, engineInfo, imagePresent, LABELS, PAUSE_IMAGE, removeNodeContainers, sleep } from "./docker.js";
import { ms, percent, rate, table } from "./report.js";
import { intEnv } from "./scale-harness.js";
import { findWrk, runWrk, synRetransmits, type WrkResult } from "./services-wrk.js";

export const SERVICE_RATIO_TARGET = 0.9;
const NAMESPACE = "default";
const CLIENT_IMAGE = "navarch/busybox:1";
const NETFILTER_IMAGE = "navarch/netfilter:1";
/** On the agent's netfilter helper (libs/runtime docker-netfilter.ts). */
const NETFILTER_OWNER_LABEL = "navarch.netfilter.owner";
const CLUSTER_IP_RANGE = "10.95.0.0/16";
const NODE_PORT_RANGE = "32700-32767";

export interface ServiceBenchConfig {
  quick: boolean;
  seconds: number;
  rounds: number;
  connections: number;
  threads: number;
  log: (s: string) => void;
  nodeArgs: string[];
}

export function serviceBenchConfig(quick: boolean, log: (s: string) => void, nodeArgs: string[] = []): ServiceBenchConfig {
  return {
    quick,
    seconds: intEnv("NAVARCH_BENCH_SVC_SECONDS", quick ? 2 : 5, 1, 600),
    rounds: intEnv("NAVARCH_BENCH_SVC_ROUNDS", quick ? 1 : 5, 1, 50),
    connections: intEnv("NAVARCH_BENCH_SVC_CONNECTIONS", 8, 1, 1_000),
    threads: intEnv("NAVARCH_BENCH_SVC_THREADS", 2, 1, 64),
    log,
    nodeArgs,
  };
}

type Run = WrkResult & { synRetransmits: number };

interface Path {
  name: string;
  origin: "host" | "pod";
  url: string;
  /** The direct path of the same origin this one is compared with. */
  baseline?: string;
}

/** What a Ctrl-C must clean up besides the all-in-one. */
let active: { docker: Docker; node: string; network: string } | undefined;

export async function runServiceBench(cfg: ServiceBenchConfig): Promise<number> {
  const { log } = cfg;
  const docker = connectDocker();
  const why = await cannotRun(docker, log);
  if (why) {
    log(`services: skipped: ${why}`);
    console.log(`\nServices benchmark skipped: ${why}`);
    return 0;
  }
  const wrk = findWrk()!;
  const runId = randomBytes(3).toString("hex");
  const node = `bench-svc-${runId}`;
  const network = `navarch-bench-${runId}`;
  active = { docker, node, network };
  let cluster: Cluster | undefined;
  const pools: ClientPool[] = [];
  try {
    log(`services: starting an all-in-one with a node agent, node ${node}, pod network ${network}`);
    cluster = await startCluster({
      nodeArgs: cfg.nodeArgs,
      env: {
        NAVARCH_NODE_AGENT: "true",
        NAVARCH_NODE_NAME: node,
        NAVARCH_POD_NETWORK: network,
        NAVARCH_SERVICE_CLUSTER_IP_RANGE: CLUSTER_IP_RANGE,
        NAVARCH_SERVICE_NODE_PORT_RANGE: NODE_PORT_RANGE,
      },
    });
    const podPool = new ClientPool(cluster.apiAddr, cluster.token, KINDS.Pod, 1);
    const svcPool = new ClientPool(cluster.apiAddr, cluster.token, KINDS.Service, 1);
    const epPool = new ClientPool(cluster.apiAddr, cluster.token, KINDS.Endpoints, 1);
    pools.push(podPool, svcPool, epPool);
    await Promise.all(pools.map((p) => p.ready()));

    log("services: two backend pods, a client pod and a NodePort Service");
    await podPool.call("create", pod("backend", node, DEMO_IMAGE, { app: "bench-backend" }, []));
    await podPool.call("create", pod("direct", node, DEMO_IMAGE, { app: "bench-direct" }, []));
    await podPool.call("create", pod("client", node, CLIENT_IMAGE, { app: "bench-client" }, ["sleep", "86400"]));
    await svcPool.call(
      "create",
      KINDS.Service.codec.fromPartial({
        apiVersion: "v1",
        kind: "Service",
        metadata: { namespace: NAMESPACE, name: "backend" },
        spec: { type: "NodePort", selector: { app: "bench-backend" }, ports: [{ name: "http", port: 80, targetPort: "8080", protocol: "TCP" }] },
      }),
    );
    const backend = await until("the backend pod Running", 60_000, async () => {
      const p = await getObject<Pod>(podPool, KINDS.Pod, "backend");
      return p?.status?.phase === "Running" && p.status.podIP ? p : undefined;
    });
    const direct = await until("the direct pod Running", 60_000, async () => {
      const p = await getObject<Pod>(podPool, KINDS.Pod, "direct");
      return p?.status?.phase === "Running" && p.status.podIP ? p : undefined;
    });
    await until("the client pod Running", 60_000, async () => ((await getObject<Pod>(podPool, KINDS.Pod, "client"))?.status?.phase === "Running" ? true : undefined));
    const svc = await until("the Service's cluster IP and node port", 30_000, async () => {
      const s = await getObject<Service>(svcPool, KINDS.Service, "backend");
      return s?.spec?.clusterIP && s.spec.ports[0]?.nodePort ? s : undefined;
    });
    await until("the backend in the Service's Endpoints", 30_000, async () => {
      const e = await getObject<Endpoints>(epPool, KINDS.Endpoints, "backend");
      return e?.subsets.some((s) => s.addresses.some((a) => a.ip === backend.status!.podIP)) ? true : undefined;
    });
    const podIP = direct.status!.podIP;
    const clusterIP = svc.spec!.clusterIP;
    const nodePort = svc.spec!.ports[0]!.nodePort!;
    // Packets to the ClusterIP follow: first make sure none of them can leave this host.
    assertServiceTrafficStaysLocal({ clusterIP, cidr: CLUSTER_IP_RANGE });
    await until("the Service answering through the node's nftables table", 30_000, async () =>
      (await httpOk(`http://${clusterIP}/`)) && (await httpOk(`http://127.0.0.1:${nodePort}/`)) ? true : undefined,
    );
    const clientPid = await sandboxPid(docker, node, "client");

    const paths: Path[] = [
      { name: "host -> pod IP (direct)", origin: "host", url: `http://${podIP}:8080/` },
      { name: "host -> 127.0.0.1:NodePort", origin: "host", url: `http://127.0.0.1:${nodePort}/`, baseline: "host -> pod IP (direct)" },
      { name: "host -> ClusterIP", origin: "host", url: `http://${clusterIP}/`, baseline: "host -> pod IP (direct)" },
      { name: "pod -> pod IP (direct)", origin: "pod", url: `http://${podIP}:8080/` },
      { name: "pod -> ClusterIP", origin: "pod", url: `http://${clusterIP}/`, baseline: "pod -> pod IP (direct)" },
    ];
    const wrkOf = async (p: Path, seconds: number): Promise<Run> => {
      const netnsPid = p.origin === "pod" ? clientPid : undefined;
      const syn0 = synRetransmits(netnsPid);
      const w = await runWrk(wrk, p.url, { seconds, connections: cfg.connections, threads: cfg.threads, netnsPid });
      return { ...w, synRetransmits: synRetransmits(netnsPid) - syn0 };
    };

    log("services: warm-up (1 s per path)");
    for (const p of paths) await wrkOf(p, 1);

    const runs = new Map<string, Run[]>(paths.map((p) => [p.name, []]));
    const ratios = new Map<string, number[]>();
    const t0 = performance.now();
    const busy0 = machineBusyMs() ?? NaN;
    for (let r = 0; r < cfg.rounds; r++) {
      for (const [i, svcPath] of paths.filter((p) => p.baseline).entries()) {
        const direct = paths.find((p) => p.name === svcPath.baseline)!;
        const pair = (r + i) % 2 === 0 ? [direct, svcPath] : [svcPath, direct];
        const got = new Map<string, Run>();
        for (const p of pair) {
          log(`services: round ${r + 1}/${cfg.rounds}: ${p.name}, wrk -t${cfg.threads} -c${cfg.connections} -d${cfg.seconds}s`);
          const w = await wrkOf(p, cfg.seconds);
          got.set(p.name, w);
          runs.get(p.name)!.push(w);
        }
        const ratio = got.get(svcPath.name)!.requestsPerSec / got.get(direct.name)!.requestsPerSec;
        ratios.set(svcPath.name, [...(ratios.get(svcPath.name) ?? []), ratio]);
      }
    }
    const busy = ((machineBusyMs() ?? NaN) - busy0) / (performance.now() - t0) / os.cpus().length;
    printServiceReport(cfg, paths, runs, ratios, busy, { node, podIP, clusterIP, nodePort });
    const errors = [...runs.values()].flat().reduce((s, w) => s + w.errors, 0);
    return errors > 0 ? 1 : 0;
  } finally {
    for (const p of pools) p.close();
    if (cluster) {
      log("services: stopping the all-in-one");
      await cluster.dispose().catch((err: unknown) => log(`services: stopping the all-in-one: ${err instanceof Error ? err.message : String(err)}`));
    }
    await cleanupServices();
  }
}

/** Removes what the node agent leaves when it stops (its pods' containers) and what a crash could leave. */
export async function cleanupServices(): Promise<void> {
  if (!active) return;
  const { docker, node, network } = active;
  active = undefined;
  await removeNodeContainers(docker, node).catch(() => 0);
  // A clean agent stop removed its table and helper already; these are for a killed one.
  const helpers = await docker.listContainers({ all: true, filters: { label: [`${NETFILTER_OWNER_LABEL}=${node}`] } }).catch(() => []);
  for (const h of helpers) await docker.getContainer(h.Id).remove({ force: true }).catch(() => undefined);
  const table = `navarch-${node}`;
  spawnSync("nft", ["-f", "-"], { input: `table ip ${table}\ndelete table ip ${table}\n`, stdio: ["pipe", "ignore", "ignore"] });
  await docker
    .getNetwork(network)
    .remove()
    .catch(() => undefined);
}

/** Why this machine cannot run the benchmark (undefined: it can); builds missing images. */
async function cannotRun(docker: Docker, log: (s: string) => void): Promise<string | undefined> {
  const info = await engineInfo(docker);
  if (typeof info === "string") return info;
  if (!findWrk()) return "wrk is not installed (apt-get install wrk, or bash scripts/setup.sh --test)";
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/nsenter")) return "the pod-side runs need root and nsenter (util-linux) to enter the client pod's network namespace";
  const images = [DEMO_IMAGE, PAUSE_IMAGE, CLIENT_IMAGE, NETFILTER_IMAGE];
  const missing = async () => (await Promise.all(images.map(async (i) => ((await imagePresent(docker, i)) ? [] : [i])))).flat();
  if ((await missing()).length > 0) {
    log("services: building the local images (bash scripts/build-images.sh)");
    spawnSync("bash", ["scripts/build-images.sh"], { cwd: ROOT, stdio: ["ignore", 2, 2] });
    const still = await missing();
    if (still.length > 0) return `image(s) ${still.join(", ")} missing and scripts/build-images.sh could not build them`;
  }
  return undefined;
}

function pod(name: string, node: string, image: string, labels: Record<string, string>, command: string[]): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: NAMESPACE, name, labels },
    spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: "main", image, imagePullPolicy: "Never", command }] },
  });
}

async function getObject<T>(pool: ClientPool, kind: { codec: { decode(b: Uint8Array): unknown } }, name: string): Promise<T | undefined> {
  try {
    return kind.codec.decode(await pool.call("get", GetRequest.fromPartial({ namespace: NAMESPACE, name }))) as T;
  } catch (err) {
    if ((err as { code?: number }).code === 5) return undefined; // NOT_FOUND
    throw err;
  }
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`services: ${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

/**
 * The pid of the process holding a pod's network namespace: its sandbox, or for a pod without one
 * (a single-container pod on a network with fixed IPs, ADR 10) its only container.
 */
async function sandboxPid(docker: Docker, node: string, podName: string): Promise<number> {
  const ofPod = (role: string) => docker.listContainers({ filters: { label: [`${LABELS.node}=${node}`, `${LABELS.pod}=${podName}`, `${LABELS.role}=${role}`] } });
  const [holder] = [...(await ofPod("sandbox")), ...(await ofPod("app"))];
  if (!holder) throw new Error(`services: no running container of pod ${podName}`);
  const pid = (await docker.getContainer(holder.Id).inspect()).State.Pid;
  if (!pid) throw new Error(`services: the network holder of ${podName} has no pid`);
  return pid;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function printServiceReport(
  cfg: ServiceBenchConfig,
  paths: Path[],
  runs: Map<string, Run[]>,
  ratios: Map<string, number[]>,
  machineBusy: number,
  where: { node: string; podIP: string; clusterIP: string; nodePort: number },
): void {
  const out: string[] = [];
  out.push("");
  out.push(
    `Navarch services benchmark${cfg.quick ? " (quick)" : ""}: wrk -t${cfg.threads} -c${cfg.connections}, ${cfg.seconds} s per run, ${cfg.rounds} round(s) of ` +
      `service/direct pairs, ${os.cpus().length} CPU(s); two identical backend pods (busybox httpd: a new connection per request), ` +
      `direct ${where.podIP}:8080, the other behind ClusterIP ${where.clusterIP}:80 and NodePort 127.0.0.1:${where.nodePort}; ` +
      `data path: nftables table navarch-${where.node} written by the node agent`,
  );
  out.push("");
  out.push(
    table(
      ["path", "requests/s (median)", "p50 ms", "p99 ms", "errors", "SYN retransmits", "runs", "vs direct (median of pairs)", "pair ratios"],
      paths.map((p) => {
        const rs = runs.get(p.name)!;
        const pr = ratios.get(p.name);
        return [
          p.name,
          rate(median(rs.map((w) => w.requestsPerSec))),
          ms(median(rs.map((w) => w.p50Ms))),
          ms(median(rs.map((w) => w.p99Ms))),
          String(rs.reduce((s, w) => s + w.errors, 0)),
          String(rs.reduce((s, w) => s + w.synRetransmits, 0)),
          String(rs.length),
          pr ? `${median(pr).toFixed(2)}x` : "-",
          pr ? pr.map((x) => x.toFixed(2)).join(" ") : "-",
        ];
      }),
    ),
  );
  out.push("");
  for (const path of ["host -> 127.0.0.1:NodePort", "pod -> ClusterIP"]) {
    const p = paths.find((x) => x.name === path)!;
    const ratio = median(ratios.get(path)!);
    out.push(`${path} vs ${p.baseline}: ${ratio.toFixed(2)}x throughput (target >= ${SERVICE_RATIO_TARGET}x) ${ratio >= SERVICE_RATIO_TARGET ? "PASS" : "FAIL"}`);
  }
  out.push("p50/p99: wrk's, from request sent to response (connecting is not in them); SYN retransmits: in the client's network namespace during the runs, 1 s each.");
  out.push(
    `machine CPU busy during the runs: ${percent(machineBusy)} of ${os.cpus().length} cores (wrk, the backend, the control plane and anything else on the machine; ` +
      "when it is near 100% other work competes with the measured paths and the pair ratios scatter)",
  );
  console.log(out.join("\n"));
}
