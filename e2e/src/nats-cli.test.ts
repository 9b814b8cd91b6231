// The NATS CLI is a user-facing introspection tool: the bucket and key layout must read well in
// it. These are exactly the commands docs/architecture.md documents, run against a real cluster.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cleanup, navctl, run, sleep, startLocalCluster, tempHome, type LocalCluster, type RunResult } from "./cluster.js";

after(cleanup);

/** The `nats` CLI: PATH first, then where scripts/setup.sh and `go install` put it. */
function findNatsCli(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), path.join(homedir(), ".navarch", "tools", "bin"), path.join(homedir(), "go", "bin")];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(path.join(dir, "nats"), constants.X_OK);
      return path.join(dir, "nats");
    } catch {
      // not here
    }
  }
  return undefined;
}

const NATS = findNatsCli();
const skip = NATS ? false : "the nats CLI is not installed (looked on PATH, ~/.navarch/tools/bin, ~/go/bin); CI installs it with `go install github.com/nats-io/natscli/nats@<version>`";

const DEMO = `apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
  namespace: default
data:
  greeting: hello
`;

describe("nats CLI introspection of the state buckets", { skip }, () => {
  let cluster: LocalCluster;
  let natsConfigHome: string;

  /** `nats --server URL ...`, with no user nats contexts in the way. */
  async function nats(...args: string[]): Promise<RunResult> {
    const r = await run(NATS!, ["--server", cluster.natsUrl, ...args], { env: { XDG_CONFIG_HOME: natsConfigHome } });
    assert.equal(r.code, 0, `nats ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  before(async () => {
    natsConfigHome = tempHome();
    cluster = await startLocalCluster();
    const applied = await navctl(["apply", "-f", "-"], { home: cluster.home, input: DEMO });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /configmap\/demo created/);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("nats kv ls lists the configmaps bucket", async () => {
    const r = await nats("kv", "ls");
    assert.match(r.stdout, /\bnavarch-configmaps\b/);
    assert.match(r.stdout, /\bnavarch-namespaces\b/);
  });

  it("nats kv ls navarch-configmaps lists the key namespace.name", async () => {
    const r = await nats("kv", "ls", "navarch-configmaps");
    assert.ok(r.stdout.split(/\s+/).includes("default.demo"), r.stdout);
  });

  it("nats kv get --raw shows the object as Kubernetes JSON", async () => {
    const r = await nats("kv", "get", "navarch-configmaps", "default.demo", "--raw");
    const obj = JSON.parse(r.stdout);
    assert.equal(obj.kind, "ConfigMap");
    assert.equal(obj.apiVersion, "v1");
    assert.equal(obj.metadata.name, "demo");
    assert.equal(obj.data.greeting, "hello");
  });

  it("nats stream ls -a and stream info show the bucket's stream", async () => {
    // nats CLI 0.3 counts KV_* streams as system streams: a plain `stream ls` hides them.
    const ls = await nats("stream", "ls", "-a");
    assert.match(ls.stdout, /KV_navarch-configmaps/);
    const info = await nats("stream", "info", "KV_navarch-configmaps");
    assert.match(info.stdout, /KV_navarch-configmaps/);
    assert.match(info.stdout, /\$KV\.navarch-configmaps\.>/);
  });

  it("nats kv watch replays the current value", async () => {
    // `kv watch` runs until stopped: read until the key shows up, then stop it.
    const watch = spawn(NATS!, ["--server", cluster.natsUrl, "kv", "watch", "navarch-configmaps"], {
      env: { ...process.env, XDG_CONFIG_HOME: natsConfigHome },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    watch.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    try {
      for (const deadline = Date.now() + 10_000; !out.includes("default.demo") && Date.now() < deadline; ) await sleep(50);
    } finally {
      watch.kill("SIGKILL");
    }
    assert.match(out, /PUT navarch-configmaps > default\.demo: \{.*"greeting":"hello"/);
  });
});
