// wrk (Debian's package) as the load tool of the services benchmark: runs it for a fixed time,
// optionally inside a pod's network namespace (nsenter -n: the host's wrk binary, the pod's
// interfaces and routes, so its traffic takes the path a pod's own traffic takes), and reads its
// report: requests/s, latency percentiles (--latency), errors.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  errors: number;
}

export interface WrkOptions {
  seconds: number;
  connections: number;
  threads: number;
  /** Run in the network namespace of this process (a pod's sandbox). */
  netnsPid?: number | undefined;
}

/** The wrk binary, or undefined when it is not installed (apt-get install wrk). */
export function findWrk(): string | undefined {
  return ["/usr/bin/wrk", "/usr/local/bin/wrk"].find((p) => existsSync(p));
}

export function runWrk(wrk: string, url: string, o: WrkOptions): Promise<WrkResult> {
  const args = ["-t", String(o.threads), "-c", String(o.connections), "-d", `${o.seconds}s`, "--latency", "--timeout", "5s", url];
  const [cmd, argv] = o.netnsPid ? ["nsenter", ["-t", String(o.netnsPid), "-n", wrk, ...args]] : [wrk, args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: (o.seconds + 30) * 1000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} ${argv.join(" ")} failed: ${err.message}\n${stderr}`));
      try {
        resolve(parseWrk(stdout));
      } catch (e) {
        reject(new Error(`${(e as Error).message}\n--- wrk said ---\n${stdout}${stderr}`));
      }
    });
  });
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Reads wrk's --latency report. */
export function parseWrk(text: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const total = /^\s*(\d+) requests in /m.exec(text);
  if (!rps || !total) throw new Error("no 'Requests/sec' or 'N requests in' line in wrk's output");
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
    if (!m) throw new Error(`no ${p}% latency line in wrk's output (run with --latency)`);
    return Number(m[1]) * UNIT_MS[m[2]!]!;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const errors = (socket ? socket.slice(1, 5).reduce((s, n) => s + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { requestsPerSec: Number(rps[1]), requests: Number(total[1]), p50Ms: pct("50"), p99Ms: pct("99"), errors };
}

/**
 * SYNs the kernel had to send again (TcpExt TCPSynRetrans) in the network namespace of `pid`
 * (default: this process's). Each costs its connection a second (the initial RTO): a handful
 * explain a slow run better than any latency figure, since wrk's latency excludes connecting.
 */
export function synRetransmits(pid?: number): number {
  const lines = readFileSync(pid ? `/proc/${pid}/net/netstat` : "/proc/net/netstat", "utf8").split("\n").filter((l) => l.startsWith("TcpExt:"));
  const [names, values] = lines.map((l) => l.trim().split(/\s+/));
  const i = names?.indexOf("TCPSynRetrans") ?? -1;
  return i > 0 && values ? Number(values[i]) : NaN;
}
