// DaemonSets, Jobs and garbage collection end to end: one testcontainers cluster (NATS, the
// control plane with its scheduler and replication service, dsj-1 and dsj-2 as node-agent
// containers driving this machine's Docker) shared by the whole file. Ordinary apps/v1 and
// batch/v1 manifests go in through `navctl apply -f -`; what happens is read back through the
// Pod API (a gRPC watch with a label selector sees every state a pod passes through) and navctl.
//
// What it proves (issue 5):
//   1. a DaemonSet runs one pod on every node, and on a node that joins (dsj-3)
//   2. a Job with completions=3 and parallelism=2 completes, never running more than 2 pods at once
//   3. a Job whose pods fail stops at backoffLimit: Failed, BackoffLimitExceeded
//   4. deleting a Deployment deletes its replica set and pods (background); deleting a replica
//      set with --cascade=orphan leaves its pods, without the ownerReference; deleting a Job with
//      --cascade=foreground returns once its pods are gone
import * as grpc from "@grpc/grpc-js";
import { KINDS, ListRequest, WatchRequest, type Pod, type PodList, type PodWatchEvent } from "@navarch/api";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { GRPC_CLIENT_OPTIONS } from "../cluster.js";
import { startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
import { podSummary, waitUntil } from "./pods-helpers.js";

const dockerError = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
})();
const agentBuilt = existsSync(path.join(ROOT, "services", "node-agent", "dist", "main.js"));
const skip = dockerError ? `no Docker engine (\`docker info\` failed: ${dockerError})` : agentBuilt ? false : "services/node-agent/dist/main.js is not built yet (no node agent image)";

const PREFIX = "dsj-";
const CALL_TIMEOUT_MS = 10_000;

after(stopAllClusters);

type PodClient = grpc.Client & Record<string, Function>;

/** Pods matching a label selector, through the gRPC API. */
async function listPods(cluster: Cluster, labelSelector: string, namespace = "default"): Promise<Pod[]> {
  const client = new KINDS.Pod.client(cluster.apiAddr, grpc.credentials.createInsecure(), GRPC_CLIENT_OPTIONS) as PodClient;
  try {
    return await new Promise<Pod[]>((resolve, reject) => {
      client.list!.call(
        client,
        ListRequest.fromPartial({ namespace, labelSelector }),
        cluster.metadata(),
        { deadline: Date.now() + CALL_TIMEOUT_MS },
        (err: grpc.ServiceError | null, res: PodList) => (err ? reject(err) : resolve(res.items)),
      );
    });
  } finally {
    client.close();
  }
}

const isActive = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
const isRunningReady = (p: Pod) => p.status?.phase === "Running" && !!p.status.conditions.some((c) => c.type === "Ready" && c.status === "True");

/**
 * Follows the pods of a label selector (list, then watch from the list's resourceVersion: no
 * change is missed) and keeps the largest number active at once.
 */
class ActivePodsWatch {
  readonly pods = new Map<string, Pod>();
  peakActive = 0;
  error: Error | undefined;
  private readonly client: PodClient;
  private call: grpc.ClientReadableStream<PodWatchEvent> | undefined;

  constructor(private readonly cluster: Cluster, private readonly labelSelector: string) {
    this.client = new KINDS.Pod.client(cluster.apiAddr, grpc.credentials.createInsecure(), GRPC_CLIENT_OPTIONS) as PodClient;
  }

