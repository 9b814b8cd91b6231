// The pod status folder against a real nats-server: a node that stops being Ready takes its pods'
// Ready with it at once (and only its own pods'), and gives it back when it is Ready again. The
// test writes the Node's Ready condition itself (the node lifecycle controller is not running), so
// each step is the folder's doing.
import { KINDS, type Event, type Node, type Pod } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, Informer, openPodStatusReports, REPORTED_BY_ANNOTATION, ResourceStore, timestamp } from "@navarch/store";
import { correlatedEventName, type Controller } from "@navarch/controller";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { podStatusFolder } from "./controller.js";
import { rawReports } from "./raw-reports.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let reports: ResourceStore<Pod>;
let nodes: ResourceStore<Node>;
let events: ResourceStore<Event>;
const informers: Informer<never>[] = [];
let folder: Controller;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-pod-status-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "pod-status-test" });
  [pods, reports, nodes, events] = await Promise.all([
    ResourceStore.open<Pod>(nc, KINDS.Pod),
    openPodStatusReports(nc),
    ResourceStore.open<Node>(nc, KINDS.Node),
    ResourceStore.open<Event>(nc, KINDS.Event),
  ]);
  const podInformer = new Informer(pods, nc);
  const reportInformer = new Informer(rawReports(reports), nc);
  const nodeInformer = new Informer(nodes, nc);
  informers.push(podInformer as Informer<never>, reportInformer as Informer<never>, nodeInformer as Informer<never>);
  await Promise.all([podInformer.start(), reportInformer.start(), nodeInformer.start()]);
  folder = podStatusFolder({ pods: podInformer, reports: reportInformer, nodes: nodeInformer, events });
  await folder.start();
});

after(async () => {
  await folder?.stop();
  for (const i of informers) i.stop();
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const readyCondition = (p: Pod | undefined, type = "Ready") => p?.status?.conditions.find((c) => c.type === type);

async function setNodeReady(name: string, status: "True" | "Unknown"): Promise<void> {
  const condition = { type: "Ready", status, reason: status === "True" ? "NodeAgentReady" : "NodeStatusUnknown", lastTransitionTime: timestamp() };
  const current = await nodes.get("", name);
  const node = KINDS.Node.codec.fromPartial({ apiVersion: "v1", kind: "Node", metadata: { name, uid: `uid-${name}` }, spec: {}, status: { conditions: [condition] } });
  if (current) await nodes.update({ ...node, metadata: current.metadata });
  else await nodes.create(node);
}

/** A pod bound to `node` and its agent's report: Running, every container ready. */
async function runningPod(name: string, node: string): Promise<void> {
  const meta = { name, namespace: "default", uid: `uid-${name}`, creationTimestamp: timestamp() };
  await pods.create(KINDS.Pod.codec.fromPartial({ apiVersion: "v1", kind: "Pod", metadata: meta, spec: { nodeName: node, containers: [{ name: "c", image: "navarch/demo:1" }] } }));
  const at = "2026-01-01T00:00:00Z";
  await reports.create(
    KINDS.Pod.codec.fromPartial({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { ...meta, annotations: { [REPORTED_BY_ANNOTATION]: node } },
      status: {
        phase: "Running",
        podIP: "172.30.0.9",
        conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastTransitionTime: at })),
      },
    }),
  );
}

test("pods of a node that is not Ready are not Ready; Ready again, the agent's report wins", async () => {
  await setNodeReady("n1", "True");
  await setNodeReady("n2", "True");
  await runningPod("web", "n1");
  await runningPod("other", "n2");
  for (const name of ["web", "other"]) {
    await eventually(`${name} Ready=True`, async () => readyCondition(await pods.get("default", name))?.status === "True");
  }
  const otherBefore = (await pods.get("default", "other"))!.metadata!.resourceVersion;

  await setNodeReady("n1", "Unknown");
  const marked = await eventually("web Ready=False", async () => {
    const p = await pods.get("default", "web");
    return readyCondition(p)?.status === "False" ? p : undefined;
  });
  for (const type of ["Ready", "ContainersReady"]) {
    const c = readyCondition(marked, type)!;
    assert.deepEqual([c.status, c.reason, c.message], ["False", "NodeNotReady", "Node is not ready"], type);
  }
  assert.equal(marked.status!.phase, "Running", "the phase stays: the pod may well still run");
  assert.equal((await reports.get("default", "web"))!.status!.conditions.find((c) => c.type === "Ready")!.status, "True", "the report is not touched");
  const eventName = correlatedEventName("web", "uid-web", "NodeNotReady", "Node is not ready");
  const event = await eventually("NodeNotReady event", () => events.get("default", eventName));
  assert.deepEqual([event.type, event.message, event.source?.component], ["Warning", "Node is not ready", "node-controller"]);
  const other = (await pods.get("default", "other"))!;
  assert.equal(other.metadata!.resourceVersion, otherBefore, "a pod on another node is not touched");
  assert.equal(readyCondition(other)?.status, "True");

  await setNodeReady("n1", "True");
  const back = await eventually("web Ready=True again", async () => {
    const p = await pods.get("default", "web");
    return readyCondition(p)?.status === "True" ? p : undefined;
  });
  assert.equal(readyCondition(back, "ContainersReady")?.status, "True");
  assert.equal(readyCondition(back)?.lastTransitionTime, "2026-01-01T00:00:00Z", "the agent's condition, as reported");
});

test("a pod bound to a node that is already not Ready is folded not Ready from its first report", async () => {
  await setNodeReady("n3", "Unknown");
  await runningPod("late", "n3");
  const p = await eventually("late folded", async () => {
    const got = await pods.get("default", "late");
    return got?.status?.phase === "Running" ? got : undefined;
  });
  assert.equal(readyCondition(p)?.status, "False");
  assert.equal(readyCondition(p)?.reason, "NodeNotReady");
});
