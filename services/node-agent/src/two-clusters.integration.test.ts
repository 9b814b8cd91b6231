// Two clusters on one Docker engine: two real nats-servers (so two cluster ids), one node agent
// each, and both nodes have the SAME name and share one pod network. Each runs its own pod (also
// of the same namespace/name); neither adopts, resyncs away, nor fences the other's containers
// (docs/adr/0014-cluster-id.md). The test plays each control plane's pod projector, as
// agent.integration.test.ts does. Everything is removed per cluster afterwards, by its
// navarch.cluster label.
import { KINDS, type Pod } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { DockerRuntime, LABELS } from "@navarch/runtime";
import { clusterIdentity, connectNats, openNodePods, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run, type RunningAgent } from "./run.js";

const ROOT = join(import.meta.dirname, "../../..");
const dockerOk = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const skip = dockerOk ? false : "Docker is not available (docker info failed): this test needs a real Docker engine";

/** One node name for both clusters: the case a node label alone cannot tell apart. */
const NODE = `twin-${randomUUID().slice(0, 8)}`;
const NETWORK = `navarch-itest-${NODE}`;
const logger = createLogger("two-clusters-test", process.env.NAVARCH_TEST_LOG ? "debug" : "silent");

interface Cluster {
  label: string;
  dir: string;
  server: NatsServerProcess;
  nc: NatsConnection;
  id: string;
  pods: ResourceStore<Pod>;
  nodePods: ResourceStore<Pod>;
  agent?: { abort: AbortController; done: Promise<void>; ready: RunningAgent } | undefined;
}

const clusters: Cluster[] = [];

async function newCluster(label: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), `navarch-two-clusters-${label}-`));
  const server = await NatsServerProcess.start({ storeDir: dir });
  const nc = await connectNats({ url: server.url, name: `two-clusters-${label}` });
  const c: Cluster = {
    label,
    dir,
    server,
    nc,
    id: (await clusterIdentity(nc)).id,
    pods: await ResourceStore.open(nc, KINDS.Pod),
    nodePods: await openNodePods(nc, NODE),
  };
  clusters.push(c);
  return c;
}

async function startAgent(c: Cluster, fenceSeconds = 0): Promise<void> {
  const abort = new AbortController();
  let onReady!: (a: RunningAgent) => void;
  const ready = new Promise<RunningAgent>((r) => (onReady = r));
  const options = {
    nodeName: NODE,
    heartbeatSeconds: 0.25,
    // Fast resyncs: a resync that saw the other cluster's containers would remove them as strays.
    resyncSeconds: 0.5,
    fenceSeconds,
    podNetwork: NETWORK,
    podSubnet: "none",
    serviceProxy: false,
    clusterDns: false,
  };
  // The agent makes its own DockerRuntime, as in production: the cluster id comes from its NATS.
  const done = run({ nc: c.nc, logger, signal: abort.signal, options, onReady });
  const a = await Promise.race([ready, done.then(() => Promise.reject(new Error(`the agent of cluster ${c.label} ended before it was ready`)))]);
  c.agent = { abort, done, ready: a };
}

async function stopAgent(c: Cluster): Promise<void> {
  if (!c.agent) return;
  c.agent.abort.abort();
  await c.agent.done;
  c.agent = undefined;
}

async function putPod(c: Cluster, name: string): Promise<Pod> {
  const pod = KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: randomUUID(), creationTimestamp: timestamp() },
    spec: { nodeName: NODE, restartPolicy: "Always", terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: "navarch/demo:1" }] },
  });
  await c.pods.create(pod);
  await c.nodePods.create(pod);
  return pod;
}

function docker(args: string[]): string[] {
  return execFileSync("docker", args, { encoding: "utf8" }).split(/\s+/).filter(Boolean);
}

/** Containers (any state) of a cluster on the node, by its labels only. */
function containersOf(c: Cluster, running = false): string[] {
  return docker(["ps", ...(running ? [] : ["-a"]), "-q", "--no-trunc", "--filter", `label=${LABELS.cluster}=${c.id}`, "--filter", `label=${LABELS.node}=${NODE}`]).sort();
}

async function waitUntil<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The cluster's pod is up: its sandbox and app container run. */
function podRunning(c: Cluster): string[] | undefined {
  const ids = containersOf(c, true);
  return ids.length === 2 ? ids : undefined;
}

