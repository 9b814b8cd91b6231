// Probes end to end on one node: a real nats-server, the real Docker engine and the agent's run().
// The test plays the pod projector (writes each Pod into navarch-pods and the node's projection)
// and reads the agent's status reports through a watch. The probes reach the pods' IPs on the
// Docker bridge from this process, as the agent of a node does. Probe targets are switched with
// `docker exec` into the pod's container.
import { KINDS, type Event, type Pod } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { Informer, ResourceStore, connectNats, openNodePods, openPodStatusReports, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run, type RunningAgent } from "../run.js";

const ROOT = join(import.meta.dirname, "../../../..");
const dockerOk = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const skip = dockerOk ? false : "Docker is not available (docker info failed): probe integration tests need a real Docker engine";

const NODE = `prb-itest-${randomUUID().slice(0, 8)}`;
const logger = createLogger("probes-test", process.env.NAVARCH_TEST_LOG ? "debug" : "silent");

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let pods: ResourceStore<Pod>;
let nodePods: ResourceStore<Pod>;
let reports: Informer<Pod>;
let events: ResourceStore<Event>;
let agent: { abort: AbortController; done: Promise<void>; ready: RunningAgent } | undefined;

function removeTestContainers(): void {
  const ids = execFileSync("docker", ["ps", "-aq", "--filter", `label=navarch.node=${NODE}`], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
  if (ids.length > 0) spawnSync("docker", ["rm", "-f", ...ids], { stdio: "ignore" });
}

before(async () => {
  if (!dockerOk) return;
  execFileSync("bash", [join(ROOT, "scripts/build-images.sh")], { stdio: "ignore" });
  dir = mkdtempSync(join(tmpdir(), "navarch-probes-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "probes-test" });
  pods = await ResourceStore.open(nc, KINDS.Pod);
  nodePods = await openNodePods(nc, NODE);
  events = await ResourceStore.open<Event>(nc, KINDS.Event, { maxAgeMs: 3_600_000 });
  reports = new Informer(await openPodStatusReports(nc), nc);
  await reports.start();
  await startAgent();
});

async function startAgent(): Promise<void> {
  const abort = new AbortController();
  let onReady!: (a: RunningAgent) => void;
  const ready = new Promise<RunningAgent>((r) => (onReady = r));
  const options = { nodeName: NODE, heartbeatSeconds: 0.5, resyncSeconds: 2, restartBackoffBaseMs: 1_000, restartBackoffMaxMs: 2_000 };
  const done = run({ nc, logger, signal: abort.signal, options, onReady });
  agent = { abort, done, ready: await Promise.race([ready, done.then(() => Promise.reject(new Error("run() ended before it was ready")))]) };
}

/** Stops the agent; its containers keep running (the next one adopts them). */
async function stopAgent(): Promise<void> {
  if (!agent) return;
  agent.abort.abort();
  await Promise.race([agent.done, new Promise((r) => setTimeout(r, 10_000))]);
  agent = undefined;
}

after(async () => {
  if (!dockerOk) return;
  try {
    await stopAgent();
  } finally {
    removeTestContainers();
    reports?.stop();
    await nc?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

async function putPod(name: string, spec: Record<string, unknown>): Promise<Pod> {
  const pod = KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: randomUUID(), creationTimestamp: timestamp() },
    spec: { nodeName: NODE, restartPolicy: "Always", terminationGracePeriodSeconds: 2, ...spec },
  });
  await pods.create(pod);
  await nodePods.create(pod);
  return pod;
}

/** Every report of the pod, in order, from the watch; `until` resolves with the first that satisfies pred. */
function follow(name: string) {
  const seen: Pod[] = [];
  const unsubscribe = reports.onEvent((e) => {
    if (e.type !== "DELETED" && e.object.metadata?.name === name) seen.push(e.object);
  });
  const until = async (what: string, pred: (p: Pod) => boolean, timeoutMs = 30_000): Promise<Pod> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = seen.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(seen.at(-1)?.status ?? null)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { seen, until, stop: unsubscribe, latest: () => seen.at(-1) };
}

const condition = (p: Pod, type: string) => p.status?.conditions.find((c) => c.type === type)?.status;
const app = (p: Pod) => p.status?.containerStatuses[0];
const dockerId = (p: Pod) => app(p)!.containerID.replace(/^docker:\/\//, "");
const dockerExec = (id: string, ...cmd: string[]) => execFileSync("docker", ["exec", id, ...cmd], { encoding: "utf8" });

async function eventsOf(pod: Pod): Promise<Event[]> {
  await agent!.ready.recorder.idle();
  const out: Event[] = [];
  for await (const key of await events.kv.keys(`default.${pod.metadata!.name}.*`)) {
    const e = await events.get("default", key.slice("default.".length));
    if (e?.involvedObject?.uid === pod.metadata!.uid) out.push(e);
  }
  return out;
}

describe("probes on Docker", { skip }, () => {
  test("readiness (httpGet to the pod IP): Ready follows /ready of navarch/demo, without restarts", async () => {
    const watch = follow("ready-web");
    const pod = await putPod("ready-web", {
      containers: [
        {
          name: "web",
          image: "navarch/demo:1",
          ports: [{ name: "http", containerPort: 8080 }],
          readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    });
    const ready = await watch.until("Ready", (p) => condition(p, "Ready") === "True");
    assert.equal(app(ready)!.ready, true);
    const id = dockerId(ready);

    dockerExec(id, "rm", "/tmp/www/ready");
    const unready = await watch.until("not Ready", (p) => p !== ready && condition(p, "Ready") === "False" && !!app(p)?.state?.running);
    assert.equal(condition(unready, "ContainersReady"), "False");
    assert.equal(app(unready)!.ready, false);
    assert.equal(app(unready)!.restartCount, 0);
    assert.equal(dockerId(unready), id, "a readiness failure restarts nothing");

    dockerExec(id, "cp", "/tmp/www/index.html", "/tmp/www/ready");
    const again = await watch.until("Ready again", (p) => watch.seen.indexOf(p) > watch.seen.indexOf(unready) && condition(p, "Ready") === "True");
    assert.equal(dockerId(again), id);
    const unhealthy = (await eventsOf(pod)).filter((e) => e.reason === "Unhealthy");
    assert.ok(unhealthy.some((e) => e.message === "Readiness probe failed: HTTP probe failed with statuscode: 404"), JSON.stringify(unhealthy.map((e) => e.message)));
    watch.stop();
  });

  test("an agent restart does not make a ready pod unready (adopted containers keep their readiness)", async () => {
    const watch = follow("ready-adopted");
    const pod = await putPod("ready-adopted", {
      containers: [
        {
          name: "web",
          image: "navarch/demo:1",
          // A long period: were readiness earned again after the restart, the pod would be unready for seconds.
          readinessProbe: { httpGet: { path: "/ready", port: "8080" }, periodSeconds: 5, failureThreshold: 1 },
          startupProbe: { tcpSocket: { port: "8080" }, periodSeconds: 1 },
        },
      ],
    });
    const ready = await watch.until("Ready", (p) => condition(p, "Ready") === "True");
    await stopAgent();
    const reportsBefore = watch.seen.length;
    await startAgent();
    const adopted = () => agent!.ready.pods.statusOf(pod.metadata!.uid);
    assert.equal(adopted()?.containerStatuses[0]?.containerID, app(ready)!.containerID, "the same container, adopted");
    assert.equal(adopted()?.containerStatuses[0]?.ready, true, "ready at once after the restart");
    assert.equal(adopted()?.containerStatuses[0]?.started, true);
    // Its probes go on: a failure still makes it unready.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.ok(watch.seen.slice(reportsBefore).every((p) => condition(p, "Ready") === "True"), "no unready report after the restart");
    dockerExec(dockerId(ready), "rm", "/tmp/www/ready");
    await watch.until("not Ready after the probe failed", (p) => watch.seen.indexOf(p) >= reportsBefore && condition(p, "Ready") === "False", 20_000);
    watch.stop();
  });

  test("liveness (exec): a failing probe kills the container and it is restarted, with Unhealthy and Killing events", async () => {
    const watch = follow("live-exec");
    const pod = await putPod("live-exec", {
      containers: [
        {
          name: "app",
          image: "navarch/busybox:1",
          command: ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/healthy; while true; do sleep 0.2; done"],
          livenessProbe: { exec: { command: ["cat", "/tmp/healthy"] }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
    });
    const first = await watch.until("running", (p) => !!app(p)?.state?.running && app(p)!.ready);
    const id = dockerId(first);
    dockerExec(id, "rm", "/tmp/healthy");
    const restarted = await watch.until("restarted", (p) => (app(p)?.restartCount ?? 0) >= 1 && !!app(p)?.state?.running);
    assert.notEqual(dockerId(restarted), id, "a new container");
    assert.ok(app(restarted)!.lastState?.terminated, "the killed one is lastState");
    const evs = await eventsOf(pod);
    const unhealthy = evs.find((e) => e.reason === "Unhealthy");
    assert.ok(unhealthy, "an Unhealthy event");
    assert.equal(unhealthy.type, "Warning");
    assert.match(unhealthy.message, /^Liveness probe failed: cat: can't open '\/tmp\/healthy': No such file or directory/);
    assert.ok(evs.some((e) => e.reason === "Killing" && e.message === "Container app failed liveness probe, will be restarted"));
    // The new container has its file again: it stays up.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(app(watch.latest()!)!.restartCount, 1);
    watch.stop();
  });

  test("startup (tcpSocket): not started nor ready until the port opens; then the readiness probe runs", async () => {
    const watch = follow("slow-start");
    await putPod("slow-start", {
      containers: [
        {
          name: "app",
          image: "navarch/busybox:1",
          ports: [{ containerPort: 8080 }],
          // Opens its port after a few seconds.
          command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3; mkdir -p /tmp/www; httpd -f -p 8080 -h /tmp/www & wait"],
          startupProbe: { tcpSocket: { port: "8080" }, periodSeconds: 1, failureThreshold: 30 },
          readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 },
        },
      ],
    });
    const starting = await watch.until("running, not started", (p) => !!app(p)?.state?.running && app(p)!.started === false);
    assert.equal(app(starting)!.ready, false);
    assert.equal(condition(starting, "Ready"), "False");
    const started = await watch.until("started and ready", (p) => app(p)?.started === true && app(p)!.ready);
    assert.equal(condition(started, "Ready"), "True");
    assert.equal(app(started)!.restartCount, 0);
    watch.stop();
  });
});
