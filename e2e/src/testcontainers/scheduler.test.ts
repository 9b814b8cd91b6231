// The scheduler end to end on the testcontainers cluster (nodes sch-1, sch-2; sch-bp-1, sch-bp-2):
// pods are created without spec.nodeName and the control plane's scheduler places them.
// Each node agent announces a small capacity (NAVARCH_NODE_CPU=2, NAVARCH_NODE_MEMORY=1Gi), so
// requests decide where pods go.
//
//   1. a pod too big for any node is Unschedulable, and `navctl describe pod` says why, with the
//      reasons counted per node as kube-scheduler counts them
//   2. a cordoned node (spec.unschedulable set through the API) gets no new pods
//   3. with requests set, pods spread over the nodes under the default profile ...
//   4. ... and pack onto one node with NAVARCH_SCHEDULER_PROFILE=binpack (a second cluster)
import * as grpc from "@grpc/grpc-js";
import { GetRequest, KINDS, type Node, type Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { GRPC_CLIENT_OPTIONS } from "../cluster.js";
import { startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ROOT } from "./images.js";
import { getPod, podSummary, waitForPod, waitUntil } from "./pods-helpers.js";

const dockerError = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
})();
const skip = dockerError
  ? `no Docker engine (\`docker info\` failed: ${dockerError})`
  : existsSync(path.join(ROOT, "services", "node-agent", "dist", "main.js"))
    ? false
    : "services/node-agent/dist/main.js is not built yet (no node agent image)";

const NODE_ENV = { NAVARCH_NODE_CPU: "2", NAVARCH_NODE_MEMORY: "1Gi", NAVARCH_NODE_PODS: "20" };
const SCHEDULE_TIMEOUT_MS = 20_000;

after(stopAllClusters);

function podManifest(name: string, spec: Record<string, unknown> = {}, requests?: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: "navarch/pause:1", ...(requests ? { resources: { requests } } : {}) }],
      ...spec,
    },
  });
}

async function apply(cluster: Cluster, manifest: string): Promise<void> {
  const r = await cluster.navctl(["apply", "-f", "-"], { input: manifest });
  assert.equal(r.code, 0, `navctl apply failed: ${r.stderr}\n${manifest}`);
}

async function deletePods(cluster: Cluster, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const r = await cluster.navctl(["delete", "pod", ...names]);
  assert.equal(r.code, 0, `navctl delete pod failed: ${r.stderr}`);
  // Gone for good: a terminating pod still holds its requests on its node.
  for (const name of names) await waitUntil(`pod ${name} deleted`, 60_000, async () => ((await getPod(cluster, name)) ? undefined : true));
}

function podScheduled(pod: Pod | undefined) {
  return pod?.status?.conditions.find((c) => c.type === "PodScheduled");
}

function waitBound(cluster: Cluster, name: string): Promise<Pod> {
  return waitForPod(cluster, name, "bound to a node", SCHEDULE_TIMEOUT_MS, (p) => !!p.spec?.nodeName);
}

type AnyClient = grpc.Client & Record<string, Function>;