describe("two clusters on one Docker engine, nodes of the same name", { skip }, () => {
  let a: Cluster;
  let b: Cluster;

  before(async () => {
    if (existsSync(join(ROOT, "scripts/build-images.sh"))) execFileSync("bash", [join(ROOT, "scripts/build-images.sh")], { stdio: "ignore" });
    a = await newCluster("a");
    b = await newCluster("b");
    await Promise.all([startAgent(a, 1.5), startAgent(b)]);
  });

  after(async () => {
    try {
      await Promise.race([Promise.all(clusters.map((c) => stopAgent(c))), new Promise((r) => setTimeout(r, 10_000))]);
    } finally {
      // Per cluster: each one's containers by its own id, then what carries this run's node name.
      for (const c of clusters) {
        const ids = dockerOk ? containersOf(c) : [];
        if (ids.length > 0) spawnSync("docker", ["rm", "-f", ...ids], { stdio: "ignore" });
      }
      if (dockerOk) {
        const left = docker(["ps", "-aq", "--filter", `label=${LABELS.node}=${NODE}`]);
        if (left.length > 0) spawnSync("docker", ["rm", "-f", ...left], { stdio: "ignore" });
        spawnSync("docker", ["network", "rm", NETWORK], { stdio: "ignore" });
      }
      for (const c of clusters) {
        await c.nc.close().catch(() => undefined);
        await c.server.stop().catch(() => undefined);
        rmSync(c.dir, { recursive: true, force: true });
      }
    }
  });

  test("two NATS servers, two cluster ids", () => {
    assert.notEqual(a.id, b.id);
  });

  test("an agent refuses a runtime made for another cluster, before it writes anything", async () => {
    const wrong = new DockerRuntime({ network: NETWORK, cluster: b.id });
    await assert.rejects(
      run({ nc: a.nc, logger, signal: new AbortController().signal, options: { nodeName: `${NODE}-wrong` }, runtime: wrong }),
      new RegExp(`made for cluster ${b.id}, but this agent's NATS holds cluster ${a.id}`),
    );
  });

  test("each cluster runs its own pod; neither's resyncs nor a restarted agent's adoption touch the other's", async () => {
    // The same namespace/name in both clusters: only the uid (and the cluster label) differs.
    await putPod(a, "web");
    await putPod(b, "web");
    const aIds = await waitUntil("cluster a's pod running", () => podRunning(a));
    const bIds = await waitUntil("cluster b's pod running", () => podRunning(b));
    assert.equal(new Set([...aIds, ...bIds]).size, 4, "four containers: a sandbox and an app per cluster");

    // Several resync periods of both agents.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.deepEqual(podRunning(a), aIds, "cluster a's containers are untouched by b's resyncs");
    assert.deepEqual(podRunning(b), bIds, "cluster b's containers are untouched by a's resyncs");

    // A restarted agent adopts its own containers and removes none of the other's.
    await stopAgent(b);
    await startAgent(b);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(podRunning(b), bIds, "b adopted its own (same IDs)");
    assert.deepEqual(podRunning(a), aIds, "a's are still running, not adopted or removed by b");
    assert.equal(b.agent!.ready.pods.size, 1, "b manages one pod: its own");
  });

  test("fencing stops only the fenced cluster's containers", async () => {
    const aIds = podRunning(a)!;
    const bIds = podRunning(b)!;
    assert.ok(aIds && bIds, "both pods run before");
    // a's NATS goes away: a's agent cannot renew its lease and fences (after 1.5 s).
    await a.server.stop();
    await waitUntil("cluster a's containers stopped by fencing", () => containersOf(a, true).length === 0, 15_000);
    assert.deepEqual(containersOf(a), aIds, "stopped, not removed");
    assert.deepEqual(podRunning(b), bIds, "cluster b's pod on the node of the same name runs on");

    // a's NATS is back: a's pod starts over; b's stays as it was.
    await a.server.restart();
    await waitUntil("cluster a's pod running again", () => {
      const now = podRunning(a);
      return now && now.every((id) => !aIds.includes(id)) ? now : undefined;
    }, 30_000);
    assert.deepEqual(podRunning(b), bIds);
  });
});
