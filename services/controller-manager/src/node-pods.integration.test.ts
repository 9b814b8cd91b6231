// The control-plane side of the node agents, against a real nats-server through run(): bound pods
// are projected per node, agents' status reports are folded (only from the pod's own node), and
// node heartbeats drive the Ready condition.
import { KINDS, type Lease, type Node, type Pod } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import {
  connectNats,
  Informer,
  NODE_LEASE_NAMESPACE,
  openNodePods,
  openPodStatusReports,
  REPORTED_BY_ANNOTATION,
  ResourceStore,
  timestamp,
} from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run } from "./run.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let reports: ResourceStore<Pod>;
let nodes: ResourceStore<Node>;
let leases: ResourceStore<Lease>;
const abort = new AbortController();
let running: Promise<void>;
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-node-pods-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "node-pods-test" });
  pods = await ResourceStore.open(nc, KINDS.Pod);
  nodes = await ResourceStore.open(nc, KINDS.Node);
  leases = await ResourceStore.open(nc, KINDS.Lease);
  reports = await openPodStatusReports(nc);
  running = run({ nc, logger: silent, signal: abort.signal, options: { leaderElect: false, nodeMonitorGraceSeconds: 1 } });
});

after(async () => {
  abort.abort();
  await running?.catch(() => {});
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function pod(name: string, node: string): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, creationTimestamp: timestamp() },
    spec: { nodeName: node, containers: [{ name: "c", image: "navarch/demo:1" }] },
    status: { phase: "Pending" },
  });
}

function report(p: Pod, node: string, phase: string): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.metadata!.name, namespace: "default", uid: p.metadata!.uid, annotations: { [REPORTED_BY_ANNOTATION]: node } },
    status: { phase, podIP: "172.30.0.9", hostIP: "127.0.0.1" },
  });
}

describe("node-facing controllers (real NATS)", () => {
  test("a bound pod appears in its node's view only, with no status; deleting it removes it there", async () => {
    const n1 = new Informer(await openNodePods(nc, "node-1.example.com"), nc);
    const n2 = new Informer(await openNodePods(nc, "node-2"), nc);
    await Promise.all([n1.start(), n2.start()]);
    await pods.create(pod("web", "node-1.example.com"));
    await pods.create(pod("db", "node-2"));
    await pods.create(pod("pending", ""));
    const seen = await eventually("projection of web", () => n1.get("default", "web"));
    assert.equal(seen.status, undefined);
    assert.equal(seen.spec!.nodeName, "node-1.example.com");
    await eventually("projection of db", () => n2.get("default", "db"));
    assert.deepEqual(n1.list().map((p) => p.metadata!.name), ["web"], "node-1 sees only its own pods");
    assert.equal(n1.get("default", "pending"), undefined);

    const current = (await pods.get("default", "web"))!;
    await pods.delete("default", "web", Number(current.metadata!.resourceVersion));
    await eventually("projection removed", () => (n1.get("default", "web") ? undefined : true));
    n1.stop();
    n2.stop();
  });

  test("a label change reaches the projection; a status write leaves it as it is", async () => {
    const view = new Informer(await openNodePods(nc, "node-3"), nc);
    await view.start();
    const created = await pods.create(pod("relabel", "node-3"));
    const first = await eventually("projection of relabel", () => view.get("default", "relabel"));
    await pods.update({ ...created, status: KINDS.Pod.codec.fromPartial({ status: { phase: "Running", podIP: "172.30.0.7" } }).status });
    const current = (await pods.get("default", "relabel"))!;
    await pods.update({ ...current, metadata: { ...current.metadata!, labels: { tier: "front" } } });
    const relabelled = await eventually("relabelled projection", () => {
      const p = view.get("default", "relabel");
      return p?.metadata?.labels?.tier === "front" ? p : undefined;
    });
    assert.equal(Number(relabelled.metadata!.resourceVersion), Number(first.metadata!.resourceVersion) + 1, "one write for the label, none for the status");
    assert.equal(relabelled.status, undefined);
    view.stop();
  });

  test("reports from the pod's node are folded into its status; reports from another node are not", async () => {
    const p = await pods.create(pod("api", "node-a"));
    await reports.create(report(p, "node-b", "Failed"));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await pods.get("default", "api"))!.status!.phase, "Pending", "a stale node's report is refused");

    const stale = (await reports.get("default", "api"))!;
    await reports.update({ ...report(p, "node-a", "Running"), metadata: { ...report(p, "node-a", "Running").metadata!, resourceVersion: stale.metadata!.resourceVersion } });
    const folded = await eventually("status folded", async () => {
      const now = await pods.get("default", "api");
      return now?.status?.phase === "Running" ? now : undefined;
    });
    assert.equal(folded.status!.podIP, "172.30.0.9");

    await pods.delete("default", "api", Number(folded.metadata!.resourceVersion));
    await eventually("report dropped with its pod", async () => ((await reports.get("default", "api")) ? undefined : true));
  });

  test("a node is Ready while its heartbeat is fresh and Unknown once it stops", async () => {
    await nodes.create(KINDS.Node.codec.fromPartial({ apiVersion: "v1", kind: "Node", metadata: { name: "hb-node" } }));
    const lease = await leases.create(
      KINDS.Lease.codec.fromPartial({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "hb-node", namespace: NODE_LEASE_NAMESPACE },
        spec: { holderIdentity: "hb-node", leaseDurationSeconds: 1, renewTime: new Date().toISOString() },
      }),
    );
    const ready = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === "Ready")?.status;
    await eventually("Ready=True", async () => (ready(await nodes.get("", "hb-node")) === "True" ? true : undefined));
    // One more renewal keeps it Ready; then silence.
    await leases.update({ ...lease, spec: { ...lease.spec!, renewTime: new Date().toISOString() } });
    const stoppedAt = Date.now();
    await eventually("Ready=Unknown", async () => (ready(await nodes.get("", "hb-node")) === "Unknown" ? true : undefined), 5_000);
    const took = Date.now() - stoppedAt;
    assert.ok(took >= 900, `turned Unknown after ${took} ms, before the 1 s grace`);
  });
});
