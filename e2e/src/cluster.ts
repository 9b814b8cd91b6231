// Test harness: runs the real all-in-one (services/all-in-one/dist/main.js) as a child process,
// the way `npm start` does, and navctl (cli/dist/main.js) against it. Nothing is mocked: the
// all-in-one starts its own nats-server, and tests talk to it over gRPC on 127.0.0.1.
//
// Every cluster runs in its own process group (detached), so killAll() can SIGKILL the
// all-in-one and its nats-server child at once, like a machine losing power. cleanup() (register
// it with `after` in every test file) kills whatever is still running and removes temp homes.
import * as grpc from "@grpc/grpc-js";
import { readClientConfig } from "@navarch/config";
import { spawn, type ChildProcess } from "node:child_process";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is compiled to e2e/dist/cluster.js). */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ALL_IN_ONE = path.join(ROOT, "services", "all-in-one", "dist", "main.js");
const NAVCTL = path.join(ROOT, "cli", "dist", "main.js");
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL_CHARS = 4_000;

/** grpc-js honours http_proxy; our traffic must stay on 127.0.0.1. */
export const GRPC_CLIENT_OPTIONS = { "grpc.enable_http_proxy": 0 };

export interface LocalCluster {
  apiAddr: string;
  natsUrl: string;
  home: string;
  configPath: string;
  token: string;
  /** Everything the all-in-one printed on stdout so far. */
  stdout(): string;
  /** `authorization: Bearer <token>` for gRPC calls. */
  metadata(): grpc.Metadata;
  /**
   * SIGINT, wait for the exit and assert it was clean (code 0). `group: true` sends it to the
   * whole process group, as Ctrl-C in a terminal does (the nats-server gets it too).
   */
  stop(opts?: { group?: boolean }): Promise<void>;
  /** SIGKILL the whole process group (the all-in-one and its nats-server) and wait for the exit. */
  killAll(): Promise<void>;
  process: ChildProcess;
}

export interface StartOptions {
  /** NAVARCH_HOME; a fresh temp dir when absent. Pass the same home to restart on the same state. */
  home?: string;
  /** NAVARCH_NATS_PORT; 0 (a free port) when absent. */
  natsPort?: number;
  env?: Record<string, string>;
}

const running = new Set<ChildProcess>();
const homes = new Set<string>();

/** A temp NAVARCH_HOME that cleanup() removes. */
export function tempHome(): string {
  const home = mkdtempSync(path.join(tmpdir(), "navarch-e2e-"));
  homes.add(home);
  return home;
}

/**
 * The environment for a child: the caller's, minus anything that would point it at another
 * cluster or through a proxy.
 */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["NAVARCH_NATS_URL", "NAVARCH_SERVER", "NAVARCH_TOKEN", "NAVARCH_NAMESPACE"]) delete env[k];
  for (const k of Object.keys(env)) if (/^(https?|grpc|all)_proxy$/i.test(k)) delete env[k];
  return { ...env, ...extra };
}

