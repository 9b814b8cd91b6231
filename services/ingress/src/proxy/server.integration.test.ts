// The proxy against real HTTP servers on 127.0.0.1 standing in for pods (no Docker, no NATS):
// routing, round-robin, 503/404/502/504, retries, keep-alive, forwarded headers, upgrades, and
// route table swaps that leave the requests in flight alone.
import assert from "node:assert/strict";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { KINDS, type Endpoints, type Ingress, type Service } from "@navarch/api";
import { silentLogger } from "@navarch/controller";
import { buildRouteTable, type RouteTable } from "../routes/table.js";
import { IngressProxy } from "./server.js";

interface Pod {
  name: string;
  port: number;
  server: http.Server;
  connections: number;
  /** Requests that arrived, with what they carried. */
  seen: { url: string; headers: http.IncomingHttpHeaders; body: string }[];
  /** While set, requests wait here until released. */
  hold?: { waiting: (() => void)[] };
}

/** A stand-in pod: answers "<name> <method> <url>", after its hold is released if it has one. */
async function startPod(name: string, handler?: http.RequestListener): Promise<Pod> {
  const pod: Pod = { name, port: 0, server: undefined!, connections: 0, seen: [] };
  pod.server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      pod.seen.push({ url: req.url ?? "", headers: req.headers, body });
      if (handler) return handler(req, res);
      const reply = () => {
        res.setHeader("set-cookie", ["a=1", "b=2"]);
        res.writeHead(200, { "content-type": "text/plain" });
        res.write(`${name} `); // two chunks: the answer streams
        res.end(`${req.method} ${req.url}`);
      };
      if (pod.hold) pod.hold.waiting.push(reply);
      else reply();
    });
  });
  pod.server.on("connection", () => pod.connections++);
  await new Promise<void>((r) => pod.server.listen(0, "127.0.0.1", r));
  pod.port = (pod.server.address() as AddressInfo).port;
  return pod;
}

function release(pod: Pod): void {
  const waiting = pod.hold?.waiting ?? [];
  pod.hold = undefined;
  for (const reply of waiting.splice(0)) reply();
}

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, host: string, path: string, opts: { method?: string; body?: string; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: { host }, agent: opts.agent ?? false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/**
 * A route table from "host -> pods" (one Service per host, its Endpoints listing the pods as
 * ready addresses on 127.0.0.1 with their own ports), built by the real table builder.
 */
function tableFor(routes: Record<string, (Pod | number)[]>): RouteTable {
  const services = new Map<string, Service>();
  const endpoints = new Map<string, Endpoints>();
  const ingress: Ingress = KINDS.Ingress.codec.fromPartial({
    metadata: { name: "test", namespace: "default" },
    spec: {
      rules: Object.entries(routes).map(([host, pods], i) => {
        const name = `svc-${i}`;
        services.set(name, KINDS.Service.codec.fromPartial({ metadata: { name, namespace: "default" }, spec: { ports: [{ port: 80, protocol: "TCP" }] } }));
        // One subset per pod: each listens on its own port, as pods with different target ports would.
        const subsets = pods.map((p) => ({ addresses: [{ ip: "127.0.0.1" }], ports: [{ port: typeof p === "number" ? p : p.port, protocol: "TCP" }] }));
        endpoints.set(name, KINDS.Endpoints.codec.fromPartial({ metadata: { name, namespace: "default" }, subsets }));
        return { host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { number: 80 } } } }] } };
      }),
    },
  });
  return buildRouteTable({ ingresses: [ingress], service: (_n, s) => services.get(s), endpoints: (_n, s) => endpoints.get(s), ingressClass: "navarch" });
}

