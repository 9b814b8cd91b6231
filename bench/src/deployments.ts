// The deployment benchmark (issue 5), on real Docker, everything in the same run:
//
//   0. an all-in-one of its own WITH a node agent on the local Docker engine (node
//      bench-dep-<random>; the scheduler places the pods there); Watches of Deployments and Pods
//      through the API; Docker's event stream; a warm-up Deployment of 1 replica
//   1. Navarch: a Deployment of N replicas (apps/v1, navarch/demo:1, imagePullPolicy Never) -
//      the Create that `navctl apply` sends, timed until all N pods are Running and ready on the
//      Pod watch, and until the Deployment reports N available (updated = total = available =
//      N, as `rollout status` waits for). How many pods the agent really started at once is
//      measured from Docker's events (a pod is in flight from its sandbox's create - its app
//      container's create when it has no sandbox - to its app container's start)
//   2. a rolling update of those N replicas to navarch/demo:2 (maxSurge 25%, maxUnavailable
//      25%), until `rollout status` would say done; the most pods and the fewest ready pods seen
//      on the watch meanwhile, against replicas + maxSurge and replicas - maxUnavailable
//   3. raw Docker: N `docker run -d` (create, start, inspect until running) of the demo image at
//      the agent's measured concurrency - the 1.25x target's baseline - and, for reference,
//      Navarch's container layout by hand (a pause sandbox + the app in its network namespace)
//   4. Docker Swarm: a one-node swarm of this engine, a service of N replicas of the same local
//      image until all tasks run (the 1.5x target's baseline), then its rolling update
//      (parallelism = maxSurge, start-first), then the service removed and the swarm left
//
// Environment: NAVARCH_BENCH_DEPLOY_REPLICAS=N (default 50; 5 in quick mode),
// NAVARCH_BENCH_DEPLOY_ROUNDS (default 1; rounds alternate which side goes first; the targets
// take the median round).
import { DeleteRequest, GetRequest, KINDS, type Deployment, type Pod } from "@navarch/api";
import * as grpc from "@grpc/grpc-js";
import type Docker from "dockerode";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { cpuMs, machineBusyMs, ROOT, startCluster, type Cluster } from "./cluster.js";
import {
  connectDocker,
  DEMO_IMAGE,
  DockerEvents,
  engineInfo,
  enginePids,
  imagePresent,
  LABELS,
  nodeContainerCount,
  PAUSE_IMAGE,
  RAW_LABEL,
  rawRun,
  removeNodeContainers,
  removeRaw,
  sleep,
  wallClock,
  type Clock,
  type EngineInfo,
  type RawRun,
} from "./docker.js";
import { closeSwarm, openSwarm, SWARM_LABEL, swarmCreate, swarmUpdate, type SwarmRun, type SwarmSession } from "./deployments-swarm.js";
import { ObjectWatch } from "./deployments-watch.js";
import { isRunning, stateOf } from "./pod-watch.js";
import { ms, percent, table } from "./report.js";
import { summarize } from "./stats.js";

const NAMESPACE = "default";
const DEMO2_IMAGE = "navarch/demo:2";
export const DEPLOY_RATIO_TARGET = 1.25;
export const SWARM_SPEEDUP_TARGET = 1.5;
const TARGET_N = 50;
const CALL_TIMEOUT_MS = 10_000;

export interface DeploymentBenchConfig {
  quick: boolean;
  n: number;
  rounds: number;
  log: (s: string) => void;
  nodeArgs: string[];
}

export function deploymentBenchConfig(quick: boolean, log: (s: string) => void, nodeArgs: string[] = []): DeploymentBenchConfig {
  return { quick, log, nodeArgs, n: intEnv("NAVARCH_BENCH_DEPLOY_REPLICAS", quick ? 5 : TARGET_N, 1, 300), rounds: intEnv("NAVARCH_BENCH_DEPLOY_ROUNDS", 1, 1, 10) };
}

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  return v;
}

/** What a Ctrl-C must clean up besides the all-in-one. */
let active: { docker: Docker; node: string; runId: string; abort: AbortController; swarm: SwarmSession | undefined } | undefined;

