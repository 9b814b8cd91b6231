#!/usr/bin/env node
// `npm run bench`: latency and throughput of the API gateway's create, get and list, against a
// real all-in-one (embedded nats-server + gateway + controllers) on 127.0.0.1.
//
//   1. warm-up: 200 creates, 200 gets, 20 lists
//   2. creates, open loop at 500/s for S s and at 1,000/s for S/2 s (latency from the scheduled start)
//   3. creates, closed loop, 32 in flight, S s
//   4. gets of random created names, closed loop, 32 in flight, S s
//   5. lists of one namespace holding 10,000 ConfigMaps: limit 500 (first page), 8 in flight, S s;
//      then full Lists (no limit) of that namespace and of all namespaces, 20 each, one at a time
//   6. one table, the target lines, the client's own load per phase, the control plane's RSS
//   7. the all-in-one stopped; then the pod benchmark (pods.ts) on a second all-in-one that runs
//      a node agent on the local Docker engine: N pods against raw Docker, first restarts, where
//      the time goes (skipped, with the reason printed, when `docker info` fails)
//
// Environment:
//   NAVARCH_BENCH_SECONDS   S, the length of a phase (default 10)
//   NAVARCH_BENCH_QUICK=1   every phase 2 s and 1,000 objects to list (a smoke test)
//   NAVARCH_BENCH_CHANNELS  gRPC channels (HTTP/2 connections) the client spreads calls over
//                           (default: 1 for creates, 4 for reads; see CREATE_CHANNELS)
//   NAVARCH_BENCH_CPU_PROF  a directory: run the all-in-one(s) with --cpu-prof into it
//   NAVARCH_BENCH_ONLY      api | pods | scheduler | scale | services (comma-separated): run those only;
//                           arguments do the same: `npm run bench -- scheduler scale`. Default: all
//                           five (quick mode: api and pods; the others' own smoke test runs them)
//   NAVARCH_BENCH_PODS, NAVARCH_BENCH_RESTARTS, NAVARCH_BENCH_POD_ROUNDS: see pods.ts
//   NAVARCH_BENCH_DEPLOY_REPLICAS, NAVARCH_BENCH_DEPLOY_ROUNDS: see deployments.ts (a 50-replica
//                           Deployment vs raw Docker and a Swarm service; `npm run bench -- deployments`)
//   NAVARCH_BENCH_SCHED_*, NAVARCH_BENCH_SCALE_*: see scheduler.ts (hollow nodes, pods bound/s)
//                           and scale.ts (5,000 nodes / 150,000 pods, RSS, API p99)
//   NAVARCH_FUZZ_*:         the API fuzz suite, only when named (`npm run bench -- fuzz`; see
//                           services/api-gateway/src/fuzz/main.ts): 20,000 hostile requests
//   NAVARCH_BENCH_SVC_*:    see services.ts (wrk through a Service vs straight to the pod;
//                           part "services": `npm run bench -- services`)
//
// The load generator shares this machine (2 cores) with the control plane, so the bench reports
// for every phase its own CPU and event-loop delay, the CPU of the all-in-one, of nats-server and
// of every other process on the machine; a phase where the client was the bottleneck, or where
// something else ran, is called out under the table. Responses are not decoded (see client.ts).
import { KINDS } from "@navarch/api";
import { readServerInfo } from "@navarch/nats-embedded";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { ClientPool, configMap, countItems, create, get, list } from "./client.js";
import { cpuMs, disposeAll, machineBusyMs, rssBytes, startCluster } from "./cluster.js";
import { closedLoop, openLoop, type PhaseResult } from "./load.js";
import { runFuzzBench } from "./fuzz.js";
import { cleanupDeployments, deploymentBenchConfig, runDeploymentBench, stopDeployments } from "./deployments.js";
import { cleanupPods, podBenchConfig, runPodBench, stopPods } from "./pods.js";
import { runScaleBench, scaleBenchConfig } from "./scale.js";
import { stopAllHollow } from "./scale-harness.js";
import { runSchedulerBench, schedulerBenchConfig } from "./scheduler.js";
import { cleanupServices, runServiceBench, serviceBenchConfig } from "./services.js";
import { mib, ms, percent, rate, RESULT_HEADERS, table } from "./report.js";

