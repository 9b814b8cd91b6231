// The endpoints service end to end against a real nats-server, run through run() (leader
// election included) as the all-in-one runs it: Pods and Services written straight into their
// stores, Endpoints watched as they appear, change and disappear; and the address repair loop
// releasing and re-claiming Service address claims.
import { KINDS, type Endpoints, type Pod, type Service } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { AddressClaims, claimKey, connectNats, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MANAGED_BY_ANNOTATION } from "./endpoints/reconcile.js";
import { run } from "./run.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let services: ResourceStore<Service>;
let endpoints: ResourceStore<Endpoints>;
let claims: AddressClaims;
const abort = new AbortController();
let running: Promise<void>;

/** NAVARCH_TEST_LOG=1 prints the service's log lines. */
const print = (level: string) => (fields: object, msg?: string) =>
  process.env.NAVARCH_TEST_LOG ? console.error(level, msg ?? "", JSON.stringify(fields)) : undefined;
const quiet = { debug: print("debug"), info: print("info"), warn: print("warn"), error: print("error") };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-endpoints-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "endpoints-test" });
  pods = await ResourceStore.open(nc, KINDS.Pod);
  services = await ResourceStore.open(nc, KINDS.Service);
  endpoints = await ResourceStore.open(nc, KINDS.Endpoints);
  claims = await AddressClaims.open(nc);
  await claims.start();
  running = run({
    nc,
    logger: quiet,
    signal: abort.signal,
    options: {
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 1,
      endpointsResyncSeconds: 0,
      addressRepairSeconds: 1,
      addressRepairGraceSeconds: 2,
    },
  });
});
after(async () => {
  abort.abort();
  await running?.catch(() => {});
  claims?.stop();
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface PodOpts {
  ip?: string;
  ready?: boolean;
  labels?: Record<string, string>;
  ports?: { name: string; containerPort: number }[];
}

function pod(ns: string, name: string, o: PodOpts = {}): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, uid: randomUUID(), creationTimestamp: timestamp(), labels: o.labels ?? { app: "web" } },
    spec: { nodeName: "node-1", containers: [{ name: "app", image: "navarch/demo:1", ports: o.ports ?? [{ name: "http", containerPort: 8080 }] }] },
    status: { phase: "Running", podIP: o.ip ?? "", conditions: [{ type: "Ready", status: o.ready ? "True" : "False" }] },
  });
}

function service(ns: string, name: string, spec: Record<string, unknown> = {}): Service {
  return KINDS.Service.codec.fromPartial({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, uid: randomUUID(), creationTimestamp: timestamp(), labels: { team: "a" } },
    spec: { type: "ClusterIP", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }], ...spec },
  });
}