/** Ctrl-C, first: the raw runs start no more containers. */
export function stopDeployments(): void {
  active?.abort.abort();
}

/** Ctrl-C, after the all-in-one is stopped: removes the node's and the raw containers, and the swarm. Idempotent. */
export async function cleanupDeployments(): Promise<void> {
  const a = active;
  active = undefined;
  if (!a) return;
  a.abort.abort();
  await Promise.allSettled([removeNodeContainers(a.docker, a.node), removeRaw(a.docker, a.runId), a.swarm ? closeSwarm(a.docker, a.swarm, a.runId) : undefined]);
}

interface CpuShares {
  server: number;
  engine: number;
  other: number;
  /** Container events on the engine that were not this run's. */
  foreignEvents: number;
}

interface Measured<T> {
  value: T;
  cpu: CpuShares;
}

interface NavarchCreate {
  /** Create call -> all N pods Running and ready on the watch. */
  runningMs: number;
  /** Create call -> the Deployment reports N updated, total and available. */
  availableMs: number;
  /** Per pod, Create call -> Running on the watch. */
  each: number[];
  inFlight: { peak: number; mean: number };
  /** Containers the pods took: one each, plus a sandbox where the pod network gives no fixed IPs (ADR 10). */
  containers: number;
}

interface NavarchUpdate {
  wallMs: number;
  maxPods: number;
  minReady: number;
  surge: number;
  unavailable: number;
}

interface Round {
  create: Measured<NavarchCreate>;
  update: Measured<NavarchUpdate>;
  raw: Measured<RawRun>;
  pairs: Measured<RawRun>;
}

interface Ctx {
  cfg: DeploymentBenchConfig;
  docker: Docker;
  node: string;
  runId: string;
  clock: Clock;
  events: DockerEvents;
  cluster: Cluster;
  api: DeploymentApi;
  deployments: ObjectWatch<Deployment>;
  pods: ObjectWatch<Pod>;
}

