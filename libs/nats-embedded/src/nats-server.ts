import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { findNatsServer, natsServerVersion } from "./find.js";
import { readServerInfo } from "./info.js";
import { versionAtLeast } from "./version.js";

export interface NatsServerOptions {
  /** JetStream store directory; created if missing. State in it survives restarts. */
  storeDir: string;
  /** Address to bind the client port to (default 127.0.0.1). */
  host?: string;
  /** Client port; 0 or absent picks a free one up front so restart() can reuse it. */
  port?: number;
  serverName?: string;
  /** Append the server's output here instead of only keeping it in memory. */
  logFile?: string;
  /** nats-server binary; defaults to findNatsServer(). */
  binary?: string;
  /** Largest message the server accepts, in bytes (nats-server default: 1 MiB). */
  maxPayload?: number;
  /** Refuse to start a server older than this, e.g. "2.10.0". */
  minVersion?: string;
  /** Appended verbatim to the command line. */
  extraArgs?: string[];
}

export interface StopOptions {
  signal?: NodeJS.Signals;
  /** Escalate to SIGKILL if the server has not exited after this long. */
  timeoutMs?: number;
}

const READY_LINE = "Server is ready";
const START_TIMEOUT_MS = 20_000;
const RING_LINES = 200;

/**
 * Every server child still alive, so none outlives us. A synchronous 'exit'
 * handler covers process.exit() and uncaught exceptions. Children are spawned
 * without `detached`, so they share our process group and a terminal Ctrl-C
 * reaches them too. Neither path is a clean shutdown: the all-in-one's SIGINT
 * handler calls stop() so JetStream can flush before the server exits.
 * (A library must not install signal handlers behind its host's back.)
 */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    process.on("exit", killAllSync);
    exitHookInstalled = true;
  }
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  child.once("error", () => {
    if (child.pid === undefined) liveChildren.delete(child);
  });
}

