// Lifecycle hooks end to end on one node: a real nats-server, the real Docker engine and the
// agent's run(). The test plays the gateway and the pod projector (writes each Pod into
// navarch-pods and the node's projection, marks it deleted in both) and reads the agent's status
// reports through a watch. Containers write what happens to them (the main process, its TERM trap
// and the hooks) into one file on a hostPath volume, so the order of things is read from there.
import { KINDS, type Event, type Pod } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { Informer, ResourceStore, connectNats, openNodePods, openPodStatusReports, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run, type RunningAgent } from "../run.js";

const ROOT = join(import.meta.dirname, "../../../..");
const dockerOk = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const skip = dockerOk ? false : "Docker is not available (docker info failed): hook integration tests need a real Docker engine";

const NODE = `hook-itest-${randomUUID().slice(0, 8)}`;
const logger = createLogger("hooks-test", process.env.NAVARCH_TEST_LOG ? "debug" : "silent");

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
  dir = mkdtempSync(join(tmpdir(), "navarch-hooks-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "hooks-test" });
  pods = await ResourceStore.open(nc, KINDS.Pod);
  nodePods = await openNodePods(nc, NODE);
  events = await ResourceStore.open<Event>(nc, KINDS.Event, { maxAgeMs: 3_600_000 });
  reports = new Informer(await openPodStatusReports(nc), nc);
  await reports.start();
  const abort = new AbortController();
  let onReady!: (a: RunningAgent) => void;
  const ready = new Promise<RunningAgent>((r) => (onReady = r));
  const options = { nodeName: NODE, heartbeatSeconds: 0.5, resyncSeconds: 2, restartBackoffBaseMs: 1_000, restartBackoffMaxMs: 2_000 };
  const done = run({ nc, logger, signal: abort.signal, options, onReady });
  agent = { abort, done, ready: await Promise.race([ready, done.then(() => Promise.reject(new Error("run() ended before it was ready")))]) };
});

after(async () => {
  if (!dockerOk) return;
  try {
    if (agent) {
      agent.abort.abort();
      await Promise.race([agent.done, new Promise((r) => setTimeout(r, 10_000))]);
    }
  } finally {
    removeTestContainers();
    reports?.stop();
    await nc?.close();
    await server?.stop();
    // The containers wrote as root into the volume directories; they are ours to remove.
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

/** A pod whose only container logs to <dir>/<name>/events (mounted at /log); it exits at once on TERM. */
async function putPod(name: string, lifecycle: Record<string, unknown>, grace: number): Promise<{ pod: Pod; log: () => string[] }> {
  const volume = join(dir, "volumes", name);
  const pod = KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: randomUUID(), creationTimestamp: timestamp() },
    spec: {
      nodeName: NODE,
      restartPolicy: "Always",
      terminationGracePeriodSeconds: grace,
      volumes: [{ name: "log", hostPath: { path: volume } }],
      containers: [
        {
          name: "app",
          image: "navarch/busybox:1",
          command: ["sh", "-c", "trap 'echo term >> /log/events; exit 0' TERM; echo started >> /log/events; while true; do sleep 0.1; done"],
          volumeMounts: [{ name: "log", mountPath: "/log" }],
          lifecycle,
        },
      ],
    },
  });
  await pods.create(pod);
  await nodePods.create(pod);
  const file = join(volume, "events");
  return { pod, log: () => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []) };
}