export async function runDeploymentBench(cfg: DeploymentBenchConfig): Promise<number> {
  const { log } = cfg;
  const docker = connectDocker();
  const engine = await engineInfo(docker);
  if (typeof engine === "string") {
    console.log(`\nNavarch deployments benchmark skipped: ${engine}`);
    return 0;
  }
  const why = await ensureImages(docker, log);
  if (why) {
    console.log(`\nNavarch deployments benchmark skipped: ${why}`);
    return 0;
  }
  const runId = randomBytes(3).toString("hex");
  const node = `bench-dep-${runId}`;
  const abort = new AbortController();
  active = { docker, node, runId, abort, swarm: undefined };
  const clock = wallClock();
  let events: DockerEvents | undefined;
  let cluster: Cluster | undefined;
  let api: DeploymentApi | undefined;
  let deployments: ObjectWatch<Deployment> | undefined;
  let pods: ObjectWatch<Pod> | undefined;
  try {
    events = await DockerEvents.open(docker);
    log(`deployments: starting an all-in-one with a node agent, node ${node}`);
    cluster = await startCluster({ nodeArgs: cfg.nodeArgs, env: { NAVARCH_NODE_AGENT: "true", NAVARCH_NODE_NAME: node } });
    api = new DeploymentApi(cluster.apiAddr, cluster.token);
    deployments = new ObjectWatch(cluster.apiAddr, cluster.token, KINDS.Deployment, NAMESPACE, clock);
    pods = new ObjectWatch(cluster.apiAddr, cluster.token, KINDS.Pod, NAMESPACE, clock);
    deployments.start();
    pods.start();
    const ctx: Ctx = { cfg, docker, node, runId, clock, events, cluster, api, deployments, pods };

    log("deployments: warm-up (a 1-replica Deployment, one raw container)");
    await navarchCreate(ctx, "bench-warmup", 1);
    await removeDeployment(ctx, "bench-warmup");
    await rawRun(docker, clock, runId, "warm", 1, 1, "lone", abort.signal);
    await removeRaw(docker, runId);

    const rounds: Round[] = [];
    for (let r = 1; r <= cfg.rounds; r++) {
      const name = `bench-web-${r}`;
      const navarch = async () => {
        log(`deployments: round ${r}: a Deployment of ${cfg.n} replicas`);
        const create = await measured(ctx, () => navarchCreate(ctx, name, cfg.n));
        log(`deployments: round ${r}: rolling update of the ${cfg.n} replicas to ${DEMO2_IMAGE}`);
        const update = await measured(ctx, () => navarchUpdate(ctx, name, cfg.n));
        log(`deployments: round ${r}: scaling to 0 and deleting`);
        await removeDeployment(ctx, name);
        return { create, update };
      };
      const raw = async (c: number) => {
        log(`deployments: round ${r}: ${cfg.n} raw containers, ${c} at a time; then as sandbox + app pairs`);
        const lone = await measured(ctx, () => rawRun(docker, clock, runId, `r${r}`, cfg.n, c, "lone", abort.signal));
        await removeRaw(docker, runId);
        const pairs = await measured(ctx, () => rawRun(docker, clock, runId, `p${r}`, cfg.n, c, "pair", abort.signal));
        await removeRaw(docker, runId);
        return { raw: lone, pairs };
      };
      // Raw Docker runs at the agent's concurrency, so the first round's Navarch run goes first.
      if (r % 2 === 1 || rounds.length === 0) {
        const nav = await navarch();
        rounds.push({ ...nav, ...(await raw(Math.max(1, Math.round(nav.create.value.inFlight.peak)))) });
      } else {
        const c = Math.max(1, Math.round(rounds[0]!.create.value.inFlight.peak));
        const rw = await raw(c);
        rounds.push({ ...(await navarch()), ...rw });
      }
    }
    deployments.check();
    pods.check();

    // Swarm last: the all-in-one's agent is idle by then, and the swarm is gone before we return.
    log("deployments: Docker Swarm");
    const swarm = await runSwarm(ctx, rounds[0]!.update.value.surge);
    printDeploymentReport(cfg, engine, node, rounds, swarm);
    return 0;
  } finally {
    deployments?.close();
    pods?.close();
    api?.close();
    if (cluster) {
      log("deployments: stopping the all-in-one");
      await cluster.dispose().catch((err: unknown) => log(`deployments: stopping the all-in-one: ${err instanceof Error ? err.message : String(err)}`));
    }
    const left = await Promise.all([removeNodeContainers(docker, node), removeRaw(docker, runId)]).catch(() => [0, 0]);
    if (left[0]! + left[1]! > 0) log(`deployments: removed ${left[0]} container(s) of node ${node} and ${left[1]} raw container(s) left behind`);
    if (active?.swarm) await closeSwarm(docker, active.swarm, runId).catch(() => undefined);
    active = undefined;
    events?.close();
  }
}

interface SwarmFigures {
  create?: Measured<SwarmRun>;
  update?: Measured<SwarmRun>;
  skipped?: string;
  parallelism: number;
}

async function runSwarm(ctx: Ctx, parallelism: number): Promise<SwarmFigures> {
  const { docker, runId, clock, cfg } = ctx;
  const opened = await openSwarm(docker, runId);
  if (typeof opened === "string") return { skipped: opened, parallelism };
  active!.swarm = opened;
  try {
    const timeout = 60_000 + cfg.n * 2_000;
    ctx.cfg.log(`deployments: swarm service of ${cfg.n} replicas`);
    const create = await measured(ctx, () => swarmCreate(docker, opened, runId, cfg.n, DEMO_IMAGE, clock, timeout));
    ctx.cfg.log(`deployments: swarm rolling update to ${DEMO2_IMAGE}, ${parallelism} at a time, start-first`);
    const update = await measured(ctx, () => swarmUpdate(docker, opened, cfg.n, DEMO2_IMAGE, parallelism, clock, timeout * 2));
    return { create, update, parallelism };
  } finally {
    ctx.cfg.log("deployments: removing the swarm service and leaving the swarm");
    await closeSwarm(docker, opened, runId);
    active!.swarm = undefined;
  }
}