/** Read-modify-write of a pod's status, as the pod status folder does. */
async function setPod(ns: string, name: string, change: (p: Pod) => void): Promise<void> {
  await pods.modify(ns, name, (p) => {
    change(p);
    return p;
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The Endpoints as "ready ips | not-ready ips | ports" per subset, for readable assertions. */
function summary(ep: Endpoints | undefined): string[] | undefined {
  return ep?.subsets.map(
    (s) => `${s.addresses.map((a) => a.ip).join(",")} | ${s.notReadyAddresses.map((a) => a.ip).join(",")} | ${s.ports.map((p) => `${p.name}:${p.port}`).join(",")}`,
  );
}

async function endpointsBecome(ns: string, name: string, want: string[]): Promise<Endpoints> {
  let last: string[] | undefined;
  try {
    return await waitFor(`endpoints ${ns}/${name} = ${JSON.stringify(want)}`, async () => {
      const ep = await endpoints.get(ns, name);
      last = summary(ep);
      return JSON.stringify(last) === JSON.stringify(want) ? ep : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen ${JSON.stringify(last)}`);
  }
}

describe("endpoints controller (real NATS)", () => {
  test("Endpoints follow pods becoming ready and not ready, and go with the Service", async () => {
    await pods.create(pod("default", "web-1", { ip: "10.1.0.1", ready: true }));
    await pods.create(pod("default", "web-2", { ip: "10.1.0.2", ready: false }));
    await pods.create(pod("default", "db-1", { ip: "10.1.0.9", ready: true, labels: { app: "db" } }));
    await services.create(service("default", "web"));

    const ep = await endpointsBecome("default", "web", ["10.1.0.1 | 10.1.0.2 | http:8080"]);
    assert.deepEqual(ep.metadata!.labels, { team: "a" }, "labels copied from the Service");
    assert.deepEqual(ep.metadata!.ownerReferences, [], "no ownerReference, as in Kubernetes");
    const address = ep.subsets[0]!.addresses[0]!;
    assert.equal(address.nodeName, "node-1");
    assert.equal(address.targetRef?.kind, "Pod");
    assert.equal(address.targetRef?.name, "web-1");
    assert.equal(address.targetRef?.namespace, "default");
    assert.ok(address.targetRef?.uid);

    // web-2 turns ready: both are addresses, and the change shows up promptly (informer event, no polling).
    const start = Date.now();
    await setPod("default", "web-2", (p) => (p.status!.conditions = [{ ...p.status!.conditions[0]!, status: "True" }]));
    await endpointsBecome("default", "web", ["10.1.0.1,10.1.0.2 |  | http:8080"]);
    print("info")({ ms: Date.now() - start }, "pod ready -> endpoints updated");

    // web-1 fails its readiness probe: kept apart, not dropped.
    await setPod("default", "web-1", (p) => (p.status!.conditions = [{ ...p.status!.conditions[0]!, status: "False" }]));
    await endpointsBecome("default", "web", ["10.1.0.2 | 10.1.0.1 | http:8080"]);

    // A relabelled pod leaves the Service.
    await setPod("default", "web-2", (p) => (p.metadata!.labels = { app: "elsewhere" }));
    await endpointsBecome("default", "web", [" | 10.1.0.1 | http:8080"]);

    // An unchanged pod update writes nothing.
    const before = (await endpoints.get("default", "web"))!.metadata!.resourceVersion;
    await setPod("default", "db-1", (p) => (p.status!.containerStatuses = []));
    await setPod("default", "web-1", (p) => (p.status!.message = "still starting"));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await endpoints.get("default", "web"))!.metadata!.resourceVersion, before, "no write when nothing changed");

    // Someone deletes the Endpoints: they are put back. Then the Service goes, and they go too.
    await endpoints.delete("default", "web");
    await endpointsBecome("default", "web", [" | 10.1.0.1 | http:8080"]);
    await services.delete("default", "web");
    await waitFor("endpoints deleted with the Service", async () => (await endpoints.get("default", "web")) === undefined);
  });

  test("named target ports resolve per pod: subsets by port, pods without the port left out", async () => {
    await pods.create(pod("ports", "v1", { ip: "10.2.0.1", ready: true, ports: [{ name: "http", containerPort: 8080 }] }));
    await pods.create(pod("ports", "v2", { ip: "10.2.0.2", ready: true, ports: [{ name: "http", containerPort: 9090 }] }));
    await pods.create(pod("ports", "sidecar", { ip: "10.2.0.3", ready: true, ports: [{ name: "admin", containerPort: 7070 }] }));
    await services.create(service("ports", "web"));
    await endpointsBecome("ports", "web", ["10.2.0.1 |  | http:8080", "10.2.0.2 |  | http:9090"]);

    // The pod without an "http" port joins once it gets one (its spec is written with the new port).
    await setPod("ports", "sidecar", (p) => (p.spec!.containers[0]!.ports = [{ name: "http", containerPort: 8080, protocol: "TCP", hostIP: "" }]));
    await endpointsBecome("ports", "web", ["10.2.0.1,10.2.0.3 |  | http:8080", "10.2.0.2 |  | http:9090"]);
  });

  test("a Service without selector keeps the Endpoints its user wrote", async () => {
    await services.create(service("manual", "external-db", { selector: {} }));
    const mine = KINDS.Endpoints.codec.fromPartial({
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "external-db", namespace: "manual", uid: randomUUID() },
      subsets: [{ addresses: [{ ip: "192.0.2.10" }], ports: [{ port: 5432, protocol: "TCP" }] }],
    });
    const created = await endpoints.create(mine);
    await pods.create(pod("manual", "web-x", { ip: "10.3.0.1", ready: true }));
    await new Promise((r) => setTimeout(r, 700));
    const kept = await endpoints.get("manual", "external-db");
    assert.equal(kept?.metadata?.resourceVersion, created.metadata!.resourceVersion, "untouched");
    assert.equal(kept?.metadata?.annotations[MANAGED_BY_ANNOTATION], undefined);
    // Deleting the Service deletes them, as Kubernetes does.
    await services.delete("manual", "external-db");
    await waitFor("user endpoints deleted with their Service", async () => (await endpoints.get("manual", "external-db")) === undefined);
  });
});

describe("address repair (real NATS)", () => {
  const owner = (svc: Service) => ({ namespace: svc.metadata!.namespace, name: svc.metadata!.name, uid: svc.metadata!.uid });
  const claimed = async (key: string) => (await claims.kv.get(key))?.operation === "PUT";

  test("a claim whose Service never got written is released after the grace period", async () => {
    const key = claimKey("clusterip", "10.96.200.1");
    assert.ok(await claims.claim(key, { namespace: "default", name: "crashed-before-write", uid: randomUUID() }, new Date()));
    await new Promise((r) => setTimeout(r, 1_000));
    assert.ok(await claimed(key), "young claims are left alone");
    await waitFor("orphan claim released", async () => !(await claimed(key)));
  });

  test("claims that are not a Service's (a node's pod CIDR) are never released", async () => {
    const key = "podcidr.10_244_16_0_24";
    assert.ok(await claims.claim(key, { namespace: "", name: "node-1", uid: "" }, new Date(Date.now() - 3_600_000)));
    const orphan = claimKey("clusterip", "10.96.200.2");
    assert.ok(await claims.claim(orphan, { namespace: "default", name: "never-written", uid: randomUUID() }, new Date(Date.now() - 3_600_000)));
    await waitFor("the orphan Service claim released", async () => !(await claimed(orphan)));
    // The repair loop passes every second: two more passes.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.ok(await claimed(key), "the pod CIDR claim stays");
  });

  test("a Service deleted outside the gateway frees its addresses; one without a claim gets it back", async () => {
    const svc = service("default", "np", { type: "NodePort", clusterIP: "10.96.200.2", ports: [{ name: "http", port: 80, targetPort: "8080", protocol: "TCP", nodePort: 30555 }] });
    const ipKey = claimKey("clusterip", "10.96.200.2");
    const portKey = claimKey("nodeport", 30555);
    // Stored without claims (as if the bucket had lost them): the repair loop claims them for it.
    await services.create(svc);
    await waitFor("missing claims re-made", async () => (await claimed(ipKey)) && (await claimed(portKey)));
    const made = await waitFor("the claim in the cache", async () => claims.get(ipKey));
    assert.deepEqual(made.owner, owner(svc), "claimed for the Service that uses the address");

    // The namespace controller deletes straight from the store, not through the gateway.
    await services.delete("default", "np");
    await waitFor("claims released with the Service", async () => !(await claimed(ipKey)) && !(await claimed(portKey)));
  });

  test("a claim of a deleted-and-recreated Service's predecessor is replaced by the new one's", async () => {
    const ipKey = claimKey("clusterip", "10.96.200.3");
    const old = { namespace: "default", name: "again", uid: randomUUID() };
    await claims.kv.put(ipKey, new TextEncoder().encode(JSON.stringify({ ...old, claimedAt: new Date(Date.now() - 60_000).toISOString() })));
    const svc = service("default", "again", { clusterIP: "10.96.200.3" });
    await services.create(svc);
    await waitFor("claim moved to the new Service", async () => {
      const e = await claims.kv.get(ipKey);
      return e?.operation === "PUT" && JSON.parse(new TextDecoder().decode(e.value)).uid === svc.metadata!.uid;
    });
  });
});
