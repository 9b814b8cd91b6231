// A minimal harness for the benchmark: runs the real all-in-one (services/all-in-one/dist/main.js)
// in its own process group on 127.0.0.1 with a temp NAVARCH_HOME, waits for its ready line, and
// stops it with SIGINT. Any failure kills the whole group (the all-in-one and its nats-server).
import { readClientConfig } from "@navarch/config";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is compiled to bench/dist/cluster.js). */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ALL_IN_ONE = path.join(ROOT, "services", "all-in-one", "dist", "main.js");
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const TAIL_CHARS = 4_000;

export interface Cluster {
  apiAddr: string;
  natsUrl: string;
  home: string;
  token: string;
  /** The all-in-one's pid. */
  pid: number;
  /** The embedded nats-server's pid (from $NAVARCH_HOME/nats/nats-server.pid), if known. */
  natsPid(): number | undefined;
  /** What the all-in-one printed (stdout and stderr tails), for error messages. */
  tail(): string;
  /** SIGINT, wait for a clean exit; kills the group if it does not exit in time. */
  stop(): Promise<void>;
  /** SIGKILL the process group (idempotent). */
  kill(): void;
  /** Stops (or kills) the cluster and removes its temp home. Idempotent. */
  dispose(): Promise<void>;
}

/** The environment for the all-in-one: ours, minus anything pointing at another cluster or a proxy. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["NAVARCH_NATS_URL", "NAVARCH_SERVER", "NAVARCH_TOKEN", "NAVARCH_NAMESPACE"]) delete env[k];
  for (const k of Object.keys(env)) if (/^(https?|grpc|all|no)_proxy$/i.test(k)) delete env[k];
  return { ...env, ...extra };
}

export async function startCluster(opts: { nodeArgs?: string[]; env?: Record<string, string> } = {}): Promise<Cluster> {
  const home = mkdtempSync(path.join(tmpdir(), "navarch-bench-"));
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ALL_IN_ONE], {
      cwd: ROOT,
      detached: true, // own process group: kill() reaches the nats-server child too
      stdio: ["ignore", "pipe", "pipe"],
      env: childEnv({
        NAVARCH_HOME: home,
        NAVARCH_API_ADDR: "127.0.0.1:0",
      // Concurrent local clusters must not compete for the ingress port either.
      NAVARCH_INGRESS_ADDR: "127.0.0.1:0",
        NAVARCH_NATS_HOST: "127.0.0.1",
        NAVARCH_NATS_PORT: "0",
        NAVARCH_LOG_LEVEL: "warn",
        // The API benchmark needs no node; a pod benchmark passes its own node settings.
        NAVARCH_NODE_AGENT: "false",
        // The bench drives the API with one token as fast as it serves: it measures the server,
        // not the per-client rate limit (docs/api-limits.md), which would cap it at 1,000/s.
        NAVARCH_API_REQUESTS_PER_SECOND: "0",
        ...opts.env,
      }),
    });
  } catch (err) {
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  let out = "";
  let err = "";
  // Always drain both pipes: a full pipe would block the all-in-one.
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out = (out + s).slice(-64_000)));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (err = (err + s).slice(-64_000)));
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      groups.delete(child);
      exitInfo = { code, signal };
      resolve(exitInfo);
    }),
  );
  child.once("error", () => undefined); // reported through the exit / ready timeout
  const tail = () => `\n--- all-in-one stdout ---\n${out.slice(-TAIL_CHARS)}\n--- all-in-one stderr ---\n${err.slice(-TAIL_CHARS)}`;

  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // the group is gone already
    }
  };
  const natsPid = () => readPid(path.join(home, "nats", "nats-server.pid"));
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    live.delete(dispose);
    try {
      await stop();
    } finally {
      kill(); // no-op after a clean exit; otherwise make sure nothing outlives us
      await removeHome();
    }
  };
  live.add(dispose);
  groups.add(child);
  const removeHome = async () => {
    // A killed nats-server may still be exiting; give it a moment before removing its store.
    const pid = natsPid();
    for (let i = 0; i < 50 && pid !== undefined && pidAlive(pid); i++) await sleep(100);
    rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };

  const stop = async () => {
    if (exitInfo) return;
    child.kill("SIGINT");
    const r = await Promise.race([exited, timer(STOP_TIMEOUT_MS)]);
    if (!r) {
      kill();
      await Promise.race([exited, timer(5_000)]);
      throw new Error(`all-in-one did not exit within ${STOP_TIMEOUT_MS} ms of SIGINT; killed it${tail()}`);
    }
    if (r.code !== 0) throw new Error(`all-in-one exited with code ${r.code} signal ${r.signal} after SIGINT${tail()}`);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ready: RegExpExecArray | null = null;
  while (!ready) {
    ready = /^Navarch is ready: api=(\S+) config=(.+)\r?\n/m.exec(out);
    if (ready) break;
    if (exitInfo || Date.now() > deadline) {
      disposed = true;
      live.delete(dispose);
      kill();
      await Promise.race([exited, timer(5_000)]);
      await removeHome();
      throw new Error(
        exitInfo ? `all-in-one exited before it was ready (${JSON.stringify(exitInfo)})${tail()}` : `all-in-one not ready within ${READY_TIMEOUT_MS} ms${tail()}`,
      );
    }
    await sleep(50);
  }
  const natsUrl = /^\s+NATS:\s+(nats:\/\/\S+)/m.exec(out)?.[1] ?? "";
  let token: string;
  try {
    token = readClientConfig(ready[2]!.trim()).token;
  } catch (e) {
    await dispose();
    throw e;
  }

  return {
    apiAddr: ready[1]!,
    natsUrl,
    home,
    token,
    pid: child.pid!,
    natsPid,
    tail,
    stop,
    kill,
    dispose,
  };
}

/** dispose() of every cluster not yet disposed. */
const live = new Set<() => Promise<void>>();
/** Every all-in-one process (group) still running. */
const groups = new Set<ChildProcess>();

/** Stops every cluster still running (SIGINT, then SIGKILL) and removes their temp homes. */
export async function disposeAll(): Promise<void> {
  await Promise.allSettled([...live].map((d) => d()));
}

// Last resort if the bench exits without dispose() (an uncaught error, process.exit): no
// all-in-one or nats-server outlives it (the temp home may stay behind then).
process.on("exit", () => {
  for (const c of groups) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }
});

/** VmRSS of a process in bytes, from /proc/<pid>/status; undefined if it cannot be read. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After "pid (comm) ": state is field 0, utime field 11, stime field 12 (in clock ticks).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
/**
 * CPU time all processes on the machine have used so far (every core), in ms, from /proc/stat.
 * Less our own processes, it tells whether something else ran during a phase.
 */
export function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
    return (busy * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** sysconf(_SC_CLK_TCK): 100 on every Linux we run on. */
const CLOCK_TICKS = 100;

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves undefined after ms without keeping the process alive. */
function timer(ms: number): Promise<undefined> {
  return new Promise((r) => setTimeout(() => r(undefined), ms).unref());
}