// ---------------------------------------------------------------- Navarch

/** The Deployment calls the bench makes (decoded: it reads the objects back). */
class DeploymentApi {
  private readonly client: grpc.Client & Record<string, Function>;
  private readonly md = new grpc.Metadata();

  constructor(addr: string, token: string) {
    this.client = new KINDS.Deployment.client(addr, grpc.credentials.createInsecure(), { "grpc.enable_http_proxy": 0 }) as grpc.Client & Record<string, Function>;
    this.md.set("authorization", `Bearer ${token}`);
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) =>
      this.client[method]!.call(this.client, req, this.md, { deadline: Date.now() + CALL_TIMEOUT_MS }, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
    );
  }

  create(d: Deployment): Promise<Deployment> {
    return this.call("create", d);
  }

  get(name: string): Promise<Deployment> {
    return this.call("get", GetRequest.fromPartial({ namespace: NAMESPACE, name }));
  }

  /** Read, change, compare-and-swap update; a conflict (the controller wrote status) reads again. */
  async modify(name: string, change: (d: Deployment) => void): Promise<Deployment> {
    for (let i = 0; ; i++) {
      const d = await this.get(name);
      change(d);
      try {
        return await this.call("update", d);
      } catch (err) {
        if ((err as grpc.ServiceError).code !== grpc.status.ABORTED || i >= 20) throw err;
      }
    }
  }

  delete(name: string): Promise<unknown> {
    return this.call("delete", DeleteRequest.fromPartial({ namespace: NAMESPACE, name, propagationPolicy: "Background" }));
  }

  close(): void {
    this.client.close();
  }
}

function deploymentObject(name: string, replicas: number): Deployment {
  return KINDS.Deployment.codec.fromPartial({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NAMESPACE, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 5, containers: [{ name: "web", image: DEMO_IMAGE, imagePullPolicy: "Never" }] },
      },
    },
  });
}

const ofApp = (pods: ObjectWatch<Pod>, app: string) => [...pods.objects.values()].filter((p) => p.metadata?.labels?.app === app);
const active_ = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
const ready = (p: Pod) => active_(p) && (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);

/** What `rollout status` waits for: this generation seen, and updated = total = available = n. */
function rolledOut(d: Deployment | undefined, n: number): boolean {
  const s = d?.status;
  return !!s && s.observedGeneration >= (d!.metadata?.generation ?? 0) && s.updatedReplicas === n && s.replicas === n && s.availableReplicas === n;
}

async function navarchCreate(ctx: Ctx, name: string, n: number): Promise<NavarchCreate> {
  const { clock, pods, deployments } = ctx;
  const timeout = 60_000 + n * 2_000;
  const runningAt = new Map<string, number>();
  const off = pods.onChange((at) => {
    for (const p of ofApp(pods, name)) {
      if (!runningAt.has(p.metadata!.name) && isRunning(stateOf(p.status, at))) runningAt.set(p.metadata!.name, at);
    }
  });
  try {
    const t0 = clock();
    await ctx.api.create(deploymentObject(name, n));
    const running = await pods.until(() => runningAt.size >= n, timeout, `${n} pods of ${name} Running`);
    const available = await deployments.until(() => rolledOut(deployments.objects.get(name), n), timeout, `deployment ${name} available`);
    return {
      runningMs: running - t0,
      availableMs: available - t0,
      each: [...runningAt.values()].map((at) => at - t0),
      ...inFlight(ctx, name),
    };
  } finally {
    off();
  }
}

/**
 * Pods of the deployment the agent had in flight at once: sandbox created (the app container
 * created, for a pod without a sandbox) -> app container started (Docker events); and how many
 * containers the pods took.
 */
