// Probe attempts against real sockets on 127.0.0.1 (HTTP status codes, headers, a server that
// never answers, a closed port) and exec through a runtime whose exec the test answers (the
// Docker exec path is covered by the agent's integration test). Also: the node-wide bound on
// attempts running at once.
import { ExecTimeoutError } from "@navarch/runtime";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { Prober } from "./prober.js";
import type { ProbeAction } from "./spec.js";

let server: http.Server;
let port = 0;
let silent: net.Server;
let silentPort = 0;
const sockets = new Set<net.Socket>();
let lastHeaders: http.IncomingHttpHeaders = {};

before(async () => {
  server = http.createServer((req, res) => {
    lastHeaders = req.headers;
    const code = Number(/^\/status\/(\d+)$/.exec(req.url ?? "")?.[1] ?? 200);
    res.writeHead(code, code === 302 ? { location: "/elsewhere" } : {});
    res.end(code === 200 ? "all good\n" : "nope\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as net.AddressInfo).port;
  // Accepts connections and never answers.
  silent = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  silentPort = (silent.address() as net.AddressInfo).port;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  await new Promise((r) => silent.close(r));
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

const noExec = { exec: async () => ({ exitCode: 0, output: "" }) };
const target = { containerId: "c1", podIP: "127.0.0.1" };
const http_ = (path: string, p = port, headers: [string, string][] = []): ProbeAction => ({ type: "http", scheme: "http", host: "", port: p, path, headers });

describe("prober", () => {
  test("http: 200-399 succeed, anything else fails with the status code", async () => {
    const prober = new Prober(noExec);
    assert.deepEqual(await prober.run({ action: http_("/"), timeoutMs: 2_000 }, target), { ok: true, output: "all good" });
    assert.equal((await prober.run({ action: http_("/status/302"), timeoutMs: 2_000 }, target)).ok, true);
    assert.deepEqual(await prober.run({ action: http_("/status/503"), timeoutMs: 2_000 }, target), { ok: false, output: "HTTP probe failed with statuscode: 503" });
    assert.equal((await prober.run({ action: http_("/status/404"), timeoutMs: 2_000 }, target)).ok, false);
  });

  test("http: the pod IP is the host unless the probe names one; headers are sent, Host among them", async () => {
    const prober = new Prober(noExec);
    const viaHost: ProbeAction = { type: "http", scheme: "http", host: "127.0.0.1", port, path: "/", headers: [["X-Probe", "yes"], ["Host", "web.example"]] };
    assert.equal((await prober.run({ action: viaHost, timeoutMs: 2_000 }, { containerId: "c1", podIP: "" })).ok, true);
    assert.equal(lastHeaders["x-probe"], "yes");
    assert.equal(lastHeaders.host, "web.example");
    assert.match(lastHeaders["user-agent"] ?? "", /^navarch-probe\//);
    const noIP = await prober.run({ action: http_("/"), timeoutMs: 2_000 }, { containerId: "c1", podIP: "" });
    assert.equal(noIP.ok, false);
    assert.match(noIP.output, /no IP/);
  });

  test("http and tcp: a refused connection and a server that never answers fail within the timeout", async () => {
    const prober = new Prober(noExec);
    const closed = await closedPort();
    const refused = await prober.run({ action: http_("/", closed), timeoutMs: 2_000 }, target);
    assert.equal(refused.ok, false);
    assert.match(refused.output, new RegExp(`^Get "http://127.0.0.1:${closed}/": connect ECONNREFUSED`));
    const hung = await prober.run({ action: http_("/", silentPort), timeoutMs: 200 }, target);
    assert.deepEqual(hung, { ok: false, output: `Get "http://127.0.0.1:${silentPort}/": timed out after 0.2s` });

    assert.deepEqual(await prober.run({ action: { type: "tcp", host: "", port: silentPort }, timeoutMs: 2_000 }, target), { ok: true, output: "" });
    const tcpRefused = await prober.run({ action: { type: "tcp", host: "", port: closed }, timeoutMs: 2_000 }, target);
    assert.equal(tcpRefused.ok, false);
    assert.match(tcpRefused.output, new RegExp(`^dial tcp 127.0.0.1:${closed}: connect ECONNREFUSED`));
  });

  test("exec: exit 0 succeeds; otherwise the output (or the exit code) is the reason; a timeout says so", async () => {
    const calls: string[] = [];
    const runtime = {
      exec: async (id: string, command: string[], timeoutMs: number) => {
        calls.push(`${id} ${command.join(" ")} ${timeoutMs}`);
        if (command[0] === "slow") throw new ExecTimeoutError("exec timed out");
        if (command[0] === "quiet") return { exitCode: 2, output: "" };
        return command[0] === "true" ? { exitCode: 0, output: "" } : { exitCode: 1, output: "cat: can't open '/tmp/ready': No such file or directory\n" };
      },
    };
    const prober = new Prober(runtime);
    const exec = (...command: string[]): ProbeAction => ({ type: "exec", command });
    assert.deepEqual(await prober.run({ action: exec("true"), timeoutMs: 1_000 }, target), { ok: true, output: "" });
    assert.deepEqual(await prober.run({ action: exec("cat", "/tmp/ready"), timeoutMs: 1_000 }, target), {
      ok: false,
      output: "cat: can't open '/tmp/ready': No such file or directory",
    });
    assert.deepEqual(await prober.run({ action: exec("quiet"), timeoutMs: 1_000 }, target), { ok: false, output: 'command ["quiet"] exited with code 2' });
    assert.deepEqual(await prober.run({ action: exec("slow"), timeoutMs: 3_000 }, target), { ok: false, output: 'command ["slow"] timed out after 3s' });
    assert.deepEqual(calls[0], "c1 true 1000");
  });

  test("a runtime with made-up pod IPs (hollow nodes) answers HTTP and TCP probes itself: nothing is dialed", async () => {
    const asked: string[] = [];
    const runtime = {
      ...noExec,
      simulatedNetworkProbe: async (id: string, p: { type: string; port: number; path?: string | undefined }) => {
        asked.push(`${id} ${p.type} ${p.port} ${p.path ?? ""}`);
        return { ok: p.type === "tcp", output: p.type === "tcp" ? "" : "simulated 503" };
      },
    };
    const prober = new Prober(runtime);
    // A made-up address: were it dialed, the test would wait for the timeout (and send a packet off this machine).
    const fake = { containerId: "c9", podIP: "10.255.255.1" };
    assert.deepEqual(await prober.run({ action: http_("/ready", 8080), timeoutMs: 60_000 }, fake), { ok: false, output: "simulated 503" });
    assert.deepEqual(await prober.run({ action: { type: "tcp", host: "", port: 5432 }, timeoutMs: 60_000 }, fake), { ok: true, output: "" });
    assert.deepEqual(asked, ["c9 http 8080 /ready", "c9 tcp 5432 "]);
  });

  test("no more than maxConcurrent attempts run at once; the others wait their turn", async () => {
    const release: Array<() => void> = [];
    let peak = 0;
    let running = 0;
    const runtime = {
      exec: () =>
        new Promise<{ exitCode: number; output: string }>((resolve) => {
          running++;
          peak = Math.max(peak, running);
          release.push(() => {
            running--;
            resolve({ exitCode: 0, output: "" });
          });
        }),
    };
    const prober = new Prober(runtime, { maxConcurrent: 2 });
    const all = Array.from({ length: 5 }, () => prober.run({ action: { type: "exec", command: ["x"] }, timeoutMs: 60_000 }, target));
    await new Promise((r) => setImmediate(r));
    assert.equal(prober.active, 2);
    while (release.length > 0 || running > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    const outcomes = await Promise.all(all);
    assert.ok(outcomes.every((o) => o.ok));
    assert.equal(peak, 2);
    assert.equal(prober.active, 0);
  });
});
