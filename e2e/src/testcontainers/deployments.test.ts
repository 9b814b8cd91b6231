// Deployments end to end on a two-node testcontainers cluster (nodes dep-1, dep-2; real
// containers on this machine's Docker; pods placed by the scheduler in the control plane).
//
// The replication service (ReplicaSet and Deployment controllers) runs here as its own process,
// services/replication/dist/main.js against the cluster's NATS, and is disabled in the control
// plane (NAVARCH_REPLICATION=false) - so a test can kill it mid-rollout and start it again, the
// way a crashed controller process comes back. It uses a fixed leader-election identity, so the
// new process takes its lease back at once instead of waiting for the dead one's to expire.
//
//   1. `navctl apply -f` of an ordinary apps/v1 Deployment (5 replicas) reaches 5 available;
//      `navctl get deploy` reads like kubectl; a deleted pod is replaced.
//   2. A rolling update demo:1 -> demo:2 (maxSurge 25% = 2, maxUnavailable 25% = 1), sampled on
//      a pod watch: never more than 7 pods, never fewer than 4 ready; then every pod runs demo:2.
//   3. An update to an image that is not there stalls; `navctl rollout status` exits non-zero
//      with ProgressDeadlineExceeded; `navctl rollout undo` brings the old template back.
//   4. The replication service killed (SIGKILL) mid-rollout and started again finishes the
//      rollout: one replica set per template, exactly `replicas` new pods ever created, the
//      revision kept.
//   5. A killed node agent: its pods are evicted (node grace + toleration) and replaced on the
//      other node.
import * as grpc from "@grpc/grpc-js";
import { KINDS, ListRequest, WatchRequest, type Deployment, type Pod, type ReplicaSet } from "@navarch/api";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { GRPC_CLIENT_OPTIONS, sleep } from "../cluster.js";
import { startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
import { docker, waitUntil } from "./pods-helpers.js";

const dockerError = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
})();
const REPLICATION_MAIN = path.join(ROOT, "services", "replication", "dist", "main.js");
const built = existsSync(path.join(ROOT, "services", "node-agent", "dist", "main.js")) && existsSync(REPLICATION_MAIN);
const skip = dockerError ? `no Docker engine (\`docker info\` failed: ${dockerError})` : built ? false : "services are not built yet (npm run build)";

after(stopAllClusters);

type AnyClient = grpc.Client & Record<string, Function>;

/** The replication service as a process of its own, its output kept for failure messages. */
class ReplicationProcess {
  private child: ChildProcess | undefined;
  output = "";

  constructor(private readonly natsUrl: string) {}