describe("IngressProxy against real HTTP backends", () => {
  const proxy = new IngressProxy({ logger: silentLogger, connectTimeoutMs: 2_000, backendTimeoutMs: 500 });
  let port = 0;
  const pods: Pod[] = [];
  let a!: Pod, b!: Pod, c!: Pod;

  before(async () => {
    [a, b, c] = await Promise.all([startPod("a"), startPod("b"), startPod("c")]);
    pods.push(a, b, c);
    port = (await proxy.listen("127.0.0.1", 0)).port;
  });
  after(async () => {
    await proxy.close(1_000);
    for (const p of pods) {
      release(p);
      p.server.closeAllConnections();
      await new Promise<void>((r) => p.server.close(() => r()));
    }
  });

  it("routes two hosts to two services, and answers 404 for a host no rule names", async () => {
    proxy.setTable(tableFor({ "one.example": [a], "two.example": [b] }));
    const one = await request(port, "one.example", "/hello?x=1");
    assert.equal(one.status, 200);
    assert.equal(one.body, "a GET /hello?x=1", "the request target is forwarded as it came");
    assert.equal((await request(port, "TWO.example:8080", "/")).body, "b GET /", "the Host header matches without case and port");
    const none = await request(port, "three.example", "/");
    assert.equal(none.status, 404);
    assert.equal(none.body, "404 Not Found\n");
  });

  it("passes headers both ways: X-Forwarded-* set by the proxy (client values replaced), hop-by-hop ones dropped, repeated Set-Cookie kept", async () => {
    proxy.setTable(tableFor({ "one.example": [a] }));
    a.seen.length = 0;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, path: "/h", agent: false, headers: { host: "one.example", "x-forwarded-for": "6.6.6.6", "x-custom": "yes", connection: "keep-alive, x-secret", "x-secret": "hop" } },
        resolve,
      );
      req.on("error", reject);
      req.end();
    });
    res.resume();
    const got = a.seen[0]!.headers;
    assert.equal(got.host, "one.example");
    assert.equal(got["x-forwarded-for"], "127.0.0.1");
    assert.equal(got["x-real-ip"], "127.0.0.1");
    assert.equal(got["x-forwarded-host"], "one.example");
    assert.equal(got["x-forwarded-proto"], "http");
    assert.equal(got["x-forwarded-port"], String(port));
    assert.equal(got["x-custom"], "yes");
    assert.equal(got["x-secret"], undefined, "a header the Connection header names is hop-by-hop");
    assert.deepEqual(res.headers["set-cookie"], ["a=1", "b=2"]);
  });

  it("round-robins over the ready endpoints", async () => {
    proxy.setTable(tableFor({ "rr.example": [a, b, c] }));
    const names: string[] = [];
    for (let i = 0; i < 9; i++) names.push((await request(port, "rr.example", "/")).body.split(" ")[0]!);
    assert.deepEqual(
      names.slice(0, 3).sort(),
      ["a", "b", "c"],
      "three requests reach three pods",
    );
    assert.deepEqual(names.slice(3), [...names.slice(0, 3), ...names.slice(0, 3)], "and then again in the same order");
  });

  it("answers 503 when the Service has no ready endpoints", async () => {
    proxy.setTable(tableFor({ "empty.example": [] }));
    const res = await request(port, "empty.example", "/");
    assert.equal(res.status, 503);
    assert.equal(res.body, "503 Service Unavailable\n");
  });

  it("retries an idempotent request on another endpoint when one refuses the connection; not a POST with a body", async () => {
    const dead = await deadPort();
    proxy.setTable(tableFor({ "retry.example": [dead, a] }));
    for (let i = 0; i < 6; i++) {
      const res = await request(port, "retry.example", `/get-${i}`);
      assert.equal(res.status, 200, `GET ${i}`);
      assert.equal(res.body, `a GET /get-${i}`);
    }
    const posts = [];
    for (let i = 0; i < 4; i++) posts.push((await request(port, "retry.example", "/post", { method: "POST", body: "data" })).status);
    assert.deepEqual(posts.sort(), [200, 200, 502, 502], "round-robin sends every other POST to the dead pod, and it is not retried");
    proxy.setTable(tableFor({ "retry.example": [dead] }));
    assert.equal((await request(port, "retry.example", "/")).status, 502, "no endpoint left to try");
  });

  it("reuses keep-alive connections to a pod", async () => {
    const pod = await startPod("keepalive");
    pods.push(pod);
    proxy.setTable(tableFor({ "ka.example": [pod] }));
    const client = new http.Agent({ keepAlive: true });
    for (let i = 0; i < 20; i++) assert.equal((await request(port, "ka.example", "/", { agent: client })).status, 200);
    client.destroy();
    assert.equal(pod.seen.length, 20);
    assert.equal(pod.connections, 1, "20 requests, one connection to the pod");
  });

  it("answers 504 when the pod is silent past the backend timeout", async () => {
    const silent = await startPod("silent", () => undefined);
    pods.push(silent);
    proxy.setTable(tableFor({ "slow.example": [silent] }));
    const res = await request(port, "slow.example", "/");
    assert.equal(res.status, 504);
    silent.server.closeAllConnections();
  });

  it("passes connection upgrades through (101, then bytes both ways)", async () => {
    const echo = await startPod("echo");
    pods.push(echo);
    echo.server.on("upgrade", (req, socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\nX-Seen-Host: ${req.headers.host}\r\n\r\n`);
      socket.pipe(socket);
    });
    proxy.setTable(tableFor({ "ws.example": [echo] }));
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString()));
    socket.write("GET /chat HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
    await until(() => received.includes("\r\n\r\n"));
    assert.match(received, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(received, /X-Seen-Host: ws\.example\r\n/);
    received = "";
    socket.write("ping");
    await until(() => received === "ping");
    socket.destroy();
  });

  it("requests in flight across route changes all complete, on the backend they started with", async () => {
    proxy.setTable(tableFor({ "swap.example": [a] }));
    a.hold = { waiting: [] };
    const inFlight = Array.from({ length: 20 }, (_, i) => request(port, "swap.example", `/held-${i}`));
    await until(() => a.hold!.waiting.length === 20);
    // While they wait on pod a: a is replaced by b, the route is removed, then comes back on b.
    proxy.setTable(tableFor({ "swap.example": [b] }));
    assert.equal((await request(port, "swap.example", "/new")).body, "b GET /new", "a new request follows the new table at once");
    proxy.setTable(tableFor({}));
    assert.equal((await request(port, "swap.example", "/gone")).status, 404);
    proxy.setTable(tableFor({ "swap.example": [b] }));
    release(a);
    const done = await Promise.all(inFlight);
    assert.deepEqual(
      done.map((r) => `${r.status} ${r.body}`),
      Array.from({ length: 20 }, (_, i) => `200 a GET /held-${i}`),
    );
  });

  it("clients sending requests while the table flips between backends see no failed request", async () => {
    let flips = 0;
    let stop = false;
    const flipper = (async () => {
      while (!stop && flips < 2_000) {
        proxy.setTable(tableFor({ "flip.example": flips % 2 === 0 ? [a] : [b, c] }));
        flips++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const client = async (id: number) => {
      const agent = new http.Agent({ keepAlive: true });
      const statuses: number[] = [];
      for (let i = 0; i < 50; i++) statuses.push((await request(port, "flip.example", `/c${id}/${i}`, { agent })).status);
      agent.destroy();
      return statuses;
    };
    const results = (await Promise.all([0, 1, 2, 3].map(client))).flat();
    stop = true;
    await flipper;
    assert.equal(results.length, 200);
    assert.deepEqual([...new Set(results)], [200]);
    assert.ok(flips > 10, `the table changed while requests ran (${flips} times)`);
  });
});

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}
