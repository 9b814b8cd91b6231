// DockerRuntime against the real Docker engine of this machine (never mocked). Images come from
// scripts/build-images.sh; nothing is pulled from the internet: the only registry used is a
// docker-registry started here on 127.0.0.1. Every container carries this run's node names and
// `after` removes all of them, and the run's network, also when a test failed.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ndjson } from "./docker-streams.js";
import { DockerRuntime } from "./docker.js";
import {
  ContainerNotFoundError,
  ImageNotPresentError,
  RuntimeUnavailableError,
  ImagePullError,
  LABELS,
  type ContainerSpec,
  type ContainerStatus,
  type PodRef,
  type RuntimeEvent,
  type Sandbox,
} from "./runtime.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const dockerUp = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const skip = dockerUp ? false : "Docker daemon not reachable (`docker info` failed): start dockerd to run these tests";

const run = randomBytes(4).toString("hex");
const node = `test-${run}`;
const otherNode = `test-${run}-other`;
const network = `navarch-test-${run}`;
/** This run's cluster id; a second one stands for another cluster on the same engine. */
const cluster = `test-cluster-${run}`;
const otherCluster = `test-cluster-${run}-other`;
let rt: DockerRuntime;

function pod(name: string, n = node): PodRef {
  return { namespace: "rt-test", name, uid: `${randomBytes(8).toString("hex")}-uid`, node: n };
}

function app(p: PodRef, sandbox: Sandbox, name: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    pod: p,
    sandboxId: sandbox.id,
    name,
    image: "navarch/busybox:1",
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
    ...over,
  };
}

async function sandboxFor(p: PodRef, ports: { containerPort: number; hostPort: number }[] = []): Promise<Sandbox> {
  return rt.runSandbox({
    pod: p,
    hostname: p.name,
    ports: ports.map((x) => ({ ...x, protocol: "TCP" as const, hostIP: "" })),
  });
}

async function runApp(spec: ContainerSpec): Promise<string> {
  const id = await rt.createContainer(spec);
  await rt.startContainer(id);
  return id;
}

async function waitFor<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(id: string): Promise<ContainerStatus> {
  return waitFor(`container ${id.slice(0, 12)} to exit`, async () => {
    const s = await rt.inspectContainer(id);
    return s?.state === "exited" ? s : undefined;
  });
}

/** The IPv4 address on eth0 as seen from inside a container. */
async function ipInside(id: string): Promise<string> {
  const r = await rt.exec(id, ["sh", "-c", "ip -4 -o addr show eth0"], 5000);
  assert.equal(r.exitCode, 0, r.output);
  return /inet (\S+)\//.exec(r.output)?.[1] ?? "";
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

async function text(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of it) parts.push(b);
  return Buffer.concat(parts).toString();
}