function inFlight(ctx: Ctx, app: string): { inFlight: { peak: number; mean: number }; containers: number } {
  const byPod = new Map<string, { sandbox?: number; created?: number; end?: number }>();
  for (const e of ctx.events.all) {
    const pod = e.labels[LABELS.pod] ?? "";
    if (e.labels[LABELS.node] !== ctx.node || !pod.startsWith(`${app}-`)) continue;
    const w = byPod.get(pod) ?? {};
    if (e.labels[LABELS.role] === "sandbox" && e.action === "create") w.sandbox ??= e.at;
    if (e.labels[LABELS.role] === "app" && e.action === "create") w.created ??= e.at;
    if (e.labels[LABELS.role] === "app" && e.action === "start") w.end ??= e.at;
    byPod.set(pod, w);
  }
  const containers = byPod.size + [...byPod.values()].filter((w) => w.sandbox !== undefined).length;
  const windows = [...byPod.values()]
    .map((w) => ({ start: w.sandbox ?? w.created, end: w.end }))
    .filter((w): w is { start: number; end: number } => w.start !== undefined && w.end !== undefined);
  if (windows.length === 0) return { inFlight: { peak: 1, mean: 1 }, containers };
  const points = windows.flatMap((w) => [
    [w.start, 1],
    [w.end, -1],
  ]) as [number, number][];
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  let area = 0;
  for (let i = 0; i < points.length; i++) {
    if (i > 0) area += cur * (points[i]![0] - points[i - 1]![0]);
    cur += points[i]![1];
    peak = Math.max(peak, cur);
  }
  const span = points.at(-1)![0] - points[0]![0];
  return { inFlight: { peak, mean: span > 0 ? area / span : peak }, containers };
}

async function navarchUpdate(ctx: Ctx, name: string, n: number): Promise<NavarchUpdate> {
  const { clock, pods, deployments } = ctx;
  const surge = Math.ceil(n / 4);
  // Kubernetes: surge rounds up, unavailable down (and is 1 when both come out 0).
  const unavailable = surge === 0 && Math.floor(n / 4) === 0 ? 1 : Math.floor(n / 4);
  let maxPods = 0;
  let minReady = Infinity;
  const off = pods.onChange(() => {
    const mine = ofApp(pods, name);
    maxPods = Math.max(maxPods, mine.filter(active_).length);
    minReady = Math.min(minReady, mine.filter(ready).length);
  });
  try {
    const t0 = clock();
    const updated = await ctx.api.modify(name, (d) => {
      d.spec!.template!.spec!.containers[0]!.image = DEMO2_IMAGE;
    });
    const generation = updated.metadata!.generation;
    const done = await deployments.until(
      () => {
        const d = deployments.objects.get(name);
        return (d?.metadata?.generation ?? 0) >= generation && rolledOut(d, n);
      },
      120_000 + n * 4_000,
      `rolling update of ${name}`,
    );
    return { wallMs: done - t0, maxPods, minReady, surge, unavailable };
  } finally {
    off();
  }
}