export async function startLocalCluster(opts: StartOptions = {}): Promise<LocalCluster> {
  const home = opts.home ?? tempHome();
  const child = spawn(process.execPath, [ALL_IN_ONE], {
    cwd: ROOT,
    detached: true, // own process group: killAll() reaches the nats-server child too
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv({
      NAVARCH_HOME: home,
      NAVARCH_API_ADDR: "127.0.0.1:0",
      // Concurrent local clusters must not compete for the ingress port either.
      NAVARCH_INGRESS_ADDR: "127.0.0.1:0",
      NAVARCH_NATS_HOST: "127.0.0.1",
      NAVARCH_NATS_PORT: String(opts.natsPort ?? 0),
      NAVARCH_LOG_LEVEL: "warn",
      // Its own node name: an agent removes containers of its node that no pod of its cluster owns,
      // so clusters (and a developer's own `npm start`) must never share one.
      NAVARCH_NODE_NAME: `e2e-${path.basename(home).toLowerCase().replace(/[^a-z0-9-]/g, "-")}`,
      ...opts.env,
    }),
  });
  running.add(child);
  let out = "";
  let err = "";
  // Always drain both pipes: a full pipe would block the all-in-one.
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (err = (err + s).slice(-64_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const tail = () =>
    `\n--- stdout tail ---\n${out.slice(-OUTPUT_TAIL_CHARS)}\n--- stderr tail ---\n${err.slice(-OUTPUT_TAIL_CHARS)}`;

  const ready = await waitFor(
    () => /^Navarch is ready: api=(\S+) config=(.+)\r?\n/m.exec(out),
    exited,
    READY_TIMEOUT_MS,
  ).catch(async (e: Error) => {
    killGroup(child);
    throw new Error(`all-in-one did not become ready: ${e.message}${tail()}`);
  });
  const natsUrl = /^\s+NATS:\s+(nats:\/\/\S+)/m.exec(out)?.[1];
  if (!natsUrl) {
    killGroup(child);
    throw new Error(`all-in-one printed no NATS URL${tail()}`);
  }
  const apiAddr = ready[1]!;
  const configPath = ready[2]!.trim();
  const { token } = readClientConfig(configPath);

  const waitExit = async (what: string) => {
    const r = await Promise.race([exited, deadline(STOP_TIMEOUT_MS).then(() => undefined)]);
    if (!r) {
      killGroup(child);
      throw new Error(`all-in-one did not exit within ${STOP_TIMEOUT_MS} ms after ${what}${tail()}`);
    }
    return r;
  };
  return {
    apiAddr,
    natsUrl,
    home,
    configPath,
    token,
    process: child,
    stdout: () => out,
    metadata() {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${token}`);
      return md;
    },
    async stop({ group = false } = {}) {
      if (group) process.kill(-child.pid!, "SIGINT");
      else child.kill("SIGINT");
      const r = await waitExit("SIGINT");
      assert.equal(r.code, 0, `all-in-one exited with code ${r.code} signal ${r.signal} after SIGINT${tail()}`);
    },
    async killAll() {
      killGroup(child);
      await waitExit("SIGKILL");
    },
  };
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}

/** Kills every cluster still running and removes temp homes. Register with `after` in each file. */
export async function cleanup(): Promise<void> {
  const left = [...running];
  for (const child of left) killGroup(child);
  // Wait (bounded) so no process outlives the test file.
  await Promise.race([
    Promise.all(left.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once("exit", r))))),
    deadline(10_000),
  ]);
  for (const home of homes) {
    // The nats-server of a killed group may still be exiting; give it a moment before removing its store.
    const pid = natsServerPid(home);
    for (let i = 0; i < 50 && pid !== undefined && pidAlive(pid); i++) await sleep(100);
    rmSync(home, { recursive: true, force: true });
  }
  homes.clear();
}

// Last resort if the test process exits without cleanup (e.g. an uncaught error).
process.on("exit", () => {
  for (const child of running) killGroup(child);
});

/** The pid the embedded nats-server wrote to $NAVARCH_HOME/nats/nats-server.pid, if any. */
export function natsServerPid(home: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(home, "nats", "nats-server.pid"), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie waiting for its parent to reap it counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": the state follows the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Polls `check` every 50 ms until it returns a value, `gone` settles, or the timeout passes. */
async function waitFor<T>(check: () => T | null | undefined, gone: Promise<unknown>, timeoutMs: number): Promise<T> {
  let exited: unknown;
  void gone.then((r) => (exited = r ?? true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = check();
    if (v) return v;
    if (exited) throw new Error(`the process exited (${JSON.stringify(exited)})`);
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Like sleep, for the losing side of a race: its timer does not keep the test process alive. */
function deadline(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with a timeout; the child is killed when the time is up. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: childEnv(opts.env ?? {}), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => undefined); // the command may exit without reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/** `navctl ARGS` with NAVARCH_HOME=home (so it reads that cluster's client config). */
export function navctl(args: string[], opts: { home: string; input?: string }): Promise<RunResult> {
  return run(process.execPath, [NAVCTL, ...args], { env: { NAVARCH_HOME: opts.home }, input: opts.input });
}
