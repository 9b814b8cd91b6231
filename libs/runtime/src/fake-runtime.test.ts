// The fake runtime behaves as the node agent expects a runtime to: idempotent creation, scripted
// exits, OOM kills and start failures, Docker's event order, graceful and forced stops, image
// policies, logs and exec, and an unreachable runtime.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeRuntime, type FakeRuntimeOptions } from "./fake-runtime.js";
import {
  ContainerNotFoundError,
  ImageNotPresentError,
  ImagePullError,
  RuntimeUnavailableError,
  type ContainerSpec,
  type PodRef,
  type RuntimeEvent,
  type SandboxSpec,
} from "./runtime.js";

const NODE = "hollow-1";

function podRef(name: string, node = NODE): PodRef {
  return { namespace: "default", name, uid: `uid-${name}`, node };
}

function sandboxSpec(pod: PodRef): SandboxSpec {
  return { pod, hostname: pod.name, ports: [] };
}

function appSpec(pod: PodRef, sandboxId: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    pod,
    sandboxId,
    name: "app",
    image: "navarch/demo:1",
    command: [],
    args: [],
    env: {},
    workingDir: "",
    cpuLimitMillis: 0,
    memoryLimitBytes: 0,
    cpuRequestMillis: 0,
    mounts: [],
    attempt: 0,
    tty: false,
    ...extra,
  };
}