describe("DockerRuntime (real Docker)", { skip }, () => {
  before(() => {
    const b = spawnSync("bash", [join(repo, "scripts/build-images.sh")], { encoding: "utf8" });
    assert.equal(b.status, 0, `build-images.sh failed:\n${b.stdout}${b.stderr}`);
    rt = new DockerRuntime({ network, cluster });
  });

  after(async () => {
    if (!rt) return;
    for (const n of [node, otherNode]) {
      for (const c of await rt.listContainers(n).catch(() => [])) await rt.removeContainer(c.id).catch(() => {});
    }
    const left = spawnSync("docker", ["ps", "-aq", "--filter", `label=${LABELS.node}=${node}`], { encoding: "utf8" }).stdout.trim();
    if (left) spawnSync("docker", ["rm", "-f", ...left.split("\n")]);
    spawnSync("docker", ["network", "rm", network], { stdio: "ignore" });
  });

  test("info reports the engine", async () => {
    const info = await rt.info();
    assert.equal(info.name, "docker");
    assert.equal(info.os, "linux");
    assert.ok(["amd64", "arm64"].includes(info.arch), info.arch);
    assert.ok(info.cpus > 0 && info.memoryBytes > 0 && info.apiVersion && info.hostname);
  });

  test("a two-container pod: localhost between containers, one IP and hostname, stable across an app restart", async () => {
    const p = pod("two");
    const sb = await sandboxFor(p);
    assert.match(sb.ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(sb.state, "ready");
    const web = await runApp(app(p, sb, "web", { image: "navarch/demo:1", env: { POD_NAME: p.name } }));
    const spec = app(p, sb, "shell", { command: ["sleep", "3600"] });
    const shell = await runApp(spec);

    const answer = await waitFor("demo to answer on localhost", async () => {
      const r = await rt.exec(shell, ["wget", "-qO-", "http://127.0.0.1:8080/"], 5000);
      return r.exitCode === 0 ? r.output : undefined;
    });
    assert.equal(answer, "demo v1 pod=two\n");
    assert.equal(await ipInside(web), sb.ip);
    assert.equal(await ipInside(shell), sb.ip);
    assert.equal((await rt.exec(shell, ["hostname"], 5000)).output.trim(), "two");

    // A restart is a new container (next attempt) in the same sandbox: same pod IP.
    await rt.removeContainer(shell);
    const shell2 = await runApp({ ...spec, attempt: 1 });
    assert.notEqual(shell2, shell);
    assert.equal(await ipInside(shell2), sb.ip);
    assert.equal((await rt.exec(shell2, ["wget", "-qO-", "http://127.0.0.1:8080/"], 5000)).output, "demo v1 pod=two\n");
  });

  test("runSandbox is idempotent for a pod and replaces a dead sandbox of it", async () => {
    const p = pod("idem");
    const a = await sandboxFor(p);
    const b = await sandboxFor(p);
    assert.equal(b.id, a.id);
    await rt.stopSandbox(a.id);
    assert.equal((await rt.listSandboxes(node)).find((s) => s.id === a.id)?.state, "notready");
    const c = await sandboxFor(p);
    assert.notEqual(c.id, a.id);
    assert.equal(c.state, "ready");
    assert.equal(await rt.inspectContainer(a.id), undefined);
  });

  test("a hostPort is published on 127.0.0.1 and answers from the host", async () => {
    const p = pod("ported");
    const hostPort = await freePort();
    const sb = await sandboxFor(p, [{ containerPort: 8080, hostPort }]);
    await runApp(app(p, sb, "web", { image: "navarch/demo:2" }));
    const body = await waitFor("the host port to answer", async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${hostPort}/`);
        return r.ok ? await r.text() : undefined;
      } catch {
        return undefined;
      }
    });
    // Without POD_NAME the demo names its hostname, which is the pod's.
    assert.equal(body, "demo v2 pod=ported\n");
  });

  test("over its memory limit a container is OOMKilled with exit code 137", async () => {
    const p = pod("oom");
    const sb = await sandboxFor(p);
    const id = await runApp(app(p, sb, "hog", { image: "navarch/memhog:1", memoryLimitBytes: 32 << 20, cpuLimitMillis: 500, cpuRequestMillis: 100 }));
    const s = await exited(id);
    assert.equal(s.oomKilled, true);
    assert.equal(s.exitCode, 137);
    assert.ok(s.finishedAt && s.startedAt && s.finishedAt >= s.startedAt);
    const inspect = await rt.docker.getContainer(id).inspect();
    assert.equal(inspect.HostConfig.Memory, 32 << 20);
    assert.equal(inspect.HostConfig.NanoCpus, 500_000_000);
    assert.equal(inspect.HostConfig.CpuShares, 102);
  });

  test("an exit code is reported; events show start and die; logs keep the printed lines and tail works", async () => {
    const p = pod("exit");
    const sb = await sandboxFor(p);
    const ac = new AbortController();
    const seen: RuntimeEvent[] = [];
    const consumer = (async () => {
      for await (const e of rt.events(ac.signal, node)) seen.push(e);
    })();
    // The subscription is live once the daemon answered; a created sandbox proves it.
    const probe = await sandboxFor(pod("events-probe"));
    await waitFor("the event stream to deliver", async () => (seen.some((e) => e.containerId === probe.id) ? true : undefined));

    const id = await runApp(app(p, sb, "exit", { image: "navarch/exit:1", args: ["3"], env: { SLEEP: "0.2" } }));
    const s = await exited(id);
    assert.equal(s.exitCode, 3);
    assert.equal(s.oomKilled, false);

    const mine = await waitFor("start and die events", async () => {
      const m = seen.filter((e) => e.containerId === id);
      return m.some((e) => e.type === "die") ? m : undefined;
    });
    assert.deepEqual(
      mine.map((e) => e.type),
      ["create", "start", "die"],
    );
    const die = mine[2]!;
    assert.equal(die.exitCode, 3);
    assert.equal(die.containerName, "exit");
    assert.deepEqual(die.pod, p);
    ac.abort();
    await consumer; // ends quietly on abort

    const logs = await text(rt.logs(id, { follow: false }, new AbortController().signal));
    assert.equal(logs, "exit: will exit with code 3 after 0.2s\nexit: exiting with code 3\n");
    const last = await text(rt.logs(id, { follow: false, tail: 1 }, new AbortController().signal));
    assert.equal(last, "exit: exiting with code 3\n");
    const stamped = await text(rt.logs(id, { follow: false, tail: 1, timestamps: true }, new AbortController().signal));
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\S+Z exit: exiting with code 3\n$/);
  });

  test("the event stream ends when the daemon connection drops", async () => {
    // A proxy in front of the Docker socket stands in for a daemon restart, which would disturb
    // everyone else using this engine.
    const dir = mkdtempSync(join(tmpdir(), "navarch-docker-proxy-"));
    const sock = join(dir, "docker.sock");
    const conns = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = createConnection("/var/run/docker.sock");
      conns.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const close = () => (client.destroy(), upstream.destroy());
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    await new Promise<void>((r) => proxy.listen(sock, r));
    try {
      const viaProxy = new DockerRuntime({ socketPath: sock, network, cluster });
      const ac = new AbortController();
      let ended = false;
      const consumer = (async () => {
        for await (const _ of viaProxy.events(ac.signal, node)) void _;
        ended = true;
      })();
      await waitFor("the subscription", async () => (conns.size > 0 ? true : undefined));
      for (const c of conns) c.destroy();
      await consumer;
      assert.equal(ended, true);
      assert.equal(ac.signal.aborted, false);
    } finally {
      proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an unreachable daemon is a RuntimeUnavailableError", async () => {
    const nowhere = new DockerRuntime({ socketPath: join(tmpdir(), `no-docker-${run}.sock`), cluster });
    await assert.rejects(nowhere.info(), RuntimeUnavailableError);
    await assert.rejects(nowhere.listContainers(node), RuntimeUnavailableError);
    await assert.rejects(
      (async () => {
        for await (const _ of nowhere.events(new AbortController().signal)) void _;
      })(),
      RuntimeUnavailableError,
    );
  });

  test("following logs streams new lines and stops when aborted", async () => {
    const p = pod("follow");
    const sb = await sandboxFor(p);
    const id = await runApp(app(p, sb, "ticker", { command: ["sh", "-c", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.1; done"] }));
    const ac = new AbortController();
    const lines: string[] = [];
    for await (const b of rt.logs(id, { follow: true }, ac.signal)) {
      lines.push(...b.toString().split("\n").filter(Boolean));
      if (lines.length >= 3) ac.abort();
    }
    assert.deepEqual(lines.slice(0, 3), ["tick 0", "tick 1", "tick 2"]);
  });

  test("stop honours SIGTERM promptly, and tolerates stopped and missing containers", async () => {
    const p = pod("stop");
    const sb = await sandboxFor(p);
    const id = await runApp(app(p, sb, "web", { image: "navarch/demo:1" }));
    await waitFor("demo to log its start", async () =>
      (await text(rt.logs(id, { follow: false }, new AbortController().signal))).includes("listening") ? true : undefined,
    );
    const t0 = Date.now();
    await rt.stopContainer(id, 30);
    const took = Date.now() - t0;
    assert.ok(took < 3000, `stop took ${took} ms with a 30 s grace: SIGTERM was not honoured`);
    const s = await rt.inspectContainer(id);
    assert.equal(s?.state, "exited");
    assert.equal(s?.exitCode, 0);
    assert.match(await text(rt.logs(id, { follow: false, tail: 1 }, new AbortController().signal)), /SIGTERM/);

    await rt.stopContainer(id, 1); // already stopped
    await rt.removeContainer(id);
    await rt.removeContainer(id); // already gone
    await rt.stopContainer(id, 1);
    await rt.stopSandbox(sb.id);
    await rt.removeSandbox(sb.id);
    await rt.removeSandbox(sb.id);
    await assert.rejects(rt.startContainer(id), ContainerNotFoundError);
  });

  test("a container that cannot start stays created with the reason, for the caller to report and remove", async () => {
    const p = pod("badcmd");
    const sb = await sandboxFor(p);
    const id = await rt.createContainer(app(p, sb, "bad", { command: ["/no/such/binary"] }));
    await assert.rejects(rt.startContainer(id), /no such file|not found/i);
    const s = await rt.inspectContainer(id);
    assert.ok(s, "the container stays");
    assert.match(s.error, /no such file|not found/i);
    await rt.removeContainer(id);
  });

  test("exec returns exit code and output; a slow exec times out", async () => {
    const p = pod("exec");
    const sb = await sandboxFor(p);
    const id = await runApp(app(p, sb, "sh", { command: ["sleep", "3600"] }));
    const r = await rt.exec(id, ["sh", "-c", "echo out; echo err >&2; exit 7"], 5000);
    assert.equal(r.exitCode, 7);
    // stdout and stderr are separate pipes: both arrive, their order between them is not fixed.
    assert.deepEqual(r.output.split("\n").sort(), ["", "err", "out"]);
    await assert.rejects(rt.exec(id, ["sleep", "5"], 300), /timed out/);
  });

  test("listContainers and listSandboxes find exactly this node's containers with their labels", async () => {
    const p = pod("listed");
    const sb = await sandboxFor(p);
    const id = await runApp(app(p, sb, "main", { command: ["sleep", "3600"], attempt: 2 }));
    const foreign = pod("foreign", otherNode);
    const fsb = await sandboxFor(foreign);

    const mine = await rt.listContainers(node);
    assert.ok(mine.every((c) => c.pod.node === node));
    assert.ok(!mine.some((c) => c.id === fsb.id));
    const c = mine.find((x) => x.id === id);
    assert.ok(c);
    assert.deepEqual(c.pod, p);
    assert.equal(c.name, "main");
    assert.equal(c.role, "app");
    assert.equal(c.attempt, 2);
    assert.equal(c.image, "navarch/busybox:1");
    assert.match(c.imageID, /^sha256:/);
    assert.equal(c.state, "running");
    assert.ok(c.startedAt);
    const s = mine.find((x) => x.id === sb.id);
    assert.equal(s?.role, "sandbox");

    // Listing again (inspect results cached) gives the same answer.
    assert.deepEqual(
      (await rt.listContainers(node)).find((x) => x.id === id),
      c,
    );
    const sandboxes = await rt.listSandboxes(node);
    const listed = sandboxes.find((x) => x.id === sb.id);
    assert.deepEqual(listed?.pod, p);
    assert.equal(listed?.ip, sb.ip);
    assert.ok(!sandboxes.some((x) => x.id === fsb.id));
    assert.deepEqual(
      (await rt.listSandboxes(otherNode)).map((x) => x.id),
      [fsb.id],
    );
  });

  test("another cluster on the same engine, with a node of the same name, sees none of this cluster's containers and events", async () => {
    const other = new DockerRuntime({ network, cluster: otherCluster });
    const ac = new AbortController();
    const seenByOther: RuntimeEvent[] = [];
    const seenByMe: RuntimeEvent[] = [];
    const consume = (r: DockerRuntime, into: RuntimeEvent[]) =>
      (async () => {
        for await (const e of r.events(ac.signal, node)) into.push(e);
      })();
    const consumers = [consume(other, seenByOther), consume(rt, seenByMe)];
    try {
      // Each cluster runs a pod on its node "node": same node name, same engine, same network.
      const mineSb = await sandboxFor(pod("cluster-mine"));
      const theirsPod = pod("cluster-theirs");
      const theirsSb = await other.runSandbox({ pod: theirsPod, hostname: theirsPod.name, ports: [] });
      const theirsApp = await other.createContainer(app(theirsPod, theirsSb, "main", { command: ["sleep", "3600"] }));
      await other.startContainer(theirsApp);
      await waitFor("both streams to see their own sandbox", async () =>
        seenByMe.some((e) => e.containerId === mineSb.id) && seenByOther.some((e) => e.containerId === theirsApp) ? true : undefined,
      );

      const inspected = await rt.docker.getContainer(mineSb.id).inspect();
      assert.equal(inspected.Config.Labels[LABELS.cluster], cluster, "the sandbox carries its cluster's id");
      const mine = (await rt.listContainers(node)).map((c) => c.id);
      const theirs = (await other.listContainers(node)).map((c) => c.id);
      assert.ok(mine.includes(mineSb.id) && !mine.includes(theirsSb.id) && !mine.includes(theirsApp), "this cluster lists only its own");
      assert.deepEqual(theirs.sort(), [theirsSb.id, theirsApp].sort(), "the other cluster lists only its own");
      assert.ok(!(await rt.listSandboxes(node)).some((s) => s.id === theirsSb.id));
      assert.ok(!seenByMe.some((e) => e.containerId === theirsSb.id || e.containerId === theirsApp), "no event of the other cluster's containers");
      assert.ok(!seenByOther.some((e) => e.containerId === mineSb.id), "no event of this cluster's containers");

      // A container of a Navarch from before cluster ids (node label, no cluster label) is in
      // neither cluster's list, only in the list of unclustered ones.
      const legacy = spawnSync("docker", ["run", "-d", "--label", `${LABELS.node}=${node}`, "--label", `${LABELS.podUid}=legacy-${run}`, "--label", `${LABELS.role}=app`, "navarch/busybox:1", "sleep", "3600"], { encoding: "utf8" });
      assert.equal(legacy.status, 0, legacy.stderr);
      const legacyId = legacy.stdout.trim();
      assert.ok(!(await rt.listContainers(node)).some((c) => c.id === legacyId));
      assert.deepEqual((await rt.listUnclusteredContainers(node)).map((c) => c.id), [legacyId]);
      await rt.removeContainer(legacyId);
      await other.removeContainer(theirsApp);
      await other.removeSandbox(theirsSb.id);
    } finally {
      ac.abort();
      await Promise.all(consumers);
    }
  });

  test("a pod network made twice at the same moment (two agents starting together) is settled to one, the oldest", async () => {
    const twice = `${network}-twice`;
    // Without CheckDuplicate, as two racing creates both get through the daemon's check.
    const first = await rt.docker.createNetwork({ Name: twice, Driver: "bridge", CheckDuplicate: false });
    await new Promise((r) => setTimeout(r, 1_100)); // Created has second resolution in some engines
    await rt.docker.createNetwork({ Name: twice, Driver: "bridge", CheckDuplicate: false });
    try {
      const net = await new DockerRuntime({ network: twice, cluster }).podNetwork();
      assert.equal(net?.name, twice);
      const left = (await rt.docker.listNetworks({ filters: { name: [twice] } })).filter((n) => n.Name === twice);
      assert.deepEqual(left.map((n) => n.Id), [first.id], "the oldest stays, the other is removed");
    } finally {
      for (const n of await rt.docker.listNetworks({ filters: { name: [twice] } })) await rt.docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
  });

  test("a runtime without a cluster id makes and lists nothing", async () => {
    const none = new DockerRuntime({ network });
    await assert.rejects(none.listContainers(node), /no cluster id/);
    await assert.rejects(none.runSandbox({ pod: pod("no-cluster"), hostname: "x", ports: [] }), /no cluster id/);
    assert.throws(() => new DockerRuntime({ cluster: "a b" }), /not a cluster id/);
  });

  test("ensureImage: present images by every local policy; Never on a missing image; Always against a registry that does not answer", async () => {
    const id = await rt.ensureImage("navarch/demo:1", "IfNotPresent");
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await rt.ensureImage("navarch/demo:1", "Never"), id);
    await assert.rejects(rt.ensureImage(`navarch/absent-${run}:1`, "Never"), ImageNotPresentError);
    // Port 1 on loopback: nothing listens, the daemon's pull fails at once.
    const phases: string[] = [];
    await assert.rejects(
      rt.ensureImage("127.0.0.1:1/demo:1", "Always", (phase) => phases.push(phase)),
      (err: unknown) => err instanceof ImagePullError && /127\.0\.0\.1:1/.test(err.message),
    );
    assert.deepEqual(phases, ["pulling"]);
  });

  describe("with a local registry (docker-registry on 127.0.0.1)", () => {
    let registry: ChildProcess | undefined;
    let dir = "";
    let addr = "";
    let why = "";

    before(async () => {
      const bin = "/usr/bin/docker-registry";
      if (!existsSync(bin) && process.getuid?.() === 0) {
        spawnSync("apt-get", ["install", "-y", "docker-registry"], { stdio: "ignore", timeout: 90_000 });
      }
      if (!existsSync(bin)) {
        why = "docker-registry is not installed and could not be (apt-get install -y docker-registry)";
        return;
      }
      dir = mkdtempSync(join(tmpdir(), "navarch-registry-"));
      addr = `127.0.0.1:${await freePort()}`;
      writeFileSync(
        join(dir, "config.yml"),
        `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: ${addr}\n`,
      );
      registry = spawn(bin, ["serve", join(dir, "config.yml")], { stdio: "ignore" });
      await waitFor("the registry to answer", async () => {
        try {
          return (await fetch(`http://${addr}/v2/`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      });
    });

    after(() => {
      registry?.kill("SIGTERM");
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (addr) spawnSync("docker", ["rmi", `${addr}/demo:1`], { stdio: "ignore" });
    });

    test("push to it, drop the local tag, and IfNotPresent pulls the image back", async (t) => {
      if (why) return t.skip(why);
      const local = await rt.docker.getImage("navarch/demo:1").inspect();
      await rt.docker.getImage("navarch/demo:1").tag({ repo: `${addr}/demo`, tag: "1" });
      const push = (await rt.docker.getImage(`${addr}/demo:1`).push({ authconfig: {} } as never)) as unknown as NodeJS.ReadableStream;
      for await (const m of ndjson(push as AsyncIterable<Buffer>)) {
        assert.ok(!(m as { error?: string }).error, `push failed: ${JSON.stringify(m)}`);
      }
      await rt.docker.getImage(`${addr}/demo:1`).remove();
      await assert.rejects(rt.ensureImage(`${addr}/demo:1`, "Never"), ImageNotPresentError);

      const phases: string[] = [];
      const id = await rt.ensureImage(`${addr}/demo:1`, "IfNotPresent", (phase, detail) => phases.push(`${phase}: ${detail}`));
      assert.equal(id, local.Id);
      assert.equal(phases.length, 2);
      assert.match(phases[1]!, /^pulled: Successfully pulled image/);
      // Present now: Always still asks the registry (and succeeds), IfNotPresent does not.
      assert.equal(await rt.ensureImage(`${addr}/demo:1`, "Always"), local.Id);
    });

    test("Always on an image the registry does not have: ImagePullError with the daemon's reason", async (t) => {
      if (why) return t.skip(why);
      await assert.rejects(
        rt.ensureImage(`${addr}/nope-${run}:1`, "Always"),
        (err: unknown) => err instanceof ImagePullError && /manifest unknown|not found/i.test(err.message),
      );
    });
  });
});