  async open(): Promise<void> {
    const list = await new Promise<PodList>((resolve, reject) => {
      this.client.list!.call(
        this.client,
        ListRequest.fromPartial({ namespace: "default", labelSelector: this.labelSelector }),
        this.cluster.metadata(),
        { deadline: Date.now() + CALL_TIMEOUT_MS },
        (err: grpc.ServiceError | null, res: PodList) => (err ? reject(err) : resolve(res)),
      );
    });
    for (const p of list.items) this.pods.set(p.metadata!.name, p);
    this.count();
    this.call = this.client.watch!.call(
      this.client,
      WatchRequest.fromPartial({ namespace: "default", labelSelector: this.labelSelector, resourceVersion: list.metadata?.resourceVersion ?? "" }),
      this.cluster.metadata(),
    ) as grpc.ClientReadableStream<PodWatchEvent>;
    this.call.on("data", (ev: PodWatchEvent) => {
      if (!ev.object || ev.type === "BOOKMARK") return;
      if (ev.type === "DELETED") this.pods.delete(ev.object.metadata!.name);
      else this.pods.set(ev.object.metadata!.name, ev.object);
      this.count();
    });
    this.call.on("error", (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) this.error = err;
    });
  }

  private count(): void {
    this.peakActive = Math.max(this.peakActive, [...this.pods.values()].filter(isActive).length);
  }

  close(): void {
    this.call?.cancel();
    this.client.close();
  }
}