/**
 * gRPC channels (HTTP/2 connections) of the bench client, per operation. Measured on the 2-core
 * machine, 10 s phases, runs alternating 1 and 4 channels (two each):
 *   closed-loop creates, 32 in flight:  1 channel 3273, 3451 ops/s;  4 channels 3070, 2939 ops/s
 *   gets, 32 in flight:                 1 channel 7558, 8248 ops/s;  4 channels 9775, 9806 ops/s
 *   lists limit 500, 8 in flight:       1 channel  219,  235 ops/s;  4 channels  289,  284 ops/s
 *     (and with the 8 MiB receive window of client.ts: 1 channel 374, 374; 4 channels 438, 382)
 *   open-loop creates at 500/s and 1,000/s: no difference beyond noise.
 * So reads use 4 channels (one per 8 calls in flight: a single connection costs them 10-25%)
 * and creates keep 1 (more connections cost the write path ~10%). NAVARCH_BENCH_CHANNELS sets
 * one count for everything.
 */
const CREATE_CHANNELS = 1;
const READ_CHANNELS = 4;
const CREATE_P99_TARGET_MS = 50;
const TARGET_RATE = 500;
const NAMESPACE = "default";
const LIST_NAMESPACE = "bench-list";
/** A client using more than this share of a core is saturated (the bottleneck). */
const CLIENT_CPU_LIMIT = 0.9;
/** A client whose event loop lags more than this (p99) while calls overlap adds to their latency. */
const CLIENT_LOOP_P99_LIMIT_MS = 20;
/** Other processes using more than this share of a core during a phase disturb it. */
const OTHER_CPU_LIMIT = 0.1;

interface Config {
  quick: boolean;
  seconds: number;
  /** Channels for creates and for reads. */
  channels: { create: number; read: number };
  listObjects: number;
  fullLists: number;
  cpuProfDir: string | undefined;
}

function readConfig(): Config {
  const quick = process.env.NAVARCH_BENCH_QUICK === "1";
  const seconds = quick ? 2 : numberEnv("NAVARCH_BENCH_SECONDS", 10, 0.5, 600);
  return {
    quick,
    seconds,
    channels: channelsFromEnv(),
    listObjects: quick ? 1_000 : 10_000,
    fullLists: 20,
    cpuProfDir: process.env.NAVARCH_BENCH_CPU_PROF || undefined,
  };
}

function channelsFromEnv(): { create: number; read: number } {
  const n = numberEnv("NAVARCH_BENCH_CHANNELS", 0, 1, 64);
  return n ? { create: Math.round(n), read: Math.round(n) } : { create: CREATE_CHANNELS, read: READ_CHANNELS };
}

function numberEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${name}=${raw}: expected a number from ${min} to ${max}`);
  return v;
}

/** What decoding one large List response costs this client (reported, not in the latencies). */
interface Decode {
  objects: number;
  bytes: number;
  ms: number;
}

interface Row {
  operation: string;
  load: string;
  res: PhaseResult;
  /** CPU of the all-in-one and of nats-server during the phase, as a share of one core. */
  serverCpu: number;
  natsCpu: number;
  /** CPU used by every other process on the machine during the phase (share of one core). */
  otherCpu: number;
  /** VmRSS of the all-in-one and nats-server after the phase, bytes. */
  rssAfter: number | undefined;
  /** One call at a time: event-loop delay then is the client receiving that call's own response. */
  sequential: boolean;
}

async function main(): Promise<number> {
  const cfg = readConfig();
  // With a CPU profile, every line carries the monotonic clock in µs (the clock the profile's
  // startTime and timeDeltas use), so the profile can be cut into phases.
  const stamp = () => (cfg.cpuProfDir ? `[${process.hrtime.bigint() / 1000n}] ` : "");
  const log = (s: string) => process.stderr.write(`bench: ${stamp()}${s}\n`);

  // Ctrl-C or a kill: stop every all-in-one (its own process group) and remove its temp home,
  // then the containers of the pod benchmark (after the agent, so it cannot start them again).
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping`);
    stopPods();
    stopDeployments();
    void Promise.all([stopAllHollow(), disposeAll()])
      .then(cleanupPods)
      .then(cleanupDeployments)
      .then(cleanupServices)
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const parts = selectedParts(cfg.quick);
  const profArgs = cfg.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", cfg.cpuProfDir] : [];
  const podCfg = parts.has("pods") ? podBenchConfig(cfg.quick, log, profArgs) : undefined;
  const deploymentCfg = parts.has("deployments") ? deploymentBenchConfig(cfg.quick, log, profArgs) : undefined;
  const schedulerCfg = parts.has("scheduler") ? schedulerBenchConfig(cfg.quick, log, profArgs) : undefined;
  const scaleCfg = parts.has("scale") ? scaleBenchConfig(cfg.quick, log, profArgs) : undefined;
  const servicesCfg = parts.has("services") ? serviceBenchConfig(cfg.quick, log, profArgs) : undefined;
  let code = 0;
  if (parts.has("api")) code = await apiBench(cfg, log);
  if (podCfg) code = Math.max(code, await runPodBench(podCfg));
  if (deploymentCfg) code = Math.max(code, await runDeploymentBench(deploymentCfg));
  if (schedulerCfg) code = Math.max(code, await runSchedulerBench(schedulerCfg));
  if (scaleCfg) code = Math.max(code, await runScaleBench(scaleCfg));
  if (servicesCfg) code = Math.max(code, await runServiceBench(servicesCfg));
  if (parts.has("fuzz")) code = Math.max(code, await runFuzzBench(log));
  return code;
}