function killAllSync(): void {
  for (const child of liveChildren) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

type Resolved = Required<Omit<NatsServerOptions, "serverName" | "logFile" | "maxPayload" | "minVersion">> &
  Pick<NatsServerOptions, "serverName" | "logFile" | "maxPayload">;

/**
 * A nats-server child process with JetStream enabled. A running server keeps
 * the Node process alive (like any listening server) until stop() or kill().
 */
export class NatsServerProcess {
  readonly version: string;
  readonly url: string;
  private readonly opts: Resolved;
  private readonly ring: string[] = [];
  private child: ChildProcess | undefined;
  private closed: Promise<void> = Promise.resolve();
  private currentPid = -1;

  private constructor(version: string, opts: Resolved) {
    this.version = version;
    this.opts = opts;
    this.url = `nats://${formatHost(connectHost(opts.host))}:${opts.port}`;
  }

  static async start(options: NatsServerOptions): Promise<NatsServerProcess> {
    const binary = options.binary ?? findNatsServer();
    const version = await natsServerVersion(binary);
    if (options.minVersion && !versionAtLeast(version, options.minVersion)) {
      throw new Error(`${binary} is nats-server ${version}; Navarch needs ${options.minVersion} or newer`);
    }
    const host = options.host ?? "127.0.0.1";
    const storeDir = resolve(options.storeDir);
    mkdirSync(storeDir, { recursive: true });
    const server = new NatsServerProcess(version, {
      storeDir,
      host,
      port: options.port || (await freePort(host)),
      binary,
      extraArgs: options.extraArgs ?? [],
      serverName: options.serverName,
      logFile: options.logFile,
      maxPayload: options.maxPayload,
    });
    await server.launch();
    return server;
  }

  get port(): number {
    return this.opts.port;
  }

  /** Pid of the current child; changes on restart(). */
  get pid(): number {
    return this.currentPid;
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** The last lines the server printed (kept even when logFile is set, for error reports). */
  recentLog(): string[] {
    return [...this.ring];
  }

  /** Resolves once the server has exited and its output is flushed. */
  async stop({ signal = "SIGTERM", timeoutMs = 10_000 }: StopOptions = {}): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (!this.running) return this.closed;
    child.kill(signal);
    const escalate = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    try {
      await this.closed;
    } finally {
      clearTimeout(escalate);
    }
  }

  /** Kills without a chance to clean up, as a crash would. */
  kill(): Promise<void> {
    return this.stop({ signal: "SIGKILL" });
  }

  /** Same port, store dir and arguments; JetStream recovers its state from the store dir. */
  async restart(stopOptions?: StopOptions): Promise<void> {
    await this.stop(stopOptions);
    await this.launch();
  }

  private args(): string[] {
    const { storeDir, host, port, serverName, maxPayload, extraArgs } = this.opts;
    const args: string[] = [];
    if (maxPayload !== undefined) {
      // nats-server has no command-line flag for max_payload, only a config setting.
      const conf = join(storeDir, "nats-embedded.conf");
      writeFileSync(conf, `max_payload: ${maxPayload}\n`);
      args.push("-c", conf);
    }
    args.push("-js", "-sd", storeDir, "-a", host, "-p", String(port));
    if (serverName) args.push("-n", serverName);
    return [...args, ...extraArgs];
  }

  private async launch(): Promise<void> {
    const { binary, logFile } = this.opts;
    const args = this.args();
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    track(child);
    child.on("error", (err) => this.remember(`[nats-embedded] ${err.message}`));

    // Piped through us rather than handed the file, so we can watch for the ready line.
    const log = logFile ? createWriteStream(logFile, { flags: "a" }) : undefined;
    log?.on("error", (err) => this.remember(`[nats-embedded] log file: ${err.message}`));
    let sawReady!: () => void;
    const ready = new Promise<void>((r) => (sawReady = r));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        this.remember(line);
        log?.write(line + "\n");
        if (line.includes(READY_LINE)) sawReady();
      });
    }
    this.closed = new Promise((done) => {
      child.once("close", () => (log ? log.end(done) : done()));
      // A child that never spawned may not emit 'close'.
      child.once("error", () => child.pid === undefined && done());
    });

    const problem = await this.waitUntilReady(child, ready);
    if (problem) {
      if (this.running) child.kill("SIGKILL");
      await this.closed;
      const tail = this.ring.slice(-30).join("\n");
      throw new Error(`nats-server ${problem} (${binary} ${args.join(" ")})\n--- last log lines ---\n${tail}`);
    }
    this.currentPid = child.pid!;
  }

  /** Returns undefined when ready, else why not. */
  private async waitUntilReady(child: ChildProcess, ready: Promise<void>): Promise<string | undefined> {
    const timer = new AbortController();
    try {
      const outcome = await Promise.race([
        ready.then(() => undefined),
        once(child, "exit").then(
          ([code, signal]) => `exited before it was ready (code ${code}, signal ${signal})`,
          (err: Error) => `could not be started: ${err.message}`,
        ),
        sleep(START_TIMEOUT_MS, undefined, { signal: timer.signal }).then(
          () => `was not ready within ${START_TIMEOUT_MS / 1000} s`,
          () => undefined,
        ),
      ]);
      if (outcome) return outcome;
      // The log line says the listener is up; INFO proves it and that JetStream is on.
      const info = await readServerInfo(connectHost(this.opts.host), this.opts.port);
      return info.jetstream ? undefined : "started without JetStream";
    } catch (err) {
      return `did not answer on port ${this.opts.port}: ${(err as Error).message}`;
    } finally {
      timer.abort();
    }
  }

  private remember(line: string): void {
    this.ring.push(line);
    if (this.ring.length > RING_LINES) this.ring.shift();
  }
}

/** Binds port 0 to let the kernel choose, then frees it for nats-server. */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  probe.listen(0, host);
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, "close");
  return port;
}

// A wildcard bind address is not something a client can dial.
function connectHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "::1";
  return host;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