/** What the gateway (deletionTimestamp) and the projector (the node's copy) do for a graceful delete. */
async function markDeleted(pod: Pod, graceSeconds: number): Promise<void> {
  const { namespace, name } = pod.metadata!;
  const mark = (p: Pod): Pod => ({ ...p, metadata: { ...p.metadata!, deletionTimestamp: timestamp(), deletionGracePeriodSeconds: graceSeconds } });
  await pods.modify(namespace, name, mark);
  await nodePods.modify(namespace, name, mark);
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const report = (name: string) => reports.get("default", name);
const app = (p: Pod | undefined) => p?.status?.containerStatuses[0];
const dockerId = (p: Pod | undefined) => app(p)?.containerID.replace(/^docker:\/\//, "") ?? "";
const running = (id: string) => spawnSync("docker", ["inspect", "-f", "{{.State.Running}}", id], { encoding: "utf8" }).stdout.trim() === "true";

async function eventsOf(pod: Pod): Promise<Event[]> {
  await agent!.ready.recorder.idle();
  const out: Event[] = [];
  for await (const key of await events.kv.keys(`default.${pod.metadata!.name}.*`)) {
    const e = await events.get("default", key.slice("default.".length));
    if (e?.involvedObject?.uid === pod.metadata!.uid) out.push(e);
  }
  return out;
}

describe("lifecycle hooks on Docker", { skip }, () => {
  test("a deletion runs preStop (exec) before the SIGTERM, and the Pod object waits for both", async () => {
    const preStop = { exec: { command: ["sh", "-c", "echo prestop-begin >> /log/events; sleep 2; echo prestop-end >> /log/events"] } };
    const { pod, log } = await putPod("prestop", { preStop }, 20);
    const id = await until("running", () => (app(report("prestop"))?.state?.running ? dockerId(report("prestop")) : undefined));
    await markDeleted(pod, 20);

    await until("the hook begins", () => log().includes("prestop-begin"));
    assert.ok(running(id), "the container still runs while its preStop hook does (it keeps serving)");
    assert.ok(await pods.get("default", "prestop"), "the Pod object waits");
    assert.ok(!log().includes("term"), "no SIGTERM yet");

    await until("the Pod object is deleted", async () => !(await pods.get("default", "prestop")));
    assert.deepEqual(log(), ["started", "prestop-begin", "prestop-end", "term"], "the hook ran to its end, then SIGTERM");
    assert.ok(!(await eventsOf(pod)).some((e) => e.reason === "FailedPreStopHook"));
  });

  test("a preStop hook longer than the grace period is cut short: SIGTERM at the end of the grace", async () => {
    const preStop = { exec: { command: ["sh", "-c", "echo prestop-begin >> /log/events; sleep 60; echo prestop-end >> /log/events"] } };
    const { pod, log } = await putPod("prestop-long", { preStop }, 2);
    await until("running", () => app(report("prestop-long"))?.state?.running);
    await markDeleted(pod, 2);
    await until("the hook begins", () => log().includes("prestop-begin"));
    await until("the Pod object is deleted", async () => !(await pods.get("default", "prestop-long")), 20_000);
    assert.deepEqual(log(), ["started", "prestop-begin", "term"], "SIGTERM while the hook still slept");
  });

  test("a failing preStop hook is a FailedPreStopHook Warning; the container still stops", async () => {
    const { pod, log } = await putPod("prestop-fails", { preStop: { exec: { command: ["sh", "-c", "echo nope; exit 3"] } } }, 10);
    await until("running", () => app(report("prestop-fails"))?.state?.running);
    await markDeleted(pod, 10);
    await until("the Pod object is deleted", async () => !(await pods.get("default", "prestop-fails")));
    assert.deepEqual(log(), ["started", "term"]);
    const failed = (await eventsOf(pod)).find((e) => e.reason === "FailedPreStopHook");
    assert.ok(failed, "a FailedPreStopHook event");
    assert.equal(failed.type, "Warning");
    assert.equal(
      failed.message,
      `Exec lifecycle hook ([sh -c echo nope; exit 3]) for Container "app" in Pod "prestop-fails_default(${pod.metadata!.uid})" failed - error: command 'sh -c echo nope; exit 3' exited with 3: , message: "nope"`,
    );
  });

  test("postStart runs after the start; the container is not reported running until it returns", async () => {
    const postStart = { exec: { command: ["sh", "-c", "sleep 2; echo poststart >> /log/events"] } };
    const { pod, log } = await putPod("poststart", { postStart }, 2);
    // The container exists (it has an id) and runs, but its postStart has not returned.
    const during = await until("a report during postStart", () => {
      const r = report("poststart");
      return app(r)?.containerID && log().includes("started") ? r : undefined;
    });
    assert.ok(!log().includes("poststart"), "seen while the hook still sleeps");
    assert.equal(app(during)!.state!.waiting?.reason, "ContainerCreating", `not running during postStart: ${JSON.stringify(app(during)?.state)}`);
    assert.equal(app(during)!.ready, false);
    const up = await until("running", () => (app(report("poststart"))?.state?.running ? report("poststart") : undefined));
    assert.deepEqual(log(), ["started", "poststart"], "reported running only after the hook");
    assert.equal(app(up)!.restartCount, 0);
    await markDeleted(pod, 2);
    await until("the Pod object is deleted", async () => !(await pods.get("default", "poststart")));
  });

  test("a failing postStart hook kills the container (FailedPostStartHook) and it is restarted", async () => {
    const { pod, log } = await putPod("poststart-fails", { postStart: { exec: { command: ["sh", "-c", "exit 1"] } } }, 2);
    await until("killed and restarted", () => (app(report("poststart-fails"))?.restartCount ?? 0) >= 1);
    assert.ok(log().filter((l) => l === "term").length >= 1, "the container was stopped with SIGTERM");
    const failed = (await eventsOf(pod)).find((e) => e.reason === "FailedPostStartHook");
    assert.ok(failed, "a FailedPostStartHook event");
    assert.equal(failed.type, "Warning");
    assert.match(failed.message, /^Exec lifecycle hook \(\[sh -c exit 1\]\) for Container "app" in Pod "poststart-fails_default\(.*\)" failed - error: command 'sh -c exit 1' exited with 1: /);
    await markDeleted(pod, 0);
    await until("the Pod object is deleted", async () => !(await pods.get("default", "poststart-fails")));
  });
});
