// Hollow nodes against a real nats-server with the real control-plane side of the node agents
// (the controller-manager's run(): pod projector, pod status folder, node lifecycle) in this
// process: the real node agents on FakeRuntimes register their Nodes and stay Ready, a pod bound
// to one of them becomes Running (Pod.status folded from the agent's report), a scripted crash
// under restartPolicy Never makes the pod Failed with the exit code, and a deleted pod's
// containers go away.
import { KINDS, type Node, type Pod } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { run as runControllerManager } from "@navarch/controller-manager";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, Informer, openNodePods, requestDeletion, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run, type HollowNode, type HollowStats } from "./run.js";

const PREFIX = `itest-hollow-${randomUUID().slice(0, 6)}-`;
const COUNT = 3;
const logger = createLogger("hollow-nodes-test", process.env.NAVARCH_TEST_LOG ? "debug" : "silent");

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let nodes: ResourceStore<Node>;
const abort = new AbortController();
let controlPlane: Promise<void>;
let hollow: Promise<void>;
let hollowNodes: HollowNode[];
const stats: HollowStats[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-hollow-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "hollow-nodes-test" });
  pods = await ResourceStore.open(nc, KINDS.Pod);
  nodes = await ResourceStore.open(nc, KINDS.Node);
  controlPlane = runControllerManager({ nc, logger, signal: abort.signal, options: { leaderElect: false, nodeMonitorGraceSeconds: 3 } });
  let ready!: (n: HollowNode[]) => void;
  const readyP = new Promise<HollowNode[]>((r) => (ready = r));
  hollow = run({
    nc,
    logger,
    signal: abort.signal,
    options: { count: COUNT, prefix: PREFIX, heartbeatSeconds: 0.5, startPerSecond: 20, statsSeconds: 0.2, cpu: "2", memory: "4Gi", pods: "50" },
    runtime: { script: (spec) => (spec.image === "navarch/exit:1" ? { exitAfterMs: 50, exitCode: 3 } : undefined) },
    onReady: ready,
    onStats: (s) => stats.push(s),
  });
  hollowNodes = await Promise.race([readyP, hollow.then(() => Promise.reject(new Error("hollow nodes ended before they were ready")))]);
});

after(async () => {
  abort.abort();
  await Promise.race([Promise.all([hollow, controlPlane]).catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
  await nc?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function newPod(name: string, node: string, image: string, restartPolicy = "Always"): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: randomUUID(), creationTimestamp: timestamp() },
    spec: {
      nodeName: node,
      restartPolicy,
      terminationGracePeriodSeconds: 5,
      containers: [{ name: "app", image, resources: { requests: { cpu: "10m", memory: "16Mi" } } }],
    },
    status: { phase: "Pending" },
  });
}

const readyOf = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === "Ready")?.status;

describe("hollow nodes (real node agents on fake runtimes, real NATS, real controller-manager)", () => {
  test("every hollow node registers with its capacity and is Ready", async () => {
    assert.equal(hollowNodes.length, COUNT);
    assert.ok(hollowNodes.every((n) => n.agent && !n.error));
    for (const n of hollowNodes) {
      const node = await eventually(`${n.name} Ready`, async () => {
        const got = await nodes.get("", n.name);
        return readyOf(got) === "True" ? got : undefined;
      });
      assert.equal(node!.status!.capacity!.cpu, "2");
      assert.equal(node!.status!.capacity!.pods, "50");
      assert.equal(node!.status!.nodeInfo!.containerRuntimeVersion, "fake://1.0.0");
    }
    // Several heartbeat periods later they are still Ready.
    await new Promise((r) => setTimeout(r, 2_000));
    for (const n of hollowNodes) assert.equal(readyOf(await nodes.get("", n.name)), "True", `${n.name} stays Ready`);
    assert.ok(stats.length > 0 && stats.at(-1)!.ready === COUNT && stats.at(-1)!.staleHeartbeats === 0, JSON.stringify(stats.at(-1)));
  });

  test("a pod bound to a hollow node becomes Running with a pod IP, its container running in the fake runtime", async () => {
    const node = hollowNodes[1]!;
    await pods.create(newPod("web", node.name, "navarch/demo:1"));
    const running = await eventually("web Running", async () => {
      const p = await pods.get("default", "web");
      return p?.status?.phase === "Running" && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    });
    assert.match(running.status!.podIP, /^10\.\d+\.\d+\.\d+$/);
    assert.equal(running.status!.hostIP, "127.0.0.1");
    assert.match(running.status!.containerStatuses![0]!.containerID, /^fake:\/\//);
    assert.equal(node.runtime.running, 1);
    assert.equal(hollowNodes[0]!.runtime.size + hollowNodes[2]!.runtime.size, 0, "other nodes run nothing");

    await requestDeletion(pods, running, new Date(), 5);
    await eventually("web gone", async () => ((await pods.get("default", "web")) ? undefined : true));
    await eventually("its containers removed", () => (node.runtime.running === 0 ? true : undefined));
  });

  test("a scripted crash under restartPolicy Never makes the pod Failed with the exit code", async () => {
    await pods.create(newPod("crash", hollowNodes[2]!.name, "navarch/exit:1", "Never"));
    const failed = await eventually("crash Failed", async () => {
      const p = await pods.get("default", "crash");
      return p?.status?.phase === "Failed" ? p : undefined;
    });
    assert.equal(failed.status!.containerStatuses![0]!.state!.terminated!.exitCode, 3);
  });

  test("more than 1,000 nodes can watch their pods (nats-server 2.15 caps a stream without its own limit at 1,000 consumers)", async () => {
    let failures = 0;
    const informers: Informer<Pod>[] = [];
    try {
      // What 1,010 agents do: one consumer each on navarch-node-pods, filtered on "<node>.>".
      for (let i = 0; i < 1_010; i++) {
        informers.push(new Informer(await openNodePods(nc, `${PREFIX}many-${i}`), nc, { onWatchError: () => failures++ }));
      }
      await Promise.all(informers.map((inf) => inf.start()));
      await pods.create(newPod("late", `${PREFIX}many-1009`, "navarch/demo:1"));
      await eventually("the 1,010th watcher sees its pod", () => informers[1_009]!.get("default", "late"));
      assert.equal(failures, 0, "no watch failed");
    } finally {
      for (const inf of informers) inf.stop();
    }
  });
});