/** `navctl get KIND NAME -o json` parsed, or undefined when it does not exist. */
async function getJson<T>(cluster: Cluster, kind: string, name: string): Promise<T | undefined> {
  const r = await cluster.navctl(["get", kind, name, "-o", "json"]);
  if (r.code !== 0) {
    if (/not found/.test(r.stderr)) return undefined;
    throw new Error(`navctl get ${kind} ${name}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as T;
}

/** The columns of `navctl get KIND NAME --no-headers`. */
async function row(cluster: Cluster, kind: string, name: string): Promise<string[]> {
  const r = await cluster.navctl(["get", kind, name, "--no-headers"]);
  assert.equal(r.code, 0, `navctl get ${kind} ${name}: ${r.stderr}`);
  return r.stdout.trim().split(/\s{2,}/);
}

describe("daemon sets, jobs and garbage collection on a testcontainers cluster", { skip }, () => {
  let cluster: Cluster;

  before(
    async () => {
      assert.ok(await ensureDemoImages(), "scripts/build-images.sh does not exist (the demo images navarch/pause:1 ...)");
      cluster = await startCluster({
        nodes: 2,
        nodeNamePrefix: PREFIX,
        // A failed job pod is replaced after 1 s (doubling) instead of Kubernetes' 10 s.
        controlPlaneEnv: { NAVARCH_JOB_POD_FAILURE_BACKOFF_SECONDS: "1" },
      });
      console.log(`# startCluster({ nodes: 2 }) took ${cluster.startupMs} ms`);
    },
    { timeout: 300_000 },
  );

  after(async () => cluster?.stop(), { timeout: 120_000 });

  const apply = async (manifest: string) => {
    const r = await cluster.navctl(["apply", "-f", "-"], { input: manifest });
    assert.equal(r.code, 0, `navctl apply failed: ${r.stderr}`);
    return r.stdout;
  };

  it("a DaemonSet runs one pod per node and follows a node that joins", { timeout: 240_000 }, async () => {
    const out = await apply(`apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-logger
  labels:
    k8s-app: node-logger
spec:
  selector:
    matchLabels:
      name: node-logger
  template:
    metadata:
      labels:
        name: node-logger
    spec:
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      containers:
      - name: logger
        image: navarch/pause:1
        resources:
          limits:
            memory: 50Mi
          requests:
            cpu: 10m
            memory: 20Mi
      terminationGracePeriodSeconds: 5
`);
    assert.match(out, /daemonset\.apps\/node-logger created/);
    const nodesRunning = async () => (await listPods(cluster, "name=node-logger")).filter((p) => isRunningReady(p) && isActive(p)).map((p) => p.spec!.nodeName).sort();
    let last: Pod[] = [];
    const detail = () => last.map(podSummary).join("\n");
    await waitUntil(
      "a running daemon pod on dsj-1 and dsj-2",
      120_000,
      async () => {
        last = await listPods(cluster, "name=node-logger");
        return JSON.stringify(await nodesRunning()) === JSON.stringify([`${PREFIX}1`, `${PREFIX}2`]) ? true : undefined;
      },
      detail,
    );
    await waitUntil("navctl get ds: 2 desired, 2 ready, 2 available", 30_000, async () => {
      const cols = await row(cluster, "ds", "node-logger");
      return cols[1] === "2" && cols[3] === "2" && cols[5] === "2" ? cols : undefined;
    });

    const joined = await addNodeToCluster(cluster, `${PREFIX}3`);
    assert.equal(joined, `${PREFIX}3`);
    await waitUntil(
      "a running daemon pod on the node that joined (dsj-3), one per node",
      120_000,
      async () => {
        last = await listPods(cluster, "name=node-logger");
        return JSON.stringify(await nodesRunning()) === JSON.stringify([`${PREFIX}1`, `${PREFIX}2`, `${PREFIX}3`]) ? true : undefined;
      },
      detail,
    );
    assert.equal((await listPods(cluster, "name=node-logger")).filter(isActive).length, 3, "exactly one pod per node");
    await waitUntil("navctl get ds: 3 desired and available", 30_000, async () => {
      const cols = await row(cluster, "ds", "node-logger");
      return cols[1] === "3" && cols[5] === "3" ? cols : undefined;
    });
    const described = await cluster.navctl(["describe", "ds", "node-logger"]);
    assert.match(described.stdout, /Desired Number of Nodes Scheduled: +3/);
    assert.match(described.stdout, /Pods Status: +3 Running/);
    assert.match(described.stdout, /SuccessfulCreate/);
  });

  it("a Job with completions=3 and parallelism=2 completes, never more than 2 pods at once", { timeout: 180_000 }, async () => {
    const watch = new ActivePodsWatch(cluster, "batch.kubernetes.io/job-name=countdown");
    await watch.open();
    try {
      await apply(`apiVersion: batch/v1
kind: Job
metadata:
  name: countdown
spec:
  completions: 3
  parallelism: 2
  backoffLimit: 4
  template:
    spec:
      containers:
      - name: counter
        image: navarch/busybox:1
        command: ["sh", "-c", "for i in 3 2 1; do echo $i; sleep 1; done"]
      restartPolicy: Never
`);
      const done = await waitUntil(
        "job countdown Complete",
        150_000,
        async () => {
          const job = await getJson<{ status?: { conditions?: { type: string; status: string }[]; succeeded?: number } }>(cluster, "job", "countdown");
          return job?.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? job : undefined;
        },
        () => [...watch.pods.values()].map(podSummary).join("\n"),
      );
      assert.equal(done.status?.succeeded, 3);
      assert.equal(watch.error, undefined, `the pod watch failed: ${watch.error?.message}`);
      assert.ok(watch.peakActive <= 2, `at most 2 pods active at once; saw ${watch.peakActive}`);
      assert.equal(watch.peakActive, 2, "it did run 2 at once");
      const pods = [...watch.pods.values()];
      assert.equal(pods.filter((p) => p.status?.phase === "Succeeded").length, 3, pods.map(podSummary).join("\n"));
      assert.ok(pods.every((p) => /^countdown-[a-z0-9]{5}$/.test(p.metadata!.name)));
      const cols = await row(cluster, "job", "countdown");
      assert.deepEqual(cols.slice(0, 3), ["countdown", "Complete", "3/3"]);
      const logs = await cluster.navctl(["logs", pods[0]!.metadata!.name]);
      assert.equal(logs.stdout, "3\n2\n1\n");
    } finally {
      watch.close();
    }
  });

  it("a Job whose pods fail stops at backoffLimit: Failed, BackoffLimitExceeded", { timeout: 180_000 }, async () => {
    await apply(`apiVersion: batch/v1
kind: Job
metadata:
  name: doomed
spec:
  backoffLimit: 1
  template:
    spec:
      containers:
      - name: fail
        image: navarch/busybox:1
        command: ["sh", "-c", "echo giving up; exit 3"]
      restartPolicy: Never
`);
    const failed = await waitUntil("job doomed Failed", 150_000, async () => {
      const job = await getJson<{ status?: { conditions?: { type: string; status: string; reason: string }[]; failed?: number } }>(cluster, "job", "doomed");
      return job?.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True") ? job : undefined;
    });
    assert.equal(failed.status!.conditions!.find((c) => c.type === "Failed")!.reason, "BackoffLimitExceeded");
    assert.equal(failed.status!.failed, 2, "backoffLimit 1: the first pod and one retry");
    const pods = await listPods(cluster, "batch.kubernetes.io/job-name=doomed");
    assert.equal(pods.length, 2, pods.map(podSummary).join("\n"));
    assert.ok(pods.every((p) => p.status?.phase === "Failed"));
    assert.deepEqual((await row(cluster, "job", "doomed")).slice(0, 3), ["doomed", "Failed", "0/1"]);
    const described = await cluster.navctl(["describe", "job", "doomed"]);
    assert.match(described.stdout, /Pods Statuses: +0 Active \(0 Ready\) \/ 0 Succeeded \/ 2 Failed/);
    assert.match(described.stdout, /BackoffLimitExceeded/);
  });

  it("garbage collection: background deletes a Deployment's replica set and pods; --cascade=orphan keeps a replica set's pods; foreground waits for a Job's pods", { timeout: 240_000 }, async () => {
    const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: app
        image: navarch/pause:1
      terminationGracePeriodSeconds: 2
`;
    await apply(deployment("gc-web"));
    const running = async (selector: string) => (await listPods(cluster, selector)).filter((p) => isActive(p) && isRunningReady(p));
    await waitUntil("2 running pods of gc-web", 120_000, async () => ((await running("app=gc-web")).length === 2 ? true : undefined));
    let r = await cluster.navctl(["delete", "deployment", "gc-web"]);
    assert.equal(r.code, 0, r.stderr);
    await waitUntil("gc-web's pods and replica set gone", 90_000, async () => {
      const left = await listPods(cluster, "app=gc-web");
      const sets = await cluster.navctl(["get", "rs", "-l", "app=gc-web", "-o", "name"]);
      return left.length === 0 && sets.stdout.trim() === "" ? true : undefined;
    });

    await apply(`apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: gc-keep
spec:
  replicas: 2
  selector:
    matchLabels:
      app: gc-keep
  template:
    metadata:
      labels:
        app: gc-keep
    spec:
      containers:
      - name: app
        image: navarch/pause:1
      terminationGracePeriodSeconds: 2
`);
    await waitUntil("2 running pods of gc-keep", 120_000, async () => ((await running("app=gc-keep")).length === 2 ? true : undefined));
    const before = (await running("app=gc-keep")).map((p) => p.metadata!.uid).sort();
    r = await cluster.navctl(["delete", "rs", "gc-keep", "--cascade=orphan"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await getJson(cluster, "rs", "gc-keep"), undefined, "the replica set is gone once delete returns");
    await new Promise((res) => setTimeout(res, 2_000));
    const orphans = await listPods(cluster, "app=gc-keep");
    assert.deepEqual(orphans.map((p) => p.metadata!.uid).sort(), before, "the same pods are still there");
    for (const p of orphans) {
      assert.ok(isActive(p) && isRunningReady(p), podSummary(p));
      assert.deepEqual(p.metadata!.ownerReferences, [], `${p.metadata!.name} has no owner any more`);
    }

    await apply(`apiVersion: batch/v1
kind: Job
metadata:
  name: gc-sleeper
spec:
  parallelism: 2
  completions: 2
  template:
    spec:
      containers:
      - name: sleep
        image: navarch/busybox:1
        command: ["sleep", "300"]
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
`);
    await waitUntil("2 running pods of gc-sleeper", 120_000, async () =>
      (await listPods(cluster, "batch.kubernetes.io/job-name=gc-sleeper")).filter((p) => isActive(p) && p.status?.phase === "Running").length === 2 ? true : undefined,
    );
    r = await cluster.navctl(["delete", "job", "gc-sleeper", "--cascade=foreground"], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await listPods(cluster, "batch.kubernetes.io/job-name=gc-sleeper"), [], "foreground: delete returned after the pods were gone");
    assert.equal(await getJson(cluster, "job", "gc-sleeper"), undefined);
  });
});

/** Adds a node agent to the cluster (the fixture's addNode) and waits for its Node. */
async function addNodeToCluster(cluster: Cluster, name: string): Promise<string> {
  const node = await cluster.addNode(name);
  return node.name;
}