const PARTS = ["api", "pods", "deployments", "scheduler", "scale", "services", "fuzz"] as const;
/** Parts that run only when named: the fuzz suite is a correctness run, not a measurement. */
const NAMED_ONLY = new Set(["fuzz"]);

/** The parts named as arguments or in NAVARCH_BENCH_ONLY; by default all but NAMED_ONLY (quick: api and pods). */
function selectedParts(quick: boolean): Set<string> {
  const named = [...process.argv.slice(2), ...(process.env.NAVARCH_BENCH_ONLY ?? "").split(",")].map((s) => s.trim()).filter(Boolean);
  for (const p of named) {
    if (!(PARTS as readonly string[]).includes(p)) throw new Error(`unknown bench part "${p}": expected ${PARTS.join(", ")}`);
  }
  if (named.length > 0) return new Set(named);
  return new Set(quick ? ["api", "pods"] : PARTS.filter((p) => !NAMED_ONLY.has(p)));
}

/** The API phases against an all-in-one without a node agent; prints the API tables. */
async function apiBench(cfg: Config, log: (s: string) => void): Promise<number> {
  const cpus = os.cpus();
  log(`starting the all-in-one${cfg.quick ? " (quick mode)" : ""}`);
  const cluster = await startCluster({
    nodeArgs: cfg.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", cfg.cpuProfDir] : [],
  });

  let natsVersion = "?";
  try {
    const u = new URL(cluster.natsUrl);
    natsVersion = (await readServerInfo(u.hostname, Number(u.port))).version;
  } catch {
    // only for the header
  }

  const pool = new ClientPool(cluster.apiAddr, cluster.token, KINDS.ConfigMap, cfg.channels.create);
  const readPool = new ClientPool(cluster.apiAddr, cluster.token, KINDS.ConfigMap, cfg.channels.read);
  const nsPool = new ClientPool(cluster.apiAddr, cluster.token, KINDS.Namespace, 1);
  const rows: Row[] = [];
  let rss: { server?: number; nats?: number } = {};
  let decode: Decode | undefined;
  try {
    await pool.ready();
    await readPool.ready();
    await nsPool.ready();

    const phase = async (operation: string, load: string, run: () => Promise<PhaseResult>, sequential = false): Promise<Row> => {
      log(`${operation}: ${load}`);
      const natsPid = cluster.natsPid();
      const t0 = performance.now();
      const s0 = cpuMs(cluster.pid) ?? NaN;
      const n0 = cpuMs(natsPid) ?? NaN;
      const m0 = machineBusyMs() ?? NaN;
      const c0 = process.cpuUsage();
      const res = await run();
      if (cfg.cpuProfDir) log(`${operation}: done`);
      const wall = performance.now() - t0;
      const c1 = process.cpuUsage(c0);
      const serverCpu = ((cpuMs(cluster.pid) ?? NaN) - s0) / wall;
      const natsCpu = ((cpuMs(natsPid) ?? NaN) - n0) / wall;
      const machineCpu = ((machineBusyMs() ?? NaN) - m0) / wall;
      const row: Row = {
        operation,
        load,
        res,
        serverCpu,
        natsCpu,
        otherCpu: Math.max(0, machineCpu - serverCpu - natsCpu - (c1.user + c1.system) / 1000 / wall),
        sequential,
        rssAfter: sum(rssBytes(cluster.pid), rssBytes(natsPid)),
      };
      rows.push(row);
      if (res.errors > 0) log(`  ${res.errors} error(s): ${res.errorMessages.join(" | ")}`);
      return row;
    };

    // Names of every ConfigMap created in NAMESPACE, for the gets.
    const created: string[] = [];
    const createIn = (namespace: string, prefix: string) => async (i: number) => {
      const name = `${prefix}-${i}`;
      await create(pool, configMap(namespace, name));
      if (namespace === NAMESPACE) created.push(name);
    };
    const S = cfg.seconds;
    const sec = (s: number) => `${Number(s.toFixed(1))} s`;

    // 1. Warm-up (JIT, connections, caches); not reported.
    log("warm-up");
    await must("warm-up creates", closedLoop(createIn(NAMESPACE, "warm"), { concurrency: 8, durationMs: 60_000, maxCount: 200 }));
    await must("warm-up gets", closedLoop((i) => get(readPool, NAMESPACE, created[i % created.length]!), { concurrency: 8, durationMs: 60_000, maxCount: 200 }));
    await must("warm-up lists", closedLoop(() => list(readPool, NAMESPACE, 100), { concurrency: 2, durationMs: 60_000, maxCount: 20 }));

    // 2. Creates at a fixed rate (open loop).
    const createAt = async (perSec: number, seconds: number, prefix: string) => {
      const durationMs = seconds * 1000;
      return phase("create", `open loop ${perSec}/s, ${sec(seconds)}`, () =>
        openLoop(createIn(NAMESPACE, prefix), { rate: perSec, durationMs, maxCount: Math.round(perSec * seconds) }),
      );
    };
    const at500 = await createAt(TARGET_RATE, S, "open500");
    await createAt(1000, cfg.quick ? S : S / 2, "open1000");

    // 3. Creates at a fixed concurrency (closed loop).
    await phase("create", `closed loop, 32 in flight, ${sec(S)}`, () =>
      closedLoop(createIn(NAMESPACE, "closed"), { concurrency: 32, durationMs: S * 1000, maxCount: 1_000_000 }),
    );

    // 4. Gets of random names among those created.
    const names = [...created];
    await phase("get", `closed loop, 32 in flight, ${sec(S)}, ${names.length.toLocaleString("en-US")} objects`, () =>
      closedLoop(() => get(readPool, NAMESPACE, names[Math.floor(Math.random() * names.length)]!), {
        concurrency: 32,
        durationMs: S * 1000,
        maxCount: 10_000_000,
      }),
    );

    // 5. Lists of a namespace holding cfg.listObjects ConfigMaps.
    log(`filling namespace ${LIST_NAMESPACE} with ${cfg.listObjects} ConfigMaps`);
    await nsPool.call("create", KINDS.Namespace.codec.fromPartial({ apiVersion: "v1", kind: "Namespace", metadata: { name: LIST_NAMESPACE } }));
    const fill = await must(
      "fill",
      closedLoop(createIn(LIST_NAMESPACE, "item"), { concurrency: 32, durationMs: 300_000, maxCount: cfg.listObjects }),
    );
    if (fill.ok !== cfg.listObjects) throw new Error(`filled ${fill.ok} of ${cfg.listObjects} objects`);
    const n = cfg.listObjects.toLocaleString("en-US");
    await phase("list, limit 500", `closed loop, 8 in flight, ${sec(S)}, namespace of ${n}`, () =>
      closedLoop(() => expectItems(list(readPool, LIST_NAMESPACE, 500), 500), { concurrency: 8, durationMs: S * 1000, maxCount: 1_000_000 }),
    );
    let fullList: Buffer | undefined;
    await phase("list namespace, no limit", `1 in flight, ${cfg.fullLists} times, ${n} objects`, () =>
      closedLoop(async () => (fullList = await expectItems(list(readPool, LIST_NAMESPACE, 0), cfg.listObjects)), {
        concurrency: 1,
        durationMs: 300_000,
        maxCount: cfg.fullLists,
      }),
      true,
    );
    let total = 0;
    const all = await phase("list all namespaces, no limit", `1 in flight, ${cfg.fullLists} times`, () =>
      closedLoop(
        async () => {
          total = countItems(await list(readPool, "", 0));
        },
        { concurrency: 1, durationMs: 300_000, maxCount: cfg.fullLists },
      ),
      true,
    );
    all.load += `, ${total.toLocaleString("en-US")} objects`;
    if (fullList) {
      decode = { objects: cfg.listObjects, bytes: fullList.length, ms: decodeCost(readPool, fullList, cfg.listObjects) };
    }

    rss = { server: rssBytes(cluster.pid), nats: rssBytes(cluster.natsPid()) };
    const errors = rows.reduce((s, r) => s + r.res.errors, 0);
    printReport(cfg, cpus, natsVersion, rows, at500, rss, decode);
    return errors > 0 ? 1 : 0;
  } catch (err) {
    if (rows.length > 0) printReport(cfg, cpus, natsVersion, rows, undefined, rss, decode);
    throw err;
  } finally {
    pool.close();
    readPool.close();
    nsPool.close();
    log("stopping the all-in-one");
    await cluster.dispose();
    if (cfg.cpuProfDir) log(`all-in-one CPU profile written to ${cfg.cpuProfDir}`);
  }
}

