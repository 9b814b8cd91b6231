// A pod's only container on the pod network itself (no sandbox), against the real Docker engine:
// the network made with a configured subnet, a fixed IP that the container's replacement keeps,
// hostname, DNS settings and a hostPort on 127.0.0.1 - and nothing left behind.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DockerRuntime } from "./docker.js";
import { nodeCidrs, podAddresses } from "./ipv4.js";
import { LABELS, type ContainerSpec, type PodRef } from "./runtime.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const dockerUp = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const skip = dockerUp ? false : "Docker daemon not reachable (`docker info` failed): start dockerd to run these tests";

const run = randomBytes(4).toString("hex");
const node = `test-own-${run}`;
const network = `navarch-test-own-${run}`;
// 10.190.0.0/20 .. 10.199.240.0/20: clear of the e2e clusters' 10.200+ and Docker's own pools.
const subnet = `10.${190 + Math.floor(Math.random() * 10)}.${16 * Math.floor(Math.random() * 16)}.0/20`;
let rt: DockerRuntime;

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

function spec(p: PodRef, ip: string, hostPort: number, attempt: number): ContainerSpec {
  return {
    pod: p,
    sandboxId: "",
    network: {
      ip,
      hostname: p.name,
      ports: [{ containerPort: 8080, hostPort, protocol: "TCP", hostIP: "" }],
      dns: { servers: ["10.96.0.10"], searches: ["own.svc.cluster.local"], options: ["ndots:5"] },
    },
    name: "web",
    image: "navarch/demo:1",
    command: [],
    args: [],
    env: { POD_NAME: p.name },
    workingDir: "",
    cpuLimitMillis: 0,
    memoryLimitBytes: 0,
    cpuRequestMillis: 0,
    mounts: [],
    attempt,
    tty: false,
  };
}

async function get(url: string, timeoutMs = 15_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return await r.text();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function containersOf(n: string): string[] {
  const out = spawnSync("docker", ["ps", "-aq", "--filter", `label=${LABELS.node}=${n}`], { encoding: "utf8" }).stdout.trim();
  return out ? out.split("\n") : [];
}

describe("DockerRuntime: a container with its own network (real Docker)", { skip }, () => {
  before(() => {
    const b = spawnSync("bash", [join(repo, "scripts/build-images.sh")], { encoding: "utf8" });
    assert.equal(b.status, 0, `build-images.sh failed:\n${b.stdout}${b.stderr}`);
    rt = new DockerRuntime({ network, podSubnet: subnet, cluster: `own-${node}` });
  });

  after(() => {
    const left = containersOf(node);
    if (left.length > 0) spawnSync("docker", ["rm", "-f", ...left]);
    spawnSync("docker", ["network", "rm", network], { stdio: "ignore" });
  });

  test("the network is made with the subnet and a range for Docker; the fixed IP survives a recreate; hostPort on 127.0.0.1", async () => {
    const net = await rt.podNetwork();
    assert.ok(net);
    assert.equal(net.subnet, subnet);
    assert.ok(net.dynamicRange, "a configured subnet shows its dynamic range: fixed IPs are possible");
    const cidr = nodeCidrs(net.subnet, net.dynamicRange)[0]!;
    const ip = podAddresses(cidr)[3]!;

    const p: PodRef = { namespace: "own", name: "solo", uid: `${randomBytes(8).toString("hex")}-uid`, node };
    const hostPort = await freePort();
    const first = await rt.createContainer(spec(p, ip, hostPort, 0));
    await rt.startContainer(first);
    assert.equal(await get(`http://127.0.0.1:${hostPort}/`), "demo v1 pod=solo\n");
    const inspected = await rt.docker.getContainer(first).inspect();
    assert.equal(inspected.NetworkSettings.Networks[network]?.IPAddress, ip);
    assert.equal(inspected.Config.Hostname, "solo");
    assert.deepEqual(inspected.HostConfig.Dns, ["10.96.0.10"]);
    assert.deepEqual(inspected.HostConfig.PortBindings, { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(hostPort) }] });
    const listed = await rt.listContainers(node);
    assert.deepEqual(
      listed.map((c) => [c.role, c.podIP]),
      [["app", ip]],
      "one container, no sandbox; the IP comes back from the runtime's list",
    );
    assert.deepEqual(await rt.listSandboxes(node), []);
    const inUse = (await rt.podNetwork())?.inUse ?? [];
    assert.ok(inUse.some((u) => u.ip === ip && u.node === node), `the network reports ${ip} in use by ${node}: ${JSON.stringify(inUse)}`);
    // Another cluster's node of the same name does not count the address as its own (a pod CIDR
    // with it is taken, node/pod-cidr.ts).
    const otherInUse = (await new DockerRuntime({ network, podSubnet: subnet, cluster: `own-${node}-other` }).podNetwork())?.inUse ?? [];
    assert.ok(otherInUse.some((u) => u.ip === ip && u.node === ""), `another cluster sees ${ip} as someone else's: ${JSON.stringify(otherInUse)}`);
    const resolv = await rt.exec(first, ["cat", "/etc/resolv.conf"], 5_000);
    // On a user-defined network Docker's embedded DNS (127.0.0.11) answers and forwards to the
    // configured servers (HostConfig.Dns above), as for a sandbox.
    assert.match(resolv.output, /search own\.svc\.cluster\.local/);

    // A restart: the old container stops (and stays, for its logs), its replacement gets the same IP and port.
    await rt.stopContainer(first, 1);
    assert.equal((await rt.inspectContainer(first))?.podIP, ip, "a stopped container still names its IP");
    const second = await rt.createContainer(spec(p, ip, hostPort, 1));
    await rt.startContainer(second);
    const again = await rt.docker.getContainer(second).inspect();
    assert.equal(again.NetworkSettings.Networks[network]?.IPAddress, ip, "the replacement has the pod's IP");
    assert.equal(await get(`http://127.0.0.1:${hostPort}/`), "demo v1 pod=solo\n");
    const fromOther = await rt.exec(second, ["wget", "-qO-", `http://${ip}:8080/`], 5_000);
    assert.equal(fromOther.output, "demo v1 pod=solo\n");

    for (const id of [first, second]) await rt.removeContainer(id);
    assert.deepEqual(containersOf(node), [], "nothing left behind");
  });

  test("a network that exists without a configured subnet says fixed IPs are impossible", async () => {
    const plain = `${network}-plain`;
    try {
      const rtPlain = new DockerRuntime({ network: plain, cluster: `own-${node}` });
      const net = await rtPlain.podNetwork();
      assert.ok(net?.subnet);
      assert.equal(net.dynamicRange, undefined);
      // The subnet option does not change a network that exists already.
      const later = await new DockerRuntime({ network: plain, podSubnet: subnet }).podNetwork();
      assert.equal(later?.dynamicRange, undefined);
    } finally {
      spawnSync("docker", ["network", "rm", plain], { stdio: "ignore" });
    }
  });
});
