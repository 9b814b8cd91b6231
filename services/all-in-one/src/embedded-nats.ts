// The all-in-one's own nats-server: a child process whose JetStream store lives under
// $NAVARCH_HOME/nats. A pid file lets a restarted all-in-one stop a server its crashed
// predecessor left behind (a SIGKILLed parent cannot take its children down), so there is never
// a stray server holding the store.
import { NatsServerProcess } from "@navarch/nats-embedded";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Only a nats-server on our own store dir is ours to stop: a reused pid may be anything else. */
function isOurNatsServer(pid: number, storeDir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return args.some((a) => a.endsWith("nats-server")) && args.includes(storeDir);
  } catch {
    return false;
  }
}

async function stopLeftover(pidFile: string, storeDir: string): Promise<number | undefined> {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid) || !isOurNatsServer(pid, storeDir)) return undefined;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, "SIGKILL");
  return pid;
}

export async function startEmbeddedNats(home: string, opts: { host: string; port: number; binary?: string }): Promise<{ server: NatsServerProcess; leftover?: number }> {
  const storeDir = path.join(home, "nats");
  const logDir = path.join(home, "logs");
  mkdirSync(storeDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const pidFile = path.join(storeDir, "nats-server.pid");
  const leftover = await stopLeftover(pidFile, storeDir);
  const server = await NatsServerProcess.start({
    storeDir,
    host: opts.host,
    port: opts.port,
    serverName: "navarch",
    logFile: path.join(logDir, "nats-server.log"),
    binary: opts.binary || undefined,
    extraArgs: ["-P", pidFile],
  });
  return { server, leftover };
}
