// serveLogs over the real DockerRuntime and a real nats-server: a navarch/exit:1 container's output
// read through the logs protocol, with the default container lookup (the runtime's labels) for
// the current and the previous attempt, and a follow that ends when the container exits.
// Images come from scripts/build-images.sh (no pulls). Skipped when Docker is not reachable.
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { DockerRuntime, LABELS, type ContainerSpec, type PodRef, type Sandbox } from "@navarch/runtime";
import { connectNats } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { serveLogs } from "./serve.js";
import { LogsTestClient } from "./testing.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const dockerUp = spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0;
const skip = dockerUp ? false : "Docker daemon not reachable (`docker info` failed): start dockerd to run this test";

const run = randomBytes(4).toString("hex");
const node = `logs-test-${run}`;
const network = `navarch-logs-test-${run}`;

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("serveLogs over the real DockerRuntime", { skip }, () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let rt: DockerRuntime;
  const agent = new AbortController();

  const spec = (p: PodRef, sandbox: Sandbox, attempt: number, env: Record<string, string>): ContainerSpec => ({
    pod: p,
    sandboxId: sandbox.id,
    name: "app",
    image: "navarch/exit:1",
    command: [],
    args: [],
    env,
    workingDir: "",
    cpuLimitMillis: 0,
    memoryLimitBytes: 0,
    cpuRequestMillis: 0,
    mounts: [],
    attempt,
    tty: false,
  });

  async function exited(id: string): Promise<void> {
    for (const end = Date.now() + 20_000; Date.now() < end; ) {
      if ((await rt.inspectContainer(id))?.state === "exited") return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`container ${id.slice(0, 12)} did not exit`);
  }

  before(async () => {
    const b = spawnSync("bash", [path.join(repo, "scripts/build-images.sh")], { encoding: "utf8" });
    assert.equal(b.status, 0, `build-images.sh failed:\n${b.stdout}${b.stderr}`);
    dir = mkdtempSync(path.join(tmpdir(), "navarch-logs-docker-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "logs-docker-test" });
    rt = new DockerRuntime({ network, cluster: `logs-test-${node}` });
    await serveLogs({ nc, node, runtime: rt, logger: createLogger("test", "error"), signal: agent.signal });
  });

  after(async () => {
    agent.abort();
    if (rt) {
      for (const c of await rt.listContainers(node).catch(() => [])) await rt.removeContainer(c.id).catch(() => {});
      const left = spawnSync("docker", ["ps", "-aq", "--filter", `label=${LABELS.node}=${node}`], { encoding: "utf8" }).stdout.trim();
      if (left) spawnSync("docker", ["rm", "-f", ...left.split("\n")]);
      spawnSync("docker", ["network", "rm", network], { stdio: "ignore" });
    }
    await nc?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads an exited container's lines, the previous attempt's, and follows a running one to its end", async () => {
    const p: PodRef = { namespace: "default", name: "exit", uid: `${run}-uid`, node };
    const sandbox = await rt.runSandbox({ pod: p, hostname: p.name, ports: [] });

    const first = await rt.createContainer(spec(p, sandbox, 0, { EXIT_CODE: "3" }));
    await rt.startContainer(first);
    await exited(first);
    const second = await rt.createContainer(spec(p, sandbox, 1, { EXIT_CODE: "4" }));
    await rt.startContainer(second);
    await exited(second);

    const ask = async (req: { previous?: boolean; follow?: boolean; tailLines?: number }) => {
      const c = new LogsTestClient(nc, node);
      assert.deepEqual(await c.ask({ namespace: p.namespace, name: p.name, uid: p.uid, container: "app", ...req }), { ok: true });
      return c;
    };

    const current = await ask({});
    await until(() => current.ended, "the current log");
    assert.equal(current.bytes.toString(), "exit: will exit with code 4 after 0s\nexit: exiting with code 4\n");
    assert.equal(current.endError, "");
    current.close();

    const previous = await ask({ previous: true });
    await until(() => previous.ended, "the previous log");
    assert.equal(previous.bytes.toString(), "exit: will exit with code 3 after 0s\nexit: exiting with code 3\n");
    previous.close();

    const tail = await ask({ tailLines: 1 });
    await until(() => tail.ended, "the tail");
    assert.equal(tail.bytes.toString(), "exit: exiting with code 4\n");
    tail.close();

    // A running container, followed: its first line now, the last when it exits, then the end.
    const third = await rt.createContainer(spec(p, sandbox, 2, { EXIT_CODE: "5", SLEEP: "2" }));
    await rt.startContainer(third);
    const follow = await ask({ follow: true });
    const keepalive = setInterval(() => follow.ack(), 1_000);
    try {
      await until(() => follow.bytes.toString().startsWith("exit: will exit with code 5 after 2s\n"), "the first line");
      assert.equal(follow.ended, false);
      await until(() => follow.ended, "the followed log to end with the container");
      assert.equal(follow.bytes.toString(), "exit: will exit with code 5 after 2s\nexit: exiting with code 5\n");
      assert.equal(follow.endError, "");
    } finally {
      clearInterval(keepalive);
      follow.close();
    }
  });
});