function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

/** Awaits a phase that must succeed completely (setup, not measured). */
async function must(what: string, p: Promise<PhaseResult>): Promise<PhaseResult> {
  const r = await p;
  if (r.errors > 0) throw new Error(`${what}: ${r.errors} error(s): ${r.errorMessages.join(" | ")}`);
  return r;
}

/** A List that must return exactly `n` items (a short page would make the figure meaningless). */
async function expectItems(p: Promise<Buffer>, n: number): Promise<Buffer> {
  const bytes = await p;
  const got = countItems(bytes);
  if (got !== n) throw new Error(`list returned ${got} items, expected ${n}`);
  return bytes;
}

/** The median time this process takes to decode a List response with the generated codec. */
function decodeCost(pool: ClientPool, bytes: Buffer, expected: number): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const n = pool.decodeList(bytes).items.length;
    times.push(performance.now() - t0);
    if (n !== expected) throw new Error(`decoded ${n} items, the wire count was ${expected}`);
  }
  return times.sort((a, b) => a - b)[2]!;
}

function printReport(
  cfg: Config,
  cpus: os.CpuInfo[],
  natsVersion: string,
  rows: Row[],
  at500: Row | undefined,
  rss: { server?: number; nats?: number },
  decode: Decode | undefined,
): void {
  const out: string[] = [];
  out.push(
    `Navarch API benchmark${cfg.quick ? " (quick)" : ""}: node ${process.version}, ${cpus.length} CPU(s), ${cpus[0]?.model.trim() ?? "unknown CPU"}, ` +
      `nats-server ${natsVersion}, gRPC channels: ${cfg.channels.create} for creates, ${cfg.channels.read} for reads; ConfigMaps of ~200 bytes of data; ` +
      "latency = call start (scheduled start in open loop) to response bytes received (the load generator does not decode responses)",
  );
  if (Number(process.versions.node.split(".")[0]) < 24) {
    out.push(`note: the repository pins Node 24 (npm run bench uses it); this ran on ${process.version}, and figures differ a lot.`);
  }
  out.push("");
  out.push(
    table(
      RESULT_HEADERS,
      rows.map((r) => [
        r.operation,
        r.load,
        rate(r.res.opsPerSec),
        ms(r.res.latency.p50),
        ms(r.res.latency.p90),
        ms(r.res.latency.p99),
        ms(r.res.latency.max),
        String(r.res.errors),
      ]),
    ),
  );
  out.push("");
  if (at500) {
    const p99 = at500.res.latency.p99;
    const pass = at500.res.errors === 0 && at500.res.ok > 0 && p99 <= CREATE_P99_TARGET_MS;
    const why = at500.res.errors > 0 ? ` (${at500.res.errors} errors)` : "";
    out.push(`create p99 at ${TARGET_RATE}/s: ${ms(p99)} ms (target <= ${CREATE_P99_TARGET_MS} ms) ${pass ? "PASS" : "FAIL"}${why}`);
  }
  if (decode) {
    out.push(
      `client-side decode of one ${decode.objects.toLocaleString("en-US")}-object List response (${mib(decode.bytes)}) with the generated codec: ${ms(decode.ms)} ms in this process (not in the latencies above)`,
    );
  }
  out.push(`control plane RSS at the end: all-in-one ${mib(rss.server)} + nats-server ${mib(rss.nats)} = ${mib(sum(rss.server, rss.nats))}`);
  out.push("");
  out.push("Who used the CPU in each phase (share of one core; this machine has " + cpus.length + "), and the client's own event loop:");
  out.push("");
  out.push(
    table(
      ["operation", "load", "client CPU", "all-in-one CPU", "nats-server CPU", "other processes CPU", "client loop delay p99 ms", "open-loop start lag p99 ms", "control plane RSS after"],
      rows.map((r) => [
        r.operation,
        r.load,
        percent(r.res.client.cpu),
        percent(r.serverCpu),
        percent(r.natsCpu),
        percent(r.otherCpu),
        ms(r.res.client.loopDelayP99),
        r.res.startLagP99 === undefined ? "-" : ms(r.res.startLagP99),
        mib(r.rssAfter),
      ]),
    ),
  );
  // The client is the bottleneck when it runs out of CPU; a lagging event loop (while calls
  // overlap) means some of a row's latency was spent waiting in this process.
  const saturated = rows.filter((r) => r.res.client.cpu > CLIENT_CPU_LIMIT);
  const lagging = rows.filter((r) => !r.sequential && r.res.client.cpu <= CLIENT_CPU_LIMIT && r.res.client.loopDelayP99 > CLIENT_LOOP_P99_LIMIT_MS);
  out.push("");
  if (saturated.length === 0 && lagging.length === 0) {
    out.push(
      `client: not saturated (CPU <= ${percent(CLIENT_CPU_LIMIT)} of a core in every phase, event-loop delay p99 <= ${CLIENT_LOOP_P99_LIMIT_MS} ms wherever calls overlap).`,
    );
  }
  for (const r of saturated) {
    out.push(
      `client SATURATED in "${r.operation}, ${r.load}": CPU ${percent(r.res.client.cpu)} of a core, event-loop delay p99 ${ms(r.res.client.loopDelayP99)} ms — ` +
        "that row measures the load generator as much as the server.",
    );
  }
  for (const r of lagging) {
    out.push(
      `client lagging in "${r.operation}, ${r.load}": event-loop delay p99 ${ms(r.res.client.loopDelayP99)} ms at CPU ${percent(r.res.client.cpu)} of a core — ` +
        "not the bottleneck, but up to that much of the row's tail latency may be spent in the client.",
    );
  }
  const blocked = rows.filter((r) => r.sequential && r.res.client.loopDelayP99 > CLIENT_LOOP_P99_LIMIT_MS);
  if (blocked.length > 0) {
    out.push(
      `client: in ${blocked.map((r) => `"${r.operation}"`).join(" and ")} (one call at a time) the event loop stalls while it receives each large response ` +
        `(p99 ${blocked.map((r) => ms(r.res.client.loopDelayP99)).join(" / ")} ms); no other call waits behind it.`,
    );
  }
  const noisy = rows.filter((r) => r.otherCpu > OTHER_CPU_LIMIT);
  if (noisy.length > 0) {
    out.push(
      `machine: other processes used CPU during ${noisy.map((r) => `"${r.operation}, ${r.load}" (${percent(r.otherCpu)})`).join(", ")} — ` +
        "those rows are disturbed; run again on a quiet machine for clean figures.",
    );
  }
  const busy = rows.filter((r) => r.res.client.cpu + r.serverCpu + r.natsCpu + r.otherCpu > 0.9 * cpus.length);
  if (busy.length > 0) {
    out.push(
      `machine: all ${cpus.length} cores (nearly) busy in ${busy.map((r) => `"${r.operation}, ${r.load}"`).join(", ")} — the client, the control plane (and any other process) compete for the CPU there.`,
    );
  }
  for (const r of rows.filter((r) => r.res.errors > 0)) out.push(`errors in "${r.operation}, ${r.load}": ${r.res.errorMessages.join(" | ")}`);
  console.log(out.join("\n"));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