  start(): void {
    const child = spawn(process.execPath, [REPLICATION_MAIN], {
      env: {
        ...process.env,
        NAVARCH_NATS_URL: this.natsUrl,
        NAVARCH_LEADER_ELECT_IDENTITY: "e2e-deployments-replication",
        NAVARCH_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    this.child = child;
  }

  /** SIGKILL: no shutdown, the lease stays held, work in flight is cut off. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
}

/** A list-then-watch of the pods of one app, keeping the current set and every name ever added. */
class PodSampler {
  readonly pods = new Map<string, Pod>();
  readonly everAdded = new Set<string>();
  private call: grpc.ClientReadableStream<{ type: string; object?: Pod }> | undefined;
  private readonly client: AnyClient;
  private listeners: (() => void)[] = [];
  error: Error | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly app: string,
  ) {
    this.client = new KINDS.Pod.client(cluster.apiAddr, grpc.credentials.createInsecure(), GRPC_CLIENT_OPTIONS) as AnyClient;
  }

  async open(): Promise<this> {
    const labelSelector = `app=${this.app}`;
    const list = await new Promise<{ items: Pod[]; metadata?: { resourceVersion: string } }>((resolve, reject) =>
      this.client.list!.call(this.client, ListRequest.fromPartial({ namespace: "default", labelSelector }), this.cluster.metadata(), { deadline: Date.now() + 10_000 }, (err: Error | null, res: never) =>
        err ? reject(err) : resolve(res),
      ),
    );
    for (const p of list.items) this.apply("ADDED", p);
    this.call = this.client.watch!.call(
      this.client,
      WatchRequest.fromPartial({ namespace: "default", labelSelector, resourceVersion: list.metadata?.resourceVersion ?? "" }),
      this.cluster.metadata(),
    ) as grpc.ClientReadableStream<{ type: string; object?: Pod }>;
    this.call.on("data", (ev: { type: string; object?: Pod }) => {
      if (ev.object && ev.type !== "BOOKMARK") this.apply(ev.type, ev.object);
    });
    this.call.on("error", (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) this.error = err;
    });
    return this;
  }

  private apply(type: string, pod: Pod): void {
    const name = pod.metadata!.name;
    if (type === "DELETED") this.pods.delete(name);
    else {
      if (!this.pods.has(name)) this.everAdded.add(name);
      this.pods.set(name, pod);
    }
    for (const l of this.listeners) l();
  }

  /** Calls `fn` after every change; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.push(fn);
    return () => (this.listeners = this.listeners.filter((l) => l !== fn));
  }

  /** Pods that count: not terminating, not finished. */
  active(): Pod[] {
    return [...this.pods.values()].filter((p) => !p.metadata!.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
  }

  ready(): Pod[] {
    return this.active().filter((p) => p.status?.conditions.some((c) => c.type === "Ready" && c.status === "True"));
  }

  close(): void {
    this.call?.cancel();
    this.client.close();
  }
}

const image = (p: Pod) => p.spec!.containers[0]!.image;

function manifest(name: string, replicas: number, img: string, extra: { progressDeadlineSeconds?: number; minReadySeconds?: number } = {}): string {
  return [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    `  name: ${name}`,
    "  labels:",
    `    app: ${name}`,
    "spec:",
    `  replicas: ${replicas}`,
    ...(extra.progressDeadlineSeconds ? [`  progressDeadlineSeconds: ${extra.progressDeadlineSeconds}`] : []),
    ...(extra.minReadySeconds ? [`  minReadySeconds: ${extra.minReadySeconds}`] : []),
    "  selector:",
    "    matchLabels:",
    `      app: ${name}`,
    "  template:",
    "    metadata:",
    "      labels:",
    `        app: ${name}`,
    "    spec:",
    "      terminationGracePeriodSeconds: 5",
    "      containers:",
    "      - name: app",
    `        image: ${img}`,
    // Nothing is ever pulled in tests: an image that is not here must fail at once, not go to a registry.
    "        imagePullPolicy: Never",
    "        ports:",
    "        - containerPort: 8080",
    "",
  ].join("\n");
}

describe("deployments on a testcontainers cluster", { skip }, () => {
  let cluster: Cluster;
  let replication: ReplicationProcess;

  before(
    async () => {
      assert.ok(await ensureDemoImages(), "scripts/build-images.sh does not exist (the demo images)");
      cluster = await startCluster({ nodes: 2, nodeNamePrefix: "dep-", controlPlaneEnv: { NAVARCH_REPLICATION: "false" } });
      replication = new ReplicationProcess(cluster.natsUrl);
      replication.start();
    },
    { timeout: 300_000 },
  );

  after(async () => {
    await replication?.kill();
    await cluster?.stop();
  }, { timeout: 120_000 });

  const navctl = async (args: string[], input?: string, timeoutMs = 60_000) => cluster.navctl(args, { input, timeoutMs });
  const must = async (args: string[], input?: string, timeoutMs?: number) => {
    const r = await navctl(args, input, timeoutMs);
    assert.equal(r.code, 0, `navctl ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}\n--- replication ---\n${replication.output.slice(-3000)}`);
    return r.stdout;
  };
  const rolledOut = async (name: string, timeoutMs = 120_000) => {
    const out = await must(["rollout", "status", `deployment/${name}`, `--timeout=${Math.round(timeoutMs / 1000)}s`], undefined, timeoutMs + 15_000);
    assert.match(out, new RegExp(`deployment "${name}" successfully rolled out\\n$`));
    return out;
  };
  const getJson = async <T>(what: string): Promise<T> => JSON.parse(await must(["get", what, "-o", "json"])) as T;
  const replicaSetsOf = async (name: string) =>
    (await getJson<{ items: ReplicaSet[] }>("replicasets")).items.filter((rs) => rs.metadata!.ownerReferences?.some((o) => o.kind === "Deployment" && o.name === name));

  it("a 5-replica Deployment from `navctl apply -f` reaches 5 available; a deleted pod is replaced", { timeout: 240_000 }, async () => {
    assert.equal(await must(["apply", "-f", "-"], manifest("web", 5, "navarch/demo:1")), "deployment.apps/web created\n");
    await rolledOut("web");
    const table = await must(["get", "deploy", "web"]);
    assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+5\/5\s+5\s+5\s+\S+\n$/);
    const rsTable = await must(["get", "rs"]);
    assert.match(rsTable, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nweb-[b-z2-9]+\s+5\s+5\s+5\s+\S+\n/);

    const pods = await new PodSampler(cluster, "web").open();
    try {
      assert.equal(pods.ready().length, 5);
      for (const p of pods.active()) {
        assert.match(p.metadata!.name, /^web-[b-z2-9]+-[a-z0-9]{5}$/);
        assert.ok(p.spec!.nodeName.startsWith("dep-"), `${p.metadata!.name} is scheduled`);
        // A real container of that pod runs on this machine's Docker.
        assert.equal(docker(["ps", "-q", "--filter", `label=navarch.pod.name=${p.metadata!.name}`, "--filter", "label=navarch.container.role=app"]).split("\n").filter(Boolean).length, 1);
      }
      const victim = pods.active()[0]!.metadata!.name;
      assert.equal(await must(["delete", "pod", victim, "--wait=false"]), `pod "${victim}" deleted\n`);
      await waitUntil(
        "a replacement for the deleted pod, 5 ready again",
        60_000,
        () => (pods.ready().length === 5 && !pods.pods.has(victim) ? true : undefined),
        () => [...pods.pods.values()].map((p) => `${p.metadata!.name} ${p.metadata!.deletionTimestamp ? "terminating" : p.status?.phase}`),
      );
      assert.equal(pods.everAdded.size, 6, "exactly one replacement");
      const describe = await must(["describe", "deployment", "web"]);
      assert.match(describe, /NewReplicaSet:\s+web-\S+ \(5\/5 replicas created\)/);
      assert.match(describe, /ScalingReplicaSet\s+.*Scaled up replica set web-\S+ to 5 from 0/);
    } finally {
      pods.close();
    }
  });

  it("a rolling update demo:1 -> demo:2 stays within maxSurge and maxUnavailable", { timeout: 240_000 }, async () => {
    const pods = await new PodSampler(cluster, "web").open();
    let maxPods = 0;
    let minReady = Infinity;
    const unsubscribe = pods.onChange(() => {
      maxPods = Math.max(maxPods, pods.active().length);
      minReady = Math.min(minReady, pods.ready().length);
    });
    try {
      assert.equal(await must(["set", "image", "deployment/web", "app=navarch/demo:2"]), "deployment.apps/web image updated\n");
      const out = await rolledOut("web");
      assert.match(out, /Waiting for deployment "web" rollout to finish: \d+ (out of 5 new replicas have been updated|of 5 updated replicas are available|old replicas are pending termination)\.\.\./);
      unsubscribe();
      console.log(`rolling update: at most ${maxPods} pods (limit 7), at least ${minReady} ready (limit 4)`);
      assert.ok(maxPods <= 7, `more than replicas + maxSurge = 7 pods: ${maxPods}`);
      assert.ok(minReady >= 4, `fewer than replicas - maxUnavailable = 4 ready: ${minReady}`);
      await waitUntil("old pods gone", 60_000, () => (pods.pods.size === 5 ? true : undefined));
      assert.deepEqual([...pods.pods.values()].map(image), Array(5).fill("navarch/demo:2"));
      const history = await must(["rollout", "history", "deployment/web"]);
      assert.match(history, /^deployment\.apps\/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    } finally {
      unsubscribe();
      pods.close();
    }
  });

  it("a missing image stalls: ProgressDeadlineExceeded, then `rollout undo` restores the previous version", { timeout: 240_000 }, async () => {
    await must(["apply", "-f", "-"], manifest("stall", 3, "navarch/demo:1", { progressDeadlineSeconds: 10 }));
    await rolledOut("stall");
    await must(["set", "image", "deployment/stall", "app=navarch/not-built-here:1"]);
    const r = await navctl(["rollout", "status", "deployment/stall", "--timeout=90s"], undefined, 120_000);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.stderr, 'error: deployment "stall" exceeded its progress deadline\n');
    const d = await getJson<Deployment>("deployment/stall");
    const progressing = d.status!.conditions.find((c) => c.type === "Progressing")!;
    assert.deepEqual([progressing.status, progressing.reason], ["False", "ProgressDeadlineExceeded"]);
    assert.equal(d.status!.availableReplicas, 3, "the old pods keep serving (maxUnavailable 25% of 3 is 0)");

    assert.equal(await must(["rollout", "undo", "deployment/stall"]), "deployment.apps/stall rolled back\n");
    await rolledOut("stall");
    const pods = await new PodSampler(cluster, "stall").open();
    try {
      await waitUntil("only demo:1 pods", 60_000, () => (pods.pods.size === 3 && [...pods.pods.values()].every((p) => image(p) === "navarch/demo:1") ? true : undefined));
    } finally {
      pods.close();
    }
    const sets = await replicaSetsOf("stall");
    const byImage = Object.fromEntries(sets.map((rs) => [rs.spec!.template!.spec!.containers[0]!.image, [rs.metadata!.annotations["deployment.kubernetes.io/revision"], rs.spec!.replicas]]));
    assert.deepEqual(byImage, { "navarch/demo:1": ["3", 3], "navarch/not-built-here:1": ["2", 0] });
  });

  it("the replication service killed mid-rollout and started again completes the rollout", { timeout: 300_000 }, async () => {
    // minReadySeconds makes every step of the rollout wait, so there is a rollout to interrupt.
    await must(["apply", "-f", "-"], manifest("restart", 4, "navarch/demo:1", { minReadySeconds: 2 }));
    await rolledOut("restart");
    const pods = await new PodSampler(cluster, "restart").open();
    let maxPods = 0;
    const unsubscribe = pods.onChange(() => (maxPods = Math.max(maxPods, pods.active().length)));
    try {
      const before = new Set(pods.everAdded);
      await must(["set", "image", "deployment/restart", "app=navarch/demo:2"]);
      await waitUntil("the rollout under way (a demo:2 pod ready)", 60_000, () => (pods.ready().some((p) => image(p) === "navarch/demo:2") ? true : undefined));
      const d = await getJson<Deployment>("deployment/restart");
      assert.ok((d.status?.updatedReplicas ?? 0) < 4 || (d.status?.replicas ?? 0) > 4, "killed before the rollout finished");
      await replication.kill();
      await sleep(2_000);
      replication.start();
      await rolledOut("restart", 150_000);
      unsubscribe();
      await waitUntil("old pods gone", 60_000, () => (pods.pods.size === 4 ? true : undefined));
      assert.deepEqual([...pods.pods.values()].map(image), Array(4).fill("navarch/demo:2"));
      const created = [...pods.everAdded].filter((n) => !before.has(n));
      assert.equal(created.length, 4, `exactly 4 new pods ever created: ${created.join(", ")}`);
      assert.ok(maxPods <= 5, `at most 4 + 1 pods: ${maxPods}`);
      const sets = await replicaSetsOf("restart");
      assert.deepEqual(
        sets.map((rs) => [rs.spec!.template!.spec!.containers[0]!.image, rs.metadata!.annotations["deployment.kubernetes.io/revision"], rs.spec!.replicas]).sort(),
        [
          ["navarch/demo:1", "1", 0],
          ["navarch/demo:2", "2", 4],
        ],
      );
      assert.equal((await getJson<Deployment>("deployment/restart")).metadata!.annotations["deployment.kubernetes.io/revision"], "2");
    } finally {
      unsubscribe();
      pods.close();
    }
  });

  it("a killed node agent: its pods are replaced on the other node", { timeout: 240_000 }, async () => {
    const pods = await new PodSampler(cluster, "web").open();
    try {
      const byNode = (node: string) => pods.active().filter((p) => p.spec!.nodeName === node);
      const victim = ["dep-1", "dep-2"].sort((a, b) => byNode(b).length - byNode(a).length)[0]!;
      const survivor = victim === "dep-1" ? "dep-2" : "dep-1";
      const lost = byNode(victim).map((p) => p.metadata!.name);
      assert.ok(lost.length > 0, "some web pod runs on the node to kill");
      const t0 = Date.now();
      await cluster.node(victim).kill();
      await waitUntil(
        `5 ready web pods on ${survivor}`,
        120_000,
        () => (pods.ready().length === 5 && pods.ready().every((p) => p.spec!.nodeName === survivor) && lost.every((n) => !pods.pods.has(n)) ? true : undefined),
        () => [...pods.pods.values()].map((p) => `${p.metadata!.name} ${p.spec!.nodeName} ${p.metadata!.deletionTimestamp ? "terminating" : p.status?.phase}`),
      );
      console.log(`node ${victim} killed: its ${lost.length} pod(s) ran again on ${survivor} after ${Date.now() - t0} ms`);
    } finally {
      pods.close();
    }
  });
});