/** Collects the events of one stream until `stop()`. */
function record(rt: FakeRuntime, node?: string): { events: RuntimeEvent[]; stop: () => Promise<void>; next: (pred: (e: RuntimeEvent) => boolean) => Promise<RuntimeEvent> } {
  const abort = new AbortController();
  const events: RuntimeEvent[] = [];
  const waiters: { pred: (e: RuntimeEvent) => boolean; resolve: (e: RuntimeEvent) => void }[] = [];
  const it = rt.events(abort.signal, node)[Symbol.asyncIterator]();
  const loop = (async () => {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      events.push(r.value);
      for (const w of [...waiters]) {
        if (w.pred(r.value)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(r.value);
        }
      }
    }
  })();
  return {
    events,
    stop: async () => {
      abort.abort();
      await loop;
    },
    next: (pred) => {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

async function runningPod(rt: FakeRuntime, name: string, extra: Partial<ContainerSpec> = {}) {
  const pod = podRef(name);
  const sandbox = await rt.runSandbox(sandboxSpec(pod));
  const id = await rt.createContainer(appSpec(pod, sandbox.id, extra));
  await rt.startContainer(id);
  return { pod, sandbox, id };
}

/** Lets the event stream's generator run. */
const tick = () => new Promise((r) => setImmediate(r));

describe("FakeRuntime", () => {
  test("a sandbox gets a unique IP and is idempotent per pod uid; a dead one is replaced", async () => {
    const rt = new FakeRuntime();
    const a = await rt.runSandbox(sandboxSpec(podRef("a")));
    const b = await rt.runSandbox(sandboxSpec(podRef("b")));
    assert.match(a.ip, /^10\.\d+\.\d+\.\d+$/);
    assert.notEqual(a.ip, b.ip);
    assert.equal(a.state, "ready");
    const again = await rt.runSandbox(sandboxSpec(podRef("a")));
    assert.equal(again.id, a.id);
    await rt.stopSandbox(a.id);
    const replaced = await rt.runSandbox(sandboxSpec(podRef("a")));
    assert.notEqual(replaced.id, a.id);
    assert.equal(await rt.inspectContainer(a.id), undefined);
    assert.deepEqual((await rt.listSandboxes(NODE)).map((s) => s.id).sort(), [b.id, replaced.id].sort());
  });

  test("a started container runs at once and is listed with its pod", async () => {
    const rt = new FakeRuntime();
    const { pod, id, sandbox } = await runningPod(rt, "web");
    const status = await rt.inspectContainer(id);
    assert.equal(status?.state, "running");
    assert.equal(status?.role, "app");
    assert.deepEqual(status?.pod, pod);
    assert.ok(status?.startedAt instanceof Date);
    assert.match(status!.imageID, /^sha256:[0-9a-f]{64}$/);
    const listed = await rt.listContainers(NODE);
    assert.deepEqual(listed.map((c) => c.id).sort(), [id, sandbox.id].sort());
    assert.deepEqual(await rt.listContainers("another-node"), []);
  });

  test("a container with its own network needs no sandbox and reports its pod IP; the fake network offers no fixed IPs", async () => {
    const rt = new FakeRuntime();
    const pod = podRef("solo");
    const network = { ip: "10.244.16.2", hostname: "solo", ports: [] };
    const id = await rt.createContainer(appSpec(pod, "", { network }));
    await rt.startContainer(id);
    const status = await rt.inspectContainer(id);
    assert.equal(status?.state, "running");
    assert.equal(status?.podIP, "10.244.16.2");
    assert.deepEqual(await rt.listSandboxes(NODE), []);
    assert.equal(await rt.podNetwork(), undefined, "hollow nodes claim no pod CIDR");
    const inSandbox = await runningPod(rt, "web");
    assert.equal((await rt.inspectContainer(inSandbox.id))?.podIP, undefined);
  });

  test("creation by name is idempotent: a stopped duplicate is replaced, a running one refused", async () => {
    const rt = new FakeRuntime();
    const { pod, sandbox, id } = await runningPod(rt, "dup");
    await assert.rejects(rt.createContainer(appSpec(pod, sandbox.id)), /already has this name/);
    await rt.stopContainer(id, 1);
    const second = await rt.createContainer(appSpec(pod, sandbox.id));
    assert.notEqual(second, id);
    assert.equal(await rt.inspectContainer(id), undefined);
    await assert.rejects(rt.createContainer(appSpec(pod, "no-such-sandbox")), ContainerNotFoundError);
  });

  test("events come in Docker's order with the pod and container name, filtered by node", async () => {
    const rt = new FakeRuntime({ script: () => ({ exitAfterMs: 0, exitCode: 3 }) });
    const mine = record(rt, NODE);
    const others = record(rt, "another-node");
    await tick();
    const { id, sandbox } = await runningPod(rt, "ev");
    const die = await mine.next((e) => e.type === "die" && e.containerId === id);
    assert.equal(die.exitCode, 3);
    assert.equal(die.containerName, "app");
    assert.equal(die.pod?.uid, "uid-ev");
    await rt.removeContainer(id);
    await mine.next((e) => e.type === "destroy" && e.containerId === id);
    assert.deepEqual(
      mine.events.map((e) => `${e.type}:${e.containerId === sandbox.id ? "sandbox" : "app"}`),
      ["create:sandbox", "start:sandbox", "create:app", "start:app", "die:app", "destroy:app"],
    );
    await mine.stop();
    await others.stop();
    assert.deepEqual(others.events, []);
  });

  test("scripted crash: exits with its code after the given time", async () => {
    const rt = new FakeRuntime({ script: (spec) => (spec.name === "crash" ? { exitAfterMs: 20, exitCode: 1 } : undefined) });
    const events = record(rt);
    await tick();
    const { id } = await runningPod(rt, "c", { name: "crash" });
    assert.equal((await rt.inspectContainer(id))?.state, "running");
    await events.next((e) => e.type === "die" && e.containerId === id);
    const s = await rt.inspectContainer(id);
    assert.equal(s?.state, "exited");
    assert.equal(s?.exitCode, 1);
    assert.equal(s?.oomKilled, false);
    assert.ok(s!.finishedAt!.getTime() >= s!.startedAt!.getTime());
    await events.stop();
  });

  test("scripted OOM: an oom event, then die with 137, and oomKilled", async () => {
    const rt = new FakeRuntime({ script: () => ({ oom: true, exitAfterMs: 5 }) });
    const events = record(rt);
    await tick();
    const { id } = await runningPod(rt, "hog");
    await events.next((e) => e.type === "die" && e.containerId === id);
    const types = events.events.filter((e) => e.containerId === id).map((e) => e.type);
    assert.deepEqual(types, ["create", "start", "oom", "die"]);
    const s = await rt.inspectContainer(id);
    assert.equal(s?.exitCode, 137);
    assert.equal(s?.oomKilled, true);
    await events.stop();
  });

  test("crash and OOM on demand", async () => {
    const rt = new FakeRuntime();
    const a = await runningPod(rt, "a");
    const b = await runningPod(rt, "b");
    assert.equal(rt.running, 2);
    rt.exit(a.id, 2);
    rt.oomKill(b.id);
    assert.deepEqual(
      [await rt.inspectContainer(a.id), await rt.inspectContainer(b.id)].map((s) => [s?.state, s?.exitCode, s?.oomKilled]),
      [
        ["exited", 2, false],
        ["exited", 137, true],
      ],
    );
    assert.equal(rt.running, 0);
  });

  test("a failed start leaves the container created with its error and exit code 128", async () => {
    const rt = new FakeRuntime({ script: () => ({ startError: "exec format error" }) });
    const pod = podRef("bad");
    const sandbox = await rt.runSandbox(sandboxSpec(pod));
    const id = await rt.createContainer(appSpec(pod, sandbox.id));
    await assert.rejects(rt.startContainer(id), /exec format error/);
    const s = await rt.inspectContainer(id);
    assert.equal(s?.state, "created");
    assert.equal(s?.error, "exec format error");
    assert.equal(s?.exitCode, 128);
  });

  test("stop: SIGTERM ends it at once (143); one that ignores SIGTERM is killed after the grace (137)", async () => {
    const rt = new FakeRuntime({ script: (spec) => (spec.name === "stubborn" ? { ignoresSigterm: true } : undefined) });
    const polite = await runningPod(rt, "polite");
    await rt.stopContainer(polite.id, 30);
    assert.equal((await rt.inspectContainer(polite.id))?.exitCode, 143);

    const stubborn = await runningPod(rt, "stubborn", { name: "stubborn" });
    const t0 = Date.now();
    await rt.stopContainer(stubborn.id, 0.1);
    assert.ok(Date.now() - t0 >= 90, "the stop waited for the grace period");
    const s = await rt.inspectContainer(stubborn.id);
    assert.equal(s?.state, "exited");
    assert.equal(s?.exitCode, 137);
    // Stopping a stopped or missing container is fine, as with Docker.
    await rt.stopContainer(stubborn.id, 1);
    await rt.stopContainer("missing", 1);
    await rt.removeContainer("missing");
  });

  test("images: all present by default; with a list, policies and pulls behave as with Docker", async () => {
    const all = new FakeRuntime();
    assert.match(await all.ensureImage("anything:1", "Never"), /^sha256:/);

    const opts: FakeRuntimeOptions = { images: ["navarch/demo:1"], pullable: (i) => i.startsWith("registry.local/") };
    const rt = new FakeRuntime(opts);
    assert.equal(await rt.ensureImage("navarch/demo:1", "IfNotPresent"), await all.ensureImage("navarch/demo:1", "Never"));
    await assert.rejects(rt.ensureImage("other:1", "Never"), ImageNotPresentError);
    await assert.rejects(rt.ensureImage("other:1", "IfNotPresent"), ImagePullError);
    const phases: string[] = [];
    await rt.ensureImage("registry.local/app:2", "IfNotPresent", (phase) => phases.push(phase));
    assert.deepEqual(phases, ["pulling", "pulled"]);
    // Pulled once, it is present from then on.
    await rt.ensureImage("registry.local/app:2", "Never");
    const pod = podRef("img");
    const sandbox = await rt.runSandbox(sandboxSpec(pod));
    await assert.rejects(rt.createContainer(appSpec(pod, sandbox.id, { image: "other:1" })), ImageNotPresentError);
  });

  test("logs: scripted output with tail and timestamps; follow ends when the container stops", async () => {
    const rt = new FakeRuntime({ script: () => ({ logs: "one\ntwo\nthree\n" }) });
    const { id } = await runningPod(rt, "logs");
    const read = async (opts: Parameters<FakeRuntime["logs"]>[1], signal = new AbortController().signal) => {
      let out = "";
      for await (const chunk of rt.logs(id, opts, signal)) out += chunk.toString();
      return out;
    };
    assert.equal(await read({ follow: false }), "one\ntwo\nthree\n");
    assert.equal(await read({ follow: false, tail: 2 }), "two\nthree\n");
    assert.match(await read({ follow: false, tail: 1, timestamps: true }), /^\d{4}-\d\d-\d\dT[\d:.]+Z three\n$/);
    const following = read({ follow: true });
    let done = false;
    void following.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, "a followed log stays open while the container runs");
    await rt.stopContainer(id, 1);
    assert.equal(await following, "one\ntwo\nthree\n");
    await assert.rejects(rt.logs("missing", { follow: false }, new AbortController().signal)[Symbol.asyncIterator]().next(), ContainerNotFoundError);
  });

  test("exec answers from the script, and fails on a stopped container", async () => {
    const rt = new FakeRuntime({ script: () => ({ exec: (cmd) => ({ exitCode: cmd[0] === "fail" ? 1 : 0, output: cmd.join(" ") }) }) });
    const { id } = await runningPod(rt, "exec");
    assert.deepEqual(await rt.exec(id, ["echo", "hi"], 1_000), { exitCode: 0, output: "echo hi" });
    assert.deepEqual(await rt.exec(id, ["fail"], 1_000), { exitCode: 1, output: "fail" });
    await rt.stopContainer(id, 0);
    await assert.rejects(rt.exec(id, ["echo"], 1_000), /not running/);
    await assert.rejects(rt.exec("missing", ["echo"], 1_000), ContainerNotFoundError);
  });

  test("HTTP and TCP probes are answered from the script (default: success), refused once stopped", async () => {
    const rt = new FakeRuntime({ script: () => ({ probe: (p) => ({ ok: p.path !== "/down", output: `${p.type}:${p.port}${p.path ?? ""}` }) }) });
    const { id } = await runningPod(rt, "probed");
    assert.deepEqual(await rt.simulatedNetworkProbe(id, { type: "http", port: 8080, path: "/ready" }), { ok: true, output: "http:8080/ready" });
    assert.deepEqual(await rt.simulatedNetworkProbe(id, { type: "http", port: 8080, path: "/down" }), { ok: false, output: "http:8080/down" });
    const plain = new FakeRuntime();
    const other = await runningPod(plain, "plain");
    assert.deepEqual(await plain.simulatedNetworkProbe(other.id, { type: "tcp", port: 80 }), { ok: true, output: "" });
    await rt.stopContainer(id, 0);
    assert.equal((await rt.simulatedNetworkProbe(id, { type: "tcp", port: 8080 })).ok, false);
  });

  test("unavailable: calls throw RuntimeUnavailableError and event streams end; containers survive", async () => {
    const rt = new FakeRuntime();
    const { id } = await runningPod(rt, "survivor");
    const events = record(rt);
    await tick();
    rt.setAvailable(false);
    await events.stop();
    await assert.rejects(rt.info(), RuntimeUnavailableError);
    await assert.rejects(rt.listContainers(NODE), RuntimeUnavailableError);
    rt.setAvailable(true);
    assert.equal((await rt.inspectContainer(id))?.state, "running");
  });

  test("removing a running container kills it first (die, then destroy)", async () => {
    const rt = new FakeRuntime();
    const events = record(rt);
    await tick();
    const { id } = await runningPod(rt, "rm");
    await rt.removeContainer(id);
    await events.next((e) => e.type === "destroy" && e.containerId === id);
    assert.deepEqual(
      events.events.filter((e) => e.containerId === id).map((e) => [e.type, e.exitCode]),
      [
        ["create", undefined],
        ["start", undefined],
        ["die", 137],
        ["destroy", undefined],
      ],
    );
    assert.equal(rt.size, 1, "only the sandbox is left");
    await events.stop();
  });
});