/** Scales to 0, waits until the node has no containers left, deletes the Deployment. */
async function removeDeployment(ctx: Ctx, name: string): Promise<void> {
  await ctx.api.modify(name, (d) => {
    d.spec!.replicas = 0;
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const left = await nodeContainerCount(ctx.docker, ctx.node);
    if (left === 0) break;
    if (Date.now() > deadline) throw new Error(`${left} container(s) of node ${ctx.node} still there 120 s after scaling ${name} to 0`);
    await sleep(100);
  }
  await ctx.api.delete(name);
}

// ---------------------------------------------------------------- measuring and reporting

async function ensureImages(docker: Docker, log: (s: string) => void): Promise<string | undefined> {
  const wanted = [DEMO_IMAGE, DEMO2_IMAGE, PAUSE_IMAGE];
  const missing = async () => (await Promise.all(wanted.map(async (i) => ((await imagePresent(docker, i)) ? [] : [i])))).flat();
  if ((await missing()).length === 0) return undefined;
  log("deployments: building the local images (bash scripts/build-images.sh)");
  const r = spawnSync("bash", ["scripts/build-images.sh"], { cwd: ROOT, stdio: ["ignore", 2, 2] });
  const still = await missing();
  return still.length > 0 ? `image(s) ${still.join(", ")} missing and scripts/build-images.sh failed (exit ${r.status})` : undefined;
}

/** Runs fn and records who used the CPU meanwhile, and whether anyone else used Docker. */
async function measured<T>(ctx: Ctx, fn: () => Promise<T>): Promise<Measured<T>> {
  const engine = enginePids();
  const sum = (pids: (number | undefined)[]) => pids.reduce((s: number, p) => s + (cpuMs(p) ?? 0), 0);
  const servers = () => [ctx.cluster.pid, ctx.cluster.natsPid()];
  const t0 = ctx.clock();
  const s0 = sum(servers());
  const e0 = sum(engine);
  const m0 = machineBusyMs() ?? NaN;
  const c0 = process.cpuUsage();
  const value = await fn();
  const t1 = ctx.clock();
  const wall = t1 - t0;
  const c1 = process.cpuUsage(c0);
  const server = (sum(servers()) - s0) / wall;
  const eng = (sum(engine) - e0) / wall;
  const machine = ((machineBusyMs() ?? NaN) - m0) / wall;
  const client = (c1.user + c1.system) / 1000 / wall;
  const foreignEvents = ctx.events.all.filter(
    (e) => e.at >= t0 && e.at <= t1 && e.labels[LABELS.node] !== ctx.node && e.labels[RAW_LABEL] !== ctx.runId && e.labels[SWARM_LABEL] !== ctx.runId,
  ).length;
  return { value, cpu: { server, engine: eng, other: Math.max(0, machine - server - eng - client), foreignEvents } };
}

function median<T>(xs: T[], key: (x: T) => number): T {
  return [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
}

function printDeploymentReport(cfg: DeploymentBenchConfig, engine: EngineInfo, node: string, rounds: Round[], swarm: SwarmFigures): void {
  const n = cfg.n;
  const out: string[] = [""];
  out.push(
    `Navarch deployments benchmark${cfg.quick ? " (quick)" : ""}: a Deployment of N=${n} replicas (${DEMO_IMAGE}, imagePullPolicy Never; one container each with a fixed IP, or with a ${PAUSE_IMAGE} sandbox where the pod network has no configured subnet) ` +
      `scheduled onto one node agent (node ${node}), against raw Docker and a Docker Swarm service of the same image, in the same run, ${rounds.length} round(s); ` +
      `Docker ${engine.version} (${engine.driver}, ${engine.cgroup}), ${os.cpus().length} CPU(s), ${engine.containersRunning} container(s) of others running at the start. ` +
      "Navarch: the Create call `navctl apply` makes -> all N pods Running and ready on a Pod watch, and -> the Deployment reporting N updated, total and available (what `rollout status` waits for). " +
      "Raw: create + start + inspect until running, at the agent's measured concurrency. Swarm: service create -> all N tasks running.",
  );
  out.push("");
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const cpuCells = (c: CpuShares) => [percent(c.server), percent(c.engine), percent(c.other), String(c.foreignEvents)];
  const rows: string[][] = [];
  const tag = (i: number) => (rounds.length > 1 ? `, round ${i + 1}` : "");
  rounds.forEach((rd, i) => {
    const c = rd.create.value;
    const each = summarize(c.each);
    rows.push([`navarch: Create -> all ${n} pods Running${tag(i)}`, String(c.containers), `${c.inFlight.peak} peak, ${c.inFlight.mean.toFixed(1)} mean`, ms(c.runningMs), `p50 ${ms(each.p50)} / max ${ms(each.max)}`, "-", ...cpuCells(rd.create.cpu)]);
    rows.push([`navarch: Create -> Deployment ${n} available${tag(i)}`, String(c.containers), "", ms(c.availableMs), "", "-", "", "", "", ""]);
    const raw = rd.raw.value;
    rows.push([`raw docker run -d, agent's concurrency${tag(i)}`, String(n), String(raw.concurrency), ms(raw.wallMs), `p50 ${ms(summarize(raw.each).p50)} / max ${ms(summarize(raw.each).max)}`, x(c.availableMs, raw.wallMs), ...cpuCells(rd.raw.cpu)]);
    const pairs = rd.pairs.value;
    rows.push([`raw sandbox + app pairs (Navarch's layout by hand)${tag(i)}`, String(2 * n), String(pairs.concurrency), ms(pairs.wallMs), `p50 ${ms(summarize(pairs.each).p50)} / max ${ms(summarize(pairs.each).max)}`, x(c.availableMs, pairs.wallMs), ...cpuCells(rd.pairs.cpu)]);
  });
  const mid = median(rounds, (r) => r.create.value.availableMs / r.raw.value.wallMs);
  if (swarm.create) rows.push([`docker swarm service, ${n} replicas`, String(n), "-", ms(swarm.create.value.wallMs), "", x(mid.create.value.availableMs, swarm.create.value.wallMs), ...cpuCells(swarm.create.cpu)]);
  out.push(table(["run", "containers", "in flight", "wall ms", "per pod", "navarch available / this", "all-in-one+nats CPU", "dockerd+containerd CPU", "other CPU", "others' Docker events"], rows));
  out.push("");

  const ratio = mid.create.value.availableMs / mid.raw.value.wallMs;
  const forN = n === TARGET_N ? "" : ` (the targets are stated for N=${TARGET_N}; this ran N=${n})`;
  out.push(
    `deployment <= ${DEPLOY_RATIO_TARGET}x raw Docker: ${ratio.toFixed(2)}x (${ms(mid.create.value.availableMs)} ms to ${n} available / ${ms(mid.raw.value.wallMs)} ms raw at concurrency ${mid.raw.value.concurrency}; ` +
      `to all Running ${x(mid.create.value.runningMs, mid.raw.value.wallMs)}) ${ratio <= DEPLOY_RATIO_TARGET ? "PASS" : "FAIL"}${forN}`,
  );
  out.push(
    `  of which the pod layout (sandbox + app pairs by hand / lone containers): ${x(mid.pairs.value.wallMs, mid.raw.value.wallMs)}; Navarch over its own layout by hand: ${x(mid.create.value.availableMs, mid.pairs.value.wallMs)}`,
  );
  if (swarm.create) {
    const speedup = swarm.create.value.wallMs / mid.create.value.availableMs;
    out.push(
      `deployment >= ${SWARM_SPEEDUP_TARGET}x faster than Swarm: ${speedup.toFixed(2)}x (Swarm ${ms(swarm.create.value.wallMs)} ms / Navarch ${ms(mid.create.value.availableMs)} ms) ${speedup >= SWARM_SPEEDUP_TARGET ? "PASS" : "FAIL"}${forN}`,
    );
  } else {
    out.push(`deployment >= ${SWARM_SPEEDUP_TARGET}x faster than Swarm: not measured - ${swarm.skipped}`);
  }
  out.push("");
  for (const [i, rd] of rounds.entries()) {
    const u = rd.update.value;
    out.push(
      `rolling update of ${n} replicas ${DEMO_IMAGE} -> ${DEMO2_IMAGE} (maxSurge 25% = ${u.surge}, maxUnavailable 25% = ${u.unavailable})${tag(i)}: ${ms(u.wallMs)} ms to complete; ` +
        `at most ${u.maxPods} pods (limit ${n + u.surge}) ${u.maxPods <= n + u.surge ? "ok" : "EXCEEDED"}, at least ${u.minReady} ready (limit ${n - u.unavailable}) ${u.minReady >= n - u.unavailable ? "ok" : "BELOW"}`,
    );
  }
  if (swarm.update) {
    out.push(
      `  Swarm, the same update (${swarm.parallelism} tasks at a time, start-first): ${ms(swarm.update.value.wallMs)} ms; Navarch / Swarm: ${x(mid.update.value.wallMs, swarm.update.value.wallMs)}`,
    );
  }
  const noisy = [...rounds.flatMap((r) => [r.create, r.raw, r.pairs]), ...(swarm.create ? [swarm.create] : [])].filter((m) => m.cpu.foreignEvents > 0);
  if (noisy.length > 0) out.push(`note: other users of this Docker engine made container events during ${noisy.length} measured run(s) (see the last column); those figures are disturbed.`);
  console.log(out.join("\n"));
}
