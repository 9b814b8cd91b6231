// navctl against the real all-in-one (services/all-in-one/dist/main.js): a fresh NAVARCH_HOME, the
// control plane on free ports, and the built CLI run as a user runs it. Build everything first
// (`npm run build`); without the all-in-one this file fails, it does not skip.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runCli } from "./testing/run-cli.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ALL_IN_ONE = path.join(ROOT, "services", "all-in-one", "dist", "main.js");
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

let home = "";
let cluster: ChildProcess | undefined;
let clusterOut = "";
let clusterErr = "";
let apiAddr = "";
let configPath = "";

const navctl = (args: string[], stdin?: string) => runCli(args, { env: { NAVARCH_HOME: home }, stdin });
const write = (name: string, text: string) => {
  const p = path.join(home, name);
  fs.writeFileSync(p, text);
  return p;
};
const configMap = (data: Record<string, string>, extra = "") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    app: navctl-test\ndata:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join("\n")}\n${extra}`;

function environment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ["NAVARCH_NATS_URL", "NAVARCH_SERVER", "NAVARCH_TOKEN"]) delete env[k];
  for (const k of Object.keys(env)) if (/^(https?|grpc|all)_proxy$/i.test(k)) delete env[k];
  return { ...env, NAVARCH_HOME: home, NAVARCH_API_ADDR: "127.0.0.1:0", NAVARCH_NATS_PORT: "0", NAVARCH_LOG_LEVEL: "warn", NAVARCH_NODE_AGENT: "false" };
}

before(async () => {
  if (!fs.existsSync(ALL_IN_ONE)) {
    throw new Error(`${ALL_IN_ONE} does not exist: build the all-in-one first (npm run build) to run navctl's integration test`);
  }
  home = fs.mkdtempSync(path.join(os.tmpdir(), "navctl-it-"));
  const child = spawn(process.execPath, [ALL_IN_ONE], { cwd: ROOT, env: environment(), stdio: ["ignore", "pipe", "pipe"], detached: true });
  cluster = child;
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (clusterOut += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (clusterErr = (clusterErr + s).slice(-20_000)));
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the all-in-one was not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const check = () => {
      const m = /^Navarch is ready: api=(\S+) config=(.+)\r?\n/m.exec(clusterOut);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the all-in-one exited (code ${code}, signal ${signal}) before it was ready`));
    });
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n--- stdout ---\n${clusterOut.slice(-4000)}\n--- stderr ---\n${clusterErr.slice(-4000)}`);
  });
  apiAddr = ready[1]!;
  configPath = ready[2]!.trim();
  assert.equal(configPath, path.join(home, "config"));
});

after(async () => {
  const child = cluster;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGINT");
    const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS).unref());
    if ((await Promise.race([exited, timeout])) === "timeout") {
      try {
        process.kill(-child.pid!, "SIGKILL"); // the all-in-one and its nats-server
      } catch {
        // already gone
      }
      await exited;
    }
  }
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe("navctl against the all-in-one", () => {
  it("applies a ConfigMap: created, unchanged, configured", async () => {
    const file = write("cm.yaml", configMap({ greeting: "hello" }));
    let r = await navctl(["apply", "-f", file]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "configmap/x created\n");
    r = await navctl(["apply", "-f", file]);
    assert.equal(r.stdout, "configmap/x unchanged\n", r.stderr);
    write("cm.yaml", configMap({ greeting: "hi", extra: "1" }));
    r = await navctl(["apply", "-f", file]);
    assert.equal(r.stdout, "configmap/x configured\n", r.stderr);
    assert.equal(r.code, 0);
  });

  it("gets the ConfigMap as YAML with the applied data, and as a table", async () => {
    let r = await navctl(["get", "cm", "x", "-o", "yaml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^apiVersion: v1\n/);
    assert.match(r.stdout, /\ndata:\n {2}extra: "1"\n {2}greeting: hi\nkind: ConfigMap\n/);
    assert.match(r.stdout, /\n {2}name: x\n {2}namespace: default\n/);
    r = await navctl(["get", "cm"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME +DATA +AGE$/);
    assert.ok(lines.some((l) => /^x +2 +\d+s$/.test(l)), r.stdout);
  });

  it("refuses an unknown field, naming its path, and creates nothing", async () => {
    const file = write("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: b\nspec:\n  x: 1\n");
    const r = await navctl(["apply", "-f", file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `error: ${file}: ConfigMap/bad: spec: unknown field "spec"\n`);
    const g = await navctl(["get", "cm", "bad"]);
    assert.equal(g.code, 1);
    assert.equal(g.stderr, 'error: configmaps "bad" not found\n');
  });

  it("deletes the ConfigMap; a get then fails with not found", async () => {
    let r = await navctl(["delete", "cm", "x"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'configmap "x" deleted\n');
    r = await navctl(["get", "cm", "x"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: configmaps "x" not found\n');
  });

  it("refuses a wrong token as unauthenticated", async () => {
    const r = await navctl(["get", "cm", "--token", "not-the-token"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: unauthenticated: .+\n$/);
  });

  it("lists the namespaces default and navarch-system", async () => {
    const r = await navctl(["get", "ns"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME +STATUS +AGE\n/);
    assert.match(r.stdout, /\ndefault +Active +\d+\w\n/);
    assert.match(r.stdout, /\nnavarch-system +Active +\d+\w\n/);
  });

  it("lists api-resources with configmaps as cm", async () => {
    const r = await navctl(["api-resources"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND\n/);
    assert.match(r.stdout, /\nconfigmaps +cm +v1 +true +ConfigMap\n/);
  });

  it("talks to the address the all-in-one printed", async () => {
    const r = await navctl(["config", "view"]);
    assert.match(r.stdout, new RegExp(`\\nserver: ${apiAddr.replace(/\./g, "\\.")}\\n`));
    assert.match(r.stdout, /\ntoken: REDACTED\n/);
  });
});
