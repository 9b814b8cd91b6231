// The node agent end to end: a real nats-server and the real Docker engine. The test plays the
// control plane's pod projector: it writes each Pod into navarch-pods and into this node's
// projection (navarch-node-pods "<node>.<ns>.<name>"), and reads what the agent reports from
// navarch-pod-status through a watch. Every container labeled with this test's node name is
// removed afterwards, also when a test fails.
import { KINDS, type ConfigMap, type Event, type Lease, type Node, type Pod } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { cidrContains, DockerRuntime, nodeCidrs, parseCidr, type ContainerRuntime, type RuntimeEvent } from "@navarch/runtime";
import {
  AddressClaims,
  clusterIdentity,
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
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { podCidrClaimKey } from "./node/pod-cidr.js";
import { run, type RunningAgent } from "./run.js";

const ROOT = join(import.meta.dirname, "../../..");
const dockerOk = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const skip = dockerOk ? false : "Docker is not available (docker info failed): the node agent's integration tests need a real Docker engine";

const NODE = `itest-${randomUUID().slice(0, 8)}`;
// Networks of this run: one Docker picks the subnet of (so every pod has a sandbox, as these tests
// expect), and one with a configured subnet (fixed IPs: single-container pods without a sandbox).
const NETWORK = `navarch-itest-${NODE}`;
const OWN_NETWORK = `${NETWORK}-own`;
// 10.180.0.0/20 .. 10.189.240.0/20: clear of the e2e clusters' 10.200+ and Docker's own pools.
const OWN_SUBNET = `10.${180 + Math.floor(Math.random() * 10)}.${16 * Math.floor(Math.random() * 16)}.0/20`;
const logger = createLogger("node-agent-test", process.env.NAVARCH_TEST_LOG ? "debug" : "silent");

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let nodePods: ResourceStore<Pod>;
let reportStore: ResourceStore<Pod>;
let reports: Informer<Pod>;
let configMaps: ResourceStore<ConfigMap>;
let runtime: DockerRuntime;
/** This test cluster's id (made by the first clusterIdentity call on its fresh NATS). */
let CLUSTER: string;
let agent: { abort: AbortController; done: Promise<void>; ready: RunningAgent } | undefined;

const OPTIONS = {
  nodeName: NODE,
  heartbeatSeconds: 0.25,
  resyncSeconds: 2,
  restartBackoffBaseMs: 1_000,
  restartBackoffMaxMs: 4_000,
  imagePullBackoffBaseMs: 1_000,
  nodeLabels: "navarch.dev/test=agent",
  nodeTaints: "navarch.dev/dedicated=test:NoSchedule",
};

async function startAgent(rt: ContainerRuntime = runtime, extra: Partial<typeof OPTIONS> & { resyncSeconds?: number; fenceSeconds?: number } = {}): Promise<RunningAgent> {
  const abort = new AbortController();
  let onReady!: (a: RunningAgent) => void;
  const ready = new Promise<RunningAgent>((r) => (onReady = r));
  const done = run({ nc, logger, signal: abort.signal, options: { ...OPTIONS, ...extra }, runtime: rt, onReady });
  const a = await Promise.race([ready, done.then(() => Promise.reject(new Error("run() ended before it was ready")))]);
  agent = { abort, done, ready: a };
  return a;
}

async function stopAgent(): Promise<void> {
  if (!agent) return;
  agent.abort.abort();
  await agent.done;
  agent = undefined;
}

async function removeTestContainers(): Promise<void> {
  if (!dockerOk) return;
  const ids = execFileSync("docker", ["ps", "-aq", "--filter", `label=navarch.node=${NODE}`], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
  if (ids.length > 0) spawnSync("docker", ["rm", "-f", ...ids], { stdio: "ignore" });
}

before(async () => {
  if (!dockerOk) return;
  if (existsSync(join(ROOT, "scripts/build-images.sh"))) execFileSync("bash", [join(ROOT, "scripts/build-images.sh")], { stdio: "ignore" });
  dir = mkdtempSync(join(tmpdir(), "navarch-node-agent-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "node-agent-test" });
  pods = await ResourceStore.open(nc, KINDS.Pod);
  nodePods = await openNodePods(nc, NODE);
  reportStore = await openPodStatusReports(nc);
  configMaps = await ResourceStore.open(nc, KINDS.ConfigMap);
  reports = new Informer(reportStore, nc);
  await reports.start();
  CLUSTER = (await clusterIdentity(nc)).id;
  runtime = new DockerRuntime({ network: NETWORK, cluster: CLUSTER });
  await startAgent();
});

after(async () => {
  try {
    // Bounded: a stuck agent must not keep its containers from being cleaned up.
    await Promise.race([stopAgent(), new Promise((r) => setTimeout(r, 10_000))]);
  } finally {
    await removeTestContainers();
    if (dockerOk) for (const n of [NETWORK, OWN_NETWORK]) spawnSync("docker", ["network", "rm", n], { stdio: "ignore" });
    reports?.stop();
    await nc?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

function newPod(name: string, spec: Record<string, unknown>): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: randomUUID(), creationTimestamp: timestamp() },
    spec: { nodeName: NODE, restartPolicy: "Always", terminationGracePeriodSeconds: 10, ...spec },
  });
}

/** What the projector does for a bound pod: the Pod in navarch-pods, its copy in our projection. */
async function putPod(pod: Pod): Promise<Pod> {
  const stored = await pods.create(pod);
  await nodePods.create({ ...pod, metadata: { ...pod.metadata!, resourceVersion: "" } });
  return stored;
}

/** What the gateway + projector do on a graceful delete. */
async function markDeleted(pod: Pod, graceSeconds: number): Promise<void> {
  const { namespace, name } = pod.metadata!;
  const mark = (p: Pod): Pod => ({ ...p, metadata: { ...p.metadata!, deletionTimestamp: timestamp(), deletionGracePeriodSeconds: graceSeconds } });
  await pods.modify(namespace, name, mark);
  await nodePods.modify(namespace, name, mark);
}

/** Resolves with the first report of namespace/name that satisfies `pred` (seen through the watch). */
function waitReport(name: string, pred: (p: Pod) => boolean, timeoutMs = 20_000, namespace = "default"): Promise<Pod> {
  return new Promise((resolve, reject) => {
    const check = (p: Pod | undefined) => {
      if (p && pred(p)) {
        finish();
        resolve(p);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out waiting for the report of ${namespace}/${name}; last: ${JSON.stringify(reports.get(namespace, name)?.status ?? null)}`));
    }, timeoutMs);
    const unsubscribe = reports.onEvent((e) => {
      if (e.type !== "DELETED" && e.object.metadata?.name === name && e.object.metadata.namespace === namespace) check(e.object);
    });
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
    };
    check(reports.get(namespace, name));
  });
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const running = (p: Pod) => p.status?.phase === "Running" && (p.status.containerStatuses ?? []).every((c) => c.state?.running);
const containerOf = (p: Pod, name: string) => p.status!.containerStatuses.find((c) => c.name === name)!;
const dockerId = (containerID: string) => containerID.replace(/^docker:\/\//, "");

function podContainers(uid: string): string[] {
  return execFileSync("docker", ["ps", "-aq", "--filter", `label=navarch.pod.uid=${uid}`], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
}

describe("node agent on Docker", { skip }, () => {
  test("registers the Node with capacity, labels and taints, and renews its Lease", async () => {
    const nodes = await ResourceStore.open<Node>(nc, KINDS.Node);
    const node = (await nodes.get("", NODE))!;
    assert.ok(node, "node registered");
    assert.equal(node.metadata!.labels["kubernetes.io/hostname"], NODE);
    assert.equal(node.metadata!.labels["kubernetes.io/os"], "linux");
    assert.match(node.metadata!.labels["kubernetes.io/arch"]!, /^(amd64|arm64)$/);
    assert.equal(node.metadata!.labels["navarch.dev/test"], "agent");
    assert.deepEqual(node.spec!.taints.map((t) => `${t.key}=${t.value}:${t.effect}`), ["navarch.dev/dedicated=test:NoSchedule"]);
    assert.match(node.status!.capacity.cpu!, /^\d+$/);
    assert.match(node.status!.capacity.memory!, /^\d+Ki$/);
    assert.equal(node.status!.capacity.pods, "110");
    assert.match(node.status!.nodeInfo!.containerRuntimeVersion, /^docker:\/\//);
    assert.deepEqual(node.status!.conditions, [], "conditions are the control plane's");

    const leases = await ResourceStore.open<Lease>(nc, KINDS.Lease);
    const first = (await leases.get(NODE_LEASE_NAMESPACE, NODE))!;
    assert.equal(first.spec!.holderIdentity, NODE);
    await new Promise((r) => setTimeout(r, 600));
    const later = (await leases.get(NODE_LEASE_NAMESPACE, NODE))!;
    assert.ok(Date.parse(later.spec!.renewTime) > Date.parse(first.spec!.renewTime), "renewTime advances");
    assert.ok(Number(later.metadata!.resourceVersion) > Number(first.metadata!.resourceVersion));
  });

  test("a pod becomes Running with a pod IP; events are recorded", async (t: TestContext) => {
    const hostPort = 20_000 + Math.floor(Math.random() * 20_000);
    const pod = newPod("web", {
      containers: [{
        name: "web",
        image: "navarch/demo:1",
        imagePullPolicy: "IfNotPresent",
        ports: [{ containerPort: 8080, hostPort }],
        env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      }],
    });
    const t0 = Date.now();
    await putPod(pod);
    const report = await waitReport("web", running);
    t.diagnostic(`pod written -> Running seen through a watch: ${Date.now() - t0} ms`);
    const s = report.status!;
    assert.match(s.podIP, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(s.podIPs, [{ ip: s.podIP }]);
    assert.equal(s.hostIP, "127.0.0.1");
    assert.equal(s.qosClass, "BestEffort");
    assert.equal(report.metadata!.uid, pod.metadata!.uid);
    assert.equal(report.metadata!.annotations[REPORTED_BY_ANNOTATION], NODE);
    const c = containerOf(report, "web");
    assert.match(c.containerID, /^docker:\/\/[0-9a-f]{64}$/);
    assert.match(c.imageID, /^docker:\/\/sha256:/);
    assert.equal(c.ready, true);
    assert.equal(c.restartCount, 0);
    assert.deepEqual(
      report.status!.conditions.map((x) => `${x.type}=${x.status}`),
      ["Initialized=True", "Ready=True", "ContainersReady=True", "PodScheduled=True"],
    );
    const out = execFileSync("docker", ["exec", dockerId(c.containerID), "wget", "-qO-", "http://127.0.0.1:8080/"], { encoding: "utf8" });
    assert.match(out, /pod=web/, "env from fieldRef reached the container");
    const viaHostPort = await waitUntil("the hostPort answering", () => fetch(`http://127.0.0.1:${hostPort}/`).then((r) => r.text()).catch(() => undefined), 5_000);
    assert.match(viaHostPort, /pod=web/, "hostPort published on 127.0.0.1");

    await agent!.ready.recorder.idle();
    const events = await ResourceStore.open<Event>(nc, KINDS.Event, { maxAgeMs: 3_600_000 });
    const reasons = await waitUntil("events", async () => {
      const seen = new Set<string>();
      for await (const key of await events.kv.keys("default.web.*")) {
        const e = await events.get("default", key.slice("default.".length));
        if (e?.involvedObject?.uid === pod.metadata!.uid) seen.add(e.reason);
      }
      return ["Pulled", "Created", "Started"].every((r) => seen.has(r)) ? seen : undefined;
    });
    assert.ok(reasons.has("Started"));
  });

  test("two containers of a pod talk on localhost", async () => {
    const pod = newPod("pair", {
      restartPolicy: "Never",
      containers: [
        { name: "server", image: "navarch/demo:1" },
        { name: "client", image: "navarch/busybox:1", command: ["sh", "-c", "for i in $(seq 1 100); do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1"] },
      ],
    });
    await putPod(pod);
    const report = await waitReport("pair", (p) => containerOf(p, "client")?.state?.terminated !== undefined);
    const client = containerOf(report, "client");
    assert.equal(client.state!.terminated!.exitCode, 0, "the client reached the server on localhost");
    assert.equal(client.state!.terminated!.reason, "Completed");
    assert.ok(containerOf(report, "server").state?.running, "the server keeps running");
    assert.equal(report.status!.phase, "Running");
  });

  test("init containers run to completion, in order, before the app container starts", async () => {
    const pod = newPod("initted", {
      initContainers: [
        { name: "first", image: "navarch/busybox:1", command: ["sh", "-c", "sleep 0.3"] },
        { name: "second", image: "navarch/exit:1", args: ["0"] },
      ],
      containers: [{ name: "app", image: "navarch/demo:1" }],
    });
    await putPod(pod);
    const pending = await waitReport("initted", (p) => p.status?.containerStatuses[0]?.state?.waiting?.reason === "PodInitializing");
    assert.equal(pending.status!.phase, "Pending");
    const report = await waitReport("initted", running);
    const [first, second] = report.status!.initContainerStatuses;
    assert.deepEqual([first!.state!.terminated!.reason, second!.state!.terminated!.reason], ["Completed", "Completed"]);
    assert.ok(first!.ready && second!.ready);
    const started = (id: string) => Date.parse(execFileSync("docker", ["inspect", "-f", "{{.State.StartedAt}}", id], { encoding: "utf8" }).trim());
    const finished = (id: string) => Date.parse(execFileSync("docker", ["inspect", "-f", "{{.State.FinishedAt}}", id], { encoding: "utf8" }).trim());
    assert.ok(started(dockerId(second!.containerID)) >= finished(dockerId(first!.containerID)), "second after first");
    assert.ok(started(dockerId(containerOf(report, "app").containerID)) >= finished(dockerId(second!.containerID)), "app after the init containers");
  });

  test("a new image in the pod's spec restarts its container with it", async () => {
    const pod = newPod("upgrade", { containers: [{ name: "app", image: "navarch/demo:1" }] });
    await putPod(pod);
    const before = await waitReport("upgrade", running);
    const change = (p: Pod): Pod => ({ ...p, spec: { ...p.spec!, containers: [{ ...p.spec!.containers[0]!, image: "navarch/demo:2" }] } });
    await pods.modify("default", "upgrade", change);
    await nodePods.modify("default", "upgrade", change);
    const after = await waitReport("upgrade", (p) => running(p) && containerOf(p, "app").image === "navarch/demo:2" && containerOf(p, "app").restartCount === 1);
    assert.equal(after.status!.podIP, before.status!.podIP);
    const out = execFileSync("docker", ["exec", dockerId(containerOf(after, "app").containerID), "wget", "-qO-", "http://127.0.0.1:8080/"], { encoding: "utf8" });
    assert.match(out, /demo v2/);
  });

  test("a crashing container restarts at once, then goes CrashLoopBackOff with restartCount growing", async (t: TestContext) => {
    const pod = newPod("crash", { containers: [{ name: "app", image: "navarch/exit:1", args: ["3"], env: [{ name: "SLEEP", value: "0.3" }] }] });
    await putPod(pod);
    const first = await waitReport("crash", (p) => (containerOf(p, "app")?.restartCount ?? 0) >= 1);
    const last = containerOf(first, "app").lastState!.terminated!;
    assert.equal(last.exitCode, 3);
    assert.equal(last.reason, "Error");
    const backoff = await waitReport("crash", (p) => containerOf(p, "app")?.state?.waiting?.reason === "CrashLoopBackOff");
    assert.match(containerOf(backoff, "app").state!.waiting!.message, /back-off \d+s restarting failed container=app pod=crash_default/);
    const grown = await waitReport("crash", (p) => (containerOf(p, "app")?.restartCount ?? 0) >= 3, 20_000);
    t.diagnostic(`restartCount ${containerOf(grown, "app").restartCount}`);
    assert.equal(grown.status!.phase, "Running", "Always: a crash-looping pod is Running");
    // Older containers are removed in the background as new ones are made.
    await waitUntil("sandbox + current + previous container; older ones removed", () => (podContainers(pod.metadata!.uid).length === 3 ? true : undefined), 5_000);
    // Repeated BackOff events are one Event with a count.
    await agent!.ready.recorder.idle();
    const events = await ResourceStore.open<Event>(nc, KINDS.Event, { maxAgeMs: 3_600_000 });
    const backOffs: Event[] = [];
    for await (const key of await events.kv.keys("default.crash.*")) {
      const e = await events.get("default", key.slice("default.".length));
      if (e?.reason === "BackOff" && e.involvedObject?.uid === pod.metadata!.uid) backOffs.push(e);
    }
    assert.equal(backOffs.length, 1, "one BackOff event");
    assert.ok(backOffs[0]!.count >= 2, `BackOff counted: ${backOffs[0]!.count}`);
    assert.equal(backOffs[0]!.type, "Warning");
    assert.equal(backOffs[0]!.involvedObject!.fieldPath, "spec.containers{app}");
    assert.equal(backOffs[0]!.source!.host, NODE);
  });

  test("a killed container is Running again within a second (first failure)", async (t: TestContext) => {
    const pod = newPod("killme", { containers: [{ name: "app", image: "navarch/demo:1" }] });
    await putPod(pod);
    const before = await waitReport("killme", running);
    const id = dockerId(containerOf(before, "app").containerID);
    const t0 = Date.now();
    execFileSync("docker", ["kill", id], { stdio: "ignore" });
    const after = await waitReport("killme", (p) => running(p) && containerOf(p, "app").restartCount === 1);
    const ms = Date.now() - t0;
    t.diagnostic(`docker kill -> Running again (seen through a watch): ${ms} ms`);
    assert.ok(ms < 1_500, `back in ${ms} ms`);
    assert.equal(after.status!.podIP, before.status!.podIP, "same sandbox, same pod IP");
    assert.equal(containerOf(after, "app").lastState!.terminated!.exitCode, 137);
  });

  test("a memory hog over its 20Mi limit is OOMKilled", async () => {
    const pod = newPod("hog", {
      restartPolicy: "Never",
      containers: [{ name: "hog", image: "navarch/memhog:1", resources: { limits: { memory: "20Mi", cpu: "500m" }, requests: {} } }],
    });
    await putPod(pod);
    const report = await waitReport("hog", (p) => p.status?.phase === "Failed");
    const term = containerOf(report, "hog").state!.terminated!;
    assert.equal(term.reason, "OOMKilled");
    assert.equal(term.exitCode, 137);
    assert.equal(report.status!.qosClass, "Guaranteed", "limits for cpu and memory; requests default to them");
  });

  test("a missing ConfigMap is CreateContainerConfigError until it exists", async () => {
    const pod = newPod("needs-config", {
      containers: [{ name: "app", image: "navarch/demo:1", env: [{ name: "GREETING", valueFrom: { configMapKeyRef: { name: "greeting", key: "text" } } }] }],
    });
    await putPod(pod);
    const waiting = await waitReport("needs-config", (p) => containerOf(p, "app")?.state?.waiting?.reason === "CreateContainerConfigError");
    assert.equal(containerOf(waiting, "app").state!.waiting!.message, 'configmap "greeting" not found');
    await configMaps.create(KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "greeting", namespace: "default", uid: randomUUID() }, data: { text: "hello" } }));
    const ok = await waitReport("needs-config", running, 20_000);
    const out = execFileSync("docker", ["exec", dockerId(containerOf(ok, "app").containerID), "sh", "-c", "echo $GREETING"], { encoding: "utf8" });
    assert.equal(out.trim(), "hello");
  });

  test("an image that cannot be pulled: ErrImagePull, then ImagePullBackOff", async () => {
    // A registry on 127.0.0.1 that is not there: the pull fails fast, and nothing leaves the host.
    const pod = newPod("nopull", { containers: [{ name: "app", image: "127.0.0.1:5999/navarch/none:1", imagePullPolicy: "IfNotPresent" }] });
    await putPod(pod);
    await waitReport("nopull", (p) => containerOf(p, "app")?.state?.waiting?.reason === "ErrImagePull");
    const r = await waitReport("nopull", (p) => containerOf(p, "app")?.state?.waiting?.reason === "ImagePullBackOff");
    assert.equal(r.status!.phase, "Pending");
    // The Failed event names the image once, then the daemon's reason (as Kubernetes words it).
    await agent!.ready.recorder.idle();
    const events = await ResourceStore.open<Event>(nc, KINDS.Event, { maxAgeMs: 3_600_000 });
    const failed = await waitUntil("the pull's Failed event", async () => {
      for await (const key of await events.kv.keys("default.nopull.*")) {
        const e = await events.get("default", key.slice("default.".length));
        if (e?.reason === "Failed" && e.involvedObject?.uid === pod.metadata!.uid && e.message.includes("pull")) return e.message;
      }
      return undefined;
    });
    assert.match(failed, /^Failed to pull image "127\.0\.0\.1:5999\/navarch\/none:1": \S/);
    assert.doesNotMatch(failed, /: failed to pull image/i, "the prefix only once");
  });

  test("a deleted pod stops within its grace period, leaves no container, and its Pod object goes", async (t: TestContext) => {
    const pod = newPod("bye", { terminationGracePeriodSeconds: 5, containers: [{ name: "app", image: "navarch/demo:1" }, { name: "side", image: "navarch/busybox:1", command: ["sleep", "3600"] }] });
    await putPod(pod);
    await waitReport("bye", running);
    const uid = pod.metadata!.uid;
    assert.equal(podContainers(uid).length, 3);
    const t0 = Date.now();
    await markDeleted(pod, 2);
    await waitUntil("the Pod object deleted", async () => ((await pods.get("default", "bye")) ? undefined : true), 15_000);
    const ms = Date.now() - t0;
    t.diagnostic(`graceful delete (grace 2 s; busybox sleep ignores SIGTERM) -> Pod object gone: ${ms} ms`);
    assert.ok(ms < 2_000 + 3_000, `done in ${ms} ms`);
    assert.deepEqual(podContainers(uid), [], "no container left");
    await waitUntil("the report deleted", async () => ((await reportStore.get("default", "bye")) ? undefined : true), 5_000);
  });

  test("a force-deleted pod (projection entry gone) is killed at once", async () => {
    const pod = newPod("force", { terminationGracePeriodSeconds: 30, containers: [{ name: "app", image: "navarch/busybox:1", command: ["sleep", "3600"] }] });
    await putPod(pod);
    await waitReport("force", running);
    const t0 = Date.now();
    await nodePods.delete("default", "force");
    await pods.delete("default", "force");
    await waitUntil("containers gone", () => (podContainers(pod.metadata!.uid).length === 0 ? true : undefined), 10_000);
    assert.ok(Date.now() - t0 < 5_000, "not the 30 s grace period");
  });

  test("a restarted agent adopts the running containers (same IDs, restartCount kept) and removes strays", async (t: TestContext) => {
    const pod = newPod("keep", {
      initContainers: [{ name: "init", image: "navarch/busybox:1", command: ["true"] }],
      containers: [{ name: "a", image: "navarch/demo:1" }, { name: "b", image: "navarch/busybox:1", command: ["sleep", "3600"] }],
    });
    await putPod(pod);
    const before = await waitReport("keep", running);
    const crash = await waitReport("crash", (p) => (containerOf(p, "app")?.restartCount ?? 0) >= 1);
    const ids = before.status!.containerStatuses.map((c) => c.containerID).sort();

    await stopAgent();
    // Containers keep running while no agent runs; a stray (a pod not bound here) appears.
    for (const c of before.status!.containerStatuses) {
      assert.equal(execFileSync("docker", ["inspect", "-f", "{{.State.Running}}", dockerId(c.containerID)], { encoding: "utf8" }).trim(), "true");
    }
    const labelled = (...labels: string[]) =>
      execFileSync("docker", ["run", "-d", ...labels.flatMap((l) => ["--label", l]), "navarch/busybox:1", "sleep", "3600"], { encoding: "utf8" }).trim();
    const stray = labelled(`navarch.cluster=${CLUSTER}`, `navarch.node=${NODE}`, "navarch.pod.uid=stray", "navarch.container.role=app");
    const untouched = labelled("navarch.test=not-ours");
    // From a Navarch before cluster ids (no navarch.cluster): one of a pod bound here (ours for
    // sure: pod uids are unique), one of a pod we do not know (maybe another cluster's).
    const legacyOurs = labelled(`navarch.node=${NODE}`, `navarch.pod.uid=${pod.metadata!.uid}`, "navarch.container.role=app", "navarch.container.name=old");
    const legacyUnknown = labelled(`navarch.node=${NODE}`, "navarch.pod.uid=legacy-unknown", "navarch.container.role=app");
    // Another cluster's container on a node of the same name.
    const otherCluster = labelled(`navarch.cluster=${randomUUID()}`, `navarch.node=${NODE}`, "navarch.pod.uid=other-cluster", "navarch.container.role=app");
    try {
      const t0 = Date.now();
      await startAgent();
      t.diagnostic(`agent restart -> ready (adoption done): ${Date.now() - t0} ms`);
      await new Promise((r) => setTimeout(r, 500));
      const now = reports.get("default", "keep")!;
      assert.deepEqual(now.status!.containerStatuses.map((c) => c.containerID).sort(), ids, "same containers");
      assert.ok(now.status!.containerStatuses.every((c) => c.restartCount === 0 && c.state?.running));
      assert.equal(now.status!.podIP, before.status!.podIP);
      assert.deepEqual(now.status!.initContainerStatuses, before.status!.initContainerStatuses, "the init container is not run again");
      assert.equal(podContainers(pod.metadata!.uid).length, 4, "sandbox, init, a, b");
      const crashNow = agent!.ready.pods.statusOf(crash.metadata!.uid)!;
      assert.ok(containerOf({ status: crashNow } as Pod, "app").restartCount >= containerOf(crash, "app").restartCount, "restartCount recovered from the attempt label");
      assert.equal(spawnSync("docker", ["inspect", stray], { stdio: "ignore" }).status, 1, "the stray container is removed");
      assert.equal(execFileSync("docker", ["inspect", "-f", "{{.State.Running}}", untouched], { encoding: "utf8" }).trim(), "true", "a container without our node label is never touched");
      assert.equal(spawnSync("docker", ["inspect", legacyOurs], { stdio: "ignore" }).status, 1, "an unclustered container of a pod bound here is removed");
      for (const [id, what] of [
        [legacyUnknown, "an unclustered container of an unknown pod"],
        [otherCluster, "another cluster's container"],
      ] as const) {
        assert.equal(execFileSync("docker", ["inspect", "-f", "{{.State.Running}}", id], { encoding: "utf8" }).trim(), "true", `${what} is left running`);
      }
      // The one left behind is reported on the Node, where `navctl describe node` shows it.
      await agent!.ready.recorder.idle();
      const events = await ResourceStore.open<Event>(nc, KINDS.Event, { maxAgeMs: 3_600_000 });
      const onNode: Event[] = [];
      for await (const key of await events.kv.keys(`default.${NODE}.*`)) {
        const e = await events.get("default", key.slice("default.".length));
        if (e?.involvedObject?.kind === "Node" && e.involvedObject.name === NODE) onNode.push(e);
      }
      const left = onNode.find((e) => e.reason === "UnclusteredContainers");
      assert.ok(left && left.type === "Warning" && left.message.includes(legacyUnknown.slice(0, 12)), `a Warning event names the container left: ${JSON.stringify(onNode.map((e) => [e.reason, e.message]))}`);
      assert.ok(!left.message.includes(otherCluster.slice(0, 12)), "another cluster's container is not even mentioned");
      assert.ok(onNode.some((e) => e.reason === "ReplacedUnclusteredContainers" && e.message.includes(legacyOurs.slice(0, 12))));
    } finally {
      spawnSync("docker", ["rm", "-f", stray, untouched, legacyOurs, legacyUnknown, otherCluster], { stdio: "ignore" });
    }
  });

  test("a restarted agent does not run a completed pod again (restartPolicy Never): same container, still exited, its log once", async (t: TestContext) => {
    const pod = newPod("once", { restartPolicy: "Never", containers: [{ name: "once", image: "navarch/busybox:1", command: ["sh", "-c", "echo ran once"] }] });
    await putPod(pod);
    const uid = pod.metadata!.uid;
    const before = await waitReport("once", (p) => p.status?.phase === "Succeeded");
    const id = dockerId(containerOf(before, "once").containerID);
    const state = (cid: string) => execFileSync("docker", ["inspect", "-f", "{{.State.Status}} {{.State.StartedAt}} {{.State.FinishedAt}}", cid], { encoding: "utf8" }).trim();
    const sandbox = execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", `label=navarch.pod.uid=${uid}`, "--filter", "label=navarch.container.role=sandbox"], { encoding: "utf8" }).trim();
    await waitUntil("the completed pod's sandbox stopped", () => (state(sandbox).startsWith("exited") ? true : undefined), 5_000);
    const containersBefore = podContainers(uid).sort();
    const stateBefore = state(id);
    await new Promise((r) => setTimeout(r, 300));
    const reportBefore = (await reportStore.get("default", "once"))!;

    await stopAgent();
    const t0 = Date.now();
    await startAgent();
    t.diagnostic(`agent restart -> ready (adoption done): ${Date.now() - t0} ms`);
    // Give a wrong decision (a new sandbox, the pod run again) time to show.
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(podContainers(uid).sort(), containersBefore, "the stopped sandbox and the exited container are kept, nothing new made");
    assert.equal(state(id), stateBefore, "the container was not started again");
    assert.ok(state(sandbox).startsWith("exited"), "the sandbox stays stopped");
    const logs = spawnSync("docker", ["logs", id], { encoding: "utf8" });
    assert.equal(logs.stdout, "ran once\n", "the command ran once");
    assert.equal(agent!.ready.pods.findContainer("default", "once", uid, "once", false), id, "logs still find the container");
    const now = agent!.ready.pods.statusOf(uid)!;
    assert.equal(now.phase, "Succeeded");
    const c = containerOf({ status: now } as Pod, "once");
    assert.equal(c.containerID, `docker://${id}`);
    assert.equal(c.restartCount, 0);
    assert.deepEqual(c.state!.terminated, containerOf(before, "once").state!.terminated, "the same exit code, reason and times");
    // What the restarted agent computes is what was reported: the report is not rewritten.
    const report = (await reportStore.get("default", "once"))!;
    assert.equal(report.status!.phase, "Succeeded");
    assert.equal(containerOf(report, "once").containerID, `docker://${id}`);
    assert.deepEqual(report.status, reportBefore.status);
    assert.equal(report.metadata!.resourceVersion, reportBefore.metadata!.resourceVersion, "the report was not rewritten");
  });

  test("a dead sandbox is replaced: the containers come back in a new one", async (t: TestContext) => {
    const pod = newPod("resandbox", { containers: [{ name: "app", image: "navarch/demo:1" }] });
    await putPod(pod);
    const before = await waitReport("resandbox", running);
    const sandbox = execFileSync("docker", ["ps", "-q", "--no-trunc", "--filter", `label=navarch.pod.uid=${pod.metadata!.uid}`, "--filter", "label=navarch.container.role=sandbox"], { encoding: "utf8" }).trim();
    assert.ok(sandbox);
    const t0 = Date.now();
    execFileSync("docker", ["kill", sandbox], { stdio: "ignore" });
    const after = await waitReport("resandbox", (p) => running(p) && containerOf(p, "app").restartCount === 1);
    t.diagnostic(`sandbox killed -> Running again in a new sandbox: ${Date.now() - t0} ms`);
    assert.notEqual(containerOf(after, "app").containerID, containerOf(before, "app").containerID);
    await waitUntil("the dead sandbox removed", () => (spawnSync("docker", ["inspect", sandbox], { stdio: "ignore" }).status === 1 ? true : undefined), 5_000);
    assert.equal(podContainers(pod.metadata!.uid).length, 3, "new sandbox + new container + the previous container");
  });

  test("while the runtime's event stream is down, a resync after it reconnects finds what happened", async (t: TestContext) => {
    // The real DockerRuntime, but its event stream can be cut and kept away for a while (as when
    // the Docker daemon restarts).
    let cut: (() => void) | undefined;
    let awayUntil = 0;
    let opens = 0;
    const flaky = Object.create(runtime) as DockerRuntime;
    flaky.events = (signal: AbortSignal, node?: string) =>
      (async function* (): AsyncGenerator<RuntimeEvent> {
        opens++;
        const wait = awayUntil - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (signal.aborted) return;
        const inner = new AbortController();
        const stop = () => inner.abort();
        signal.addEventListener("abort", stop, { once: true });
        cut = stop;
        try {
          yield* runtime.events(inner.signal, node);
        } finally {
          signal.removeEventListener("abort", stop);
        }
      })();
    await stopAgent();
    // No periodic resync: only the one after the stream reconnects can find the kill.
    await startAgent(flaky, { resyncSeconds: 0 });
    const pod = newPod("unseen", { containers: [{ name: "app", image: "navarch/demo:1" }] });
    await putPod(pod);
    const before = await waitReport("unseen", running);
    await waitUntil("the event stream open", () => (cut ? true : undefined));
    awayUntil = Date.now() + 1_500;
    cut!();
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    execFileSync("docker", ["kill", dockerId(containerOf(before, "app").containerID)], { stdio: "ignore" });
    const after = await waitReport("unseen", (p) => running(p) && containerOf(p, "app").restartCount === 1, 10_000);
    t.diagnostic(`kill while the event stream was down (back ~1.3 s later) -> Running again: ${Date.now() - t0} ms; stream opened ${opens} times`);
    assert.ok(opens >= 2, "the stream was reopened");
    assert.equal(after.status!.podIP, before.status!.podIP);
    await stopAgent();
    await startAgent();
  });

  test("on a network with a configured subnet: a single-container pod has no sandbox, an IP from the node's pod CIDR that survives a crash and an agent restart, and leaves nothing", async (t: TestContext) => {
    const own = new DockerRuntime({ network: OWN_NETWORK, podSubnet: OWN_SUBNET, cluster: CLUSTER });
    await stopAgent();
    await startAgent(own);
    try {
      const nodes = await ResourceStore.open<Node>(nc, KINDS.Node);
      const cidr = (await nodes.get("", NODE))!.spec!.podCIDR;
      const net = (await own.podNetwork())!;
      assert.ok(cidr && nodeCidrs(net.subnet, net.dynamicRange!).includes(cidr), `node.spec.podCIDR ${cidr} is a node CIDR of ${net.subnet}`);
      const claims = await AddressClaims.open(nc);
      const claim = await claims.kv.get(podCidrClaimKey(cidr));
      assert.equal(claim?.operation, "PUT", "the pod CIDR is claimed");
      assert.equal((JSON.parse(new TextDecoder().decode(claim!.value)) as { name: string }).name, NODE);

      const pod = newPod("solo", { containers: [{ name: "app", image: "navarch/demo:1", ports: [{ containerPort: 8080 }] }] });
      const uid = pod.metadata!.uid;
      await putPod(pod);
      const before = await waitReport("solo", running);
      const ip = before.status!.podIP;
      assert.ok(cidrContains(parseCidr(cidr), ip), `pod IP ${ip} is in the node's pod CIDR ${cidr}`);
      assert.equal(podContainers(uid).length, 1, "one container, no sandbox");
      const first = dockerId(containerOf(before, "app").containerID);
      assert.equal(execFileSync("docker", ["inspect", "-f", `{{(index .NetworkSettings.Networks "${OWN_NETWORK}").IPAddress}}`, first], { encoding: "utf8" }).trim(), ip);

      execFileSync("docker", ["kill", first], { stdio: "ignore" });
      const restarted = await waitReport("solo", (p) => running(p) && containerOf(p, "app").restartCount === 1);
      const second = dockerId(containerOf(restarted, "app").containerID);
      assert.notEqual(second, first);
      assert.equal(restarted.status!.podIP, ip, "the replacement keeps the pod IP");

      await stopAgent();
      const t0 = Date.now();
      await startAgent(own);
      t.diagnostic(`agent restart -> ready (adoption done): ${Date.now() - t0} ms`);
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(agent!.ready.pods.statusOf(uid)?.podIP, ip, "the restarted agent recovered the pod IP from the container");
      assert.equal(agent!.ready.pods.findContainer("default", "solo", uid, "app", false), second, "the running container was adopted");
      assert.equal(agent!.ready.pods.findContainer("default", "solo", uid, "app", true), first, "and its predecessor kept for --previous logs");
      assert.deepEqual(podContainers(uid).sort(), [first, second].map((id) => id.slice(0, 12)).sort(), "nothing new made, nothing orphaned");

      await markDeleted(pod, 5);
      await waitUntil("the pod's containers removed", () => (podContainers(uid).length === 0 ? true : undefined), 20_000);
      await waitUntil("the Pod object deleted after its containers", async () => ((await pods.get("default", "solo")) === undefined ? true : undefined), 10_000);
    } finally {
      await stopAgent();
      await startAgent();
    }
  });

  // Last: it stops the shared nats-server for a while.
  test("fencing: a node that cannot renew its lease stops its pods, and starts them again once it can", async (t: TestContext) => {
    await stopAgent();
    await startAgent(runtime, { fenceSeconds: 1.5 });
    const pod = newPod("fenced", { containers: [{ name: "app", image: "navarch/demo:1" }] });
    await putPod(pod);
    const before = await waitReport("fenced", running);
    const uid = pod.metadata!.uid;
    const stopped = podContainers(uid);
    const runningOnes = () => execFileSync("docker", ["ps", "-q", "--filter", `label=navarch.pod.uid=${uid}`], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
    const t0 = Date.now();
    await server.stop();
    await waitUntil("the pod's containers stopped", () => (runningOnes().length === 0 ? true : undefined), 10_000);
    t.diagnostic(`NATS gone -> pod stopped by fencing: ${Date.now() - t0} ms (fence after 1.5 s without renewal)`);
    // Stopped, not removed: exit codes, finish times and logs stay until the agent is back.
    assert.deepEqual(podContainers(uid).sort(), stopped.sort());
    await server.restart();
    const after = await waitReport("fenced", (p) => running(p) && containerOf(p, "app").containerID !== containerOf(before, "app").containerID, 20_000);
    assert.ok(after.status!.podIP);
    // The pod started over: what fencing stopped is gone.
    await waitUntil("the stopped containers removed", () => (stopped.every((id) => !podContainers(uid).includes(id)) ? true : undefined), 10_000);
    await stopAgent();
    await startAgent();
  });
});
