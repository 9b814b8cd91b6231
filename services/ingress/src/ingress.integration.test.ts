// The ingress controller end to end against a real nats-server, run through run() (informers,
// leader election for the status writer) as the all-in-one runs it: Ingresses, Services and
// Endpoints written straight into their stores, HTTP servers on 127.0.0.1 standing in for the
// pods. Routes follow the objects; requests in flight survive an Endpoints change; status is
// written for the Ingresses served and only for them.
import { KINDS, type Endpoints, type Ingress, type Service } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "./run.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let ingresses: ResourceStore<Ingress>;
let services: ResourceStore<Service>;
let endpoints: ResourceStore<Endpoints>;
const abort = new AbortController();
let running: Promise<void>;
let port = 0;

/** NAVARCH_TEST_LOG=1 prints the service's log lines. */
const print = (level: string) => (fields: object, msg?: string) =>
  process.env.NAVARCH_TEST_LOG ? console.error(level, msg ?? "", JSON.stringify(fields)) : undefined;
const quiet = { debug: print("debug"), info: print("info"), warn: print("warn"), error: print("error") };

interface Pod {
  name: string;
  port: number;
  server: http.Server;
  held?: (() => void)[];
}

async function startPod(name: string): Promise<Pod> {
  const pod: Pod = { name, port: 0, server: undefined! };
  pod.server = http.createServer((req, res) => {
    req.resume();
    const reply = () => res.end(`${name} ${req.url}`);
    // Only the requests meant to be held wait: a probe that reaches the pod before the route
    // change is answered at once.
    if (pod.held && req.url?.startsWith("/held")) pod.held.push(reply);
    else reply();
  });
  await new Promise<void>((r) => pod.server.listen(0, "127.0.0.1", r));
  pod.port = (pod.server.address() as AddressInfo).port;
  return pod;
}

const pods: Pod[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-ingress-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "ingress-test" });
  ingresses = await ResourceStore.open(nc, KINDS.Ingress);
  services = await ResourceStore.open(nc, KINDS.Service);
  endpoints = await ResourceStore.open(nc, KINDS.Endpoints);
  pods.push(...(await Promise.all(["a", "b", "c"].map(startPod))));
  let listening!: () => void;
  const up = new Promise<void>((r) => (listening = r));
  running = run({
    nc,
    logger: quiet,
    signal: abort.signal,
    options: { ingressAddr: "127.0.0.1:0", leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 1 },
    onListening: (a) => {
      port = a.port;
      listening();
    },
  });
  await Promise.race([up, running.then(() => Promise.reject(new Error("run() ended before listening")))]);
});

after(async () => {
  abort.abort();
  await running?.catch(() => {});
  for (const p of pods) {
    for (const reply of p.held?.splice(0) ?? []) reply();
    p.server.closeAllConnections();
    p.server.close();
  }
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const meta = (name: string) => ({ name, namespace: "default", uid: randomUUID(), creationTimestamp: timestamp() });

async function putService(name: string): Promise<void> {
  await services.create(KINDS.Service.codec.fromPartial({ apiVersion: "v1", kind: "Service", metadata: meta(name), spec: { type: "ClusterIP", ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] } }));
}

/** Writes the Service's Endpoints: one ready address per pod (all on 127.0.0.1, each its own port). */
async function putEndpoints(name: string, ready: Pod[]): Promise<void> {
  const subsets = ready.map((p) => ({ addresses: [{ ip: "127.0.0.1" }], ports: [{ name: "http", port: p.port, protocol: "TCP" }] }));
  const current = await endpoints.get("default", name);
  if (current) await endpoints.update(KINDS.Endpoints.codec.fromPartial({ ...current, subsets }));
  else await endpoints.create(KINDS.Endpoints.codec.fromPartial({ apiVersion: "v1", kind: "Endpoints", metadata: meta(name), subsets }));
}

function rule(host: string, service: string) {
  return { host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service, port: { name: "http" } } } }] } };
}

function get(host: string, path = "/"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, headers: { host }, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Polls (bounded) until `check` passes; returns its last value. */
async function eventually<T>(what: string, probe: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await probe();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 20));
  } while (Date.now() < deadline);
  assert.fail(`${what}: last seen ${JSON.stringify(last)}`);
}

describe("ingress controller on NATS", () => {
  it("routes two hosts to two services as the objects appear, and writes the Ingress's status", async () => {
    const [a, b] = pods;
    assert.equal((await get("one.example")).status, 404, "nothing is routed yet");
    await ingresses.create(KINDS.Ingress.codec.fromPartial({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: meta("web"), spec: { rules: [rule("one.example", "one"), rule("two.example", "two")] } }));
    await eventually("no Service yet: 503", () => get("one.example"), (r) => r.status === 503);
    await putService("one");
    await putService("two");
    await putEndpoints("one", [a!]);
    await putEndpoints("two", [b!]);
    await eventually("one.example -> a", () => get("one.example", "/x"), (r) => r.body === "a /x");
    assert.equal((await get("two.example", "/y")).body, "b /y");
    const written = await eventually("status", () => ingresses.get("default", "web"), (i) => (i?.status?.loadBalancer?.ingress?.length ?? 0) > 0);
    assert.deepEqual(written!.status!.loadBalancer!.ingress, [{ ip: "127.0.0.1", hostname: "" }]);
  });

  it("follows an Endpoints change without dropping the requests in flight", async () => {
    const [a, , c] = pods;
    a!.held = [];
    const inFlight = Array.from({ length: 10 }, (_, i) => get("one.example", `/held-${i}`));
    await eventually("requests reached pod a", async () => a!.held!.length, (n) => n === 10);
    await putEndpoints("one", [c!]); // pod a is no longer ready
    await eventually("one.example -> c", () => get("one.example", "/after"), (r) => r.body === "c /after");
    for (const reply of a!.held!.splice(0)) reply();
    a!.held = undefined;
    const done = await Promise.all(inFlight);
    assert.deepEqual(
      done.map((r) => `${r.status} ${r.body}`),
      Array.from({ length: 10 }, (_, i) => `200 a /held-${i}`),
    );
    await putEndpoints("one", []);
    await eventually("no ready endpoints: 503", () => get("one.example"), (r) => r.status === 503);
  });

  it("leaves Ingresses of another class alone: no route, no status; deleting an Ingress removes its routes", async () => {
    await ingresses.create(KINDS.Ingress.codec.fromPartial({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: meta("theirs"), spec: { ingressClassName: "nginx", rules: [rule("three.example", "two")] } }));
    const web = (await ingresses.get("default", "web"))!;
    await ingresses.delete("default", "web", Number(web.metadata!.resourceVersion));
    await eventually("web's routes gone", () => get("two.example"), (r) => r.status === 404);
    assert.equal((await get("three.example")).status, 404);
    // The status writer takes Ingresses one at a time in the order they come: once one created
    // after theirs has its status, theirs has been looked at.
    await ingresses.create(KINDS.Ingress.codec.fromPartial({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: meta("later"), spec: { rules: [rule("later.example", "two")] } }));
    await eventually("later's status", () => ingresses.get("default", "later"), (i) => (i?.status?.loadBalancer?.ingress?.length ?? 0) > 0);
    const theirs = await ingresses.get("default", "theirs");
    assert.deepEqual(theirs?.status?.loadBalancer?.ingress ?? [], []);
  });
});