function call<T>(client: AnyClient, method: string, cluster: Cluster, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method]!.call(client, req, cluster.metadata(), { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/** Read-modify-write of a Node through the API (Update with its resourceVersion), retried on ABORTED. */
async function changeNode(cluster: Cluster, name: string, change: (n: Node) => void): Promise<Node> {
  const client = new KINDS.Node.client(cluster.apiAddr, grpc.credentials.createInsecure(), GRPC_CLIENT_OPTIONS) as AnyClient;
  try {
    for (let attempt = 0; ; attempt++) {
      const node = await call<Node>(client, "get", cluster, GetRequest.fromPartial({ name }));
      change(node);
      try {
        return await call<Node>(client, "update", cluster, node);
      } catch (err) {
        if ((err as grpc.ServiceError).code !== grpc.status.ABORTED || attempt >= 10) throw err;
      }
    }
  } finally {
    client.close();
  }
}

/** Pods per node of `names` once all are bound. */
async function placement(cluster: Cluster, names: string[]): Promise<Map<string, string[]>> {
  const byNode = new Map<string, string[]>();
  for (const name of names) {
    const pod = await waitBound(cluster, name);
    byNode.set(pod.spec!.nodeName, [...(byNode.get(pod.spec!.nodeName) ?? []), name]);
  }
  return byNode;
}

describe("scheduler, default profile (spread)", { skip, timeout: 600_000 }, () => {
  let cluster: Cluster;

  before(
    async () => {
      cluster = await startCluster({ nodes: 2, nodeNamePrefix: "sch-", nodeEnv: NODE_ENV });
    },
    { timeout: 300_000 },
  );

  it("1. a pod too big for any node is Unschedulable with the counted reasons, shown by navctl describe pod", { timeout: 120_000 }, async () => {
    await changeNode(cluster, "sch-2", (n) => n.spec!.taints.push({ key: "dedicated", value: "db", effect: "NoSchedule", timeAdded: "" }));
    try {
      await apply(cluster, podManifest("too-big", {}, { memory: "2Gi" }));
      const message = "0/2 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: db}.";
      const pod = await waitForPod(cluster, "too-big", "PodScheduled=False", SCHEDULE_TIMEOUT_MS, (p) => podScheduled(p)?.status === "False");
      assert.deepEqual([podScheduled(pod)?.reason, podScheduled(pod)?.message], ["Unschedulable", message]);
      assert.equal(pod.spec?.nodeName, "");

      const described = await waitUntil(
        "navctl describe pod too-big with the FailedScheduling event",
        SCHEDULE_TIMEOUT_MS,
        async () => {
          const r = await cluster.navctl(["describe", "pod", "too-big"]);
          return r.code === 0 && r.stdout.includes("FailedScheduling") ? r.stdout : undefined;
        },
      );
      assert.match(described, /^Node:\s+<none>$/m);
      assert.match(described, /^Status:\s+Pending$/m);
      assert.match(described, /^\s+PodScheduled\s+False\s*$/m);
      assert.match(described, new RegExp(`Warning\\s+FailedScheduling\\s+.*default-scheduler\\s+${escapeRegExp(message)}`));
    } finally {
      await changeNode(cluster, "sch-2", (n) => (n.spec!.taints = n.spec!.taints.filter((t) => t.key !== "dedicated")));
      await deletePods(cluster, ["too-big"]);
    }
  });

  it("2. a cordoned node gets no new pods; the placement is explained in the Scheduled event", { timeout: 180_000 }, async () => {
    const names = ["cordon-a", "cordon-b", "cordon-c", "cordon-d"];
    await changeNode(cluster, "sch-1", (n) => (n.spec!.unschedulable = true));
    try {
      // Under the spread profile these would go two and two; cordoned, sch-1 takes none.
      for (const name of names) await apply(cluster, podManifest(name, {}, { cpu: "100m", memory: "32Mi" }));
      const byNode = await placement(cluster, names);
      assert.deepEqual([...byNode.keys()], ["sch-2"], `every pod on the schedulable node: ${JSON.stringify([...byNode])}`);
      const r = await cluster.navctl(["describe", "pod", "cordon-a"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Node:\s+sch-2/m);
      assert.match(r.stdout, /^\s+PodScheduled\s+True\s*$/m);
      assert.match(r.stdout, /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/cordon-a to sch-2 \(1\/2 nodes feasible; score \d+ = least-allocated \d+x1 \+ /);
    } finally {
      await changeNode(cluster, "sch-1", (n) => (n.spec!.unschedulable = false));
      await deletePods(cluster, names);
    }
  });

  it("3. pods with requests spread over both nodes", { timeout: 180_000 }, async () => {
    const names = ["spread-a", "spread-b", "spread-c", "spread-d"];
    try {
      for (const name of names) await apply(cluster, podManifest(name, {}, { cpu: "300m", memory: "64Mi" }));
      const byNode = await placement(cluster, names);
      assert.deepEqual(
        [...byNode.values()].map((v) => v.length).sort(),
        [2, 2],
        `two pods per node: ${JSON.stringify([...byNode])}`,
      );
      // And they really run there.
      for (const name of names) await waitForPod(cluster, name, "Running", 60_000, (p) => p.status?.phase === "Running");
    } finally {
      await deletePods(cluster, names);
    }
  });
});

describe("scheduler, binpack profile", { skip, timeout: 600_000 }, () => {
  let cluster: Cluster;

  before(
    async () => {
      await stopAllClusters(); // one cluster at a time on this machine
      cluster = await startCluster({ nodes: 2, nodeNamePrefix: "sch-bp-", nodeEnv: NODE_ENV, controlPlaneEnv: { NAVARCH_SCHEDULER_PROFILE: "binpack" } });
    },
    { timeout: 300_000 },
  );

  it("4. pods with requests pack onto one node", { timeout: 180_000 }, async () => {
    const names = ["pack-a", "pack-b", "pack-c", "pack-d"];
    try {
      // One at a time, so each decision sees the previous pod bound (the cache's assumption
      // makes this hold without waiting too; this keeps the test about the profile alone).
      for (const name of names) {
        await apply(cluster, podManifest(name, {}, { cpu: "300m", memory: "64Mi" }));
        await waitBound(cluster, name);
      }
      const byNode = await placement(cluster, names);
      assert.equal(byNode.size, 1, `all on one node: ${JSON.stringify([...byNode])}`);
      const pod = await getPod(cluster, "pack-d");
      assert.ok(pod?.spec?.nodeName, podSummary(pod));
      const r = await cluster.navctl(["describe", "pod", "pack-d"]);
      assert.match(r.stdout, /Successfully assigned default\/pack-d to sch-bp-\d \(2\/2 nodes feasible; score \d+ = most-allocated \d+x3 \+ /);
    } finally {
      await deletePods(cluster, names);
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
