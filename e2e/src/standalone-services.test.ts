// The control plane spread over processes: an external nats-server, the api-gateway and the
// controller-manager each on their own (as on separate machines). The gateway issues the first
// admin token into $NAVARCH_HOME/config; navctl works; the namespace controller runs elsewhere.
import { NatsServerProcess } from "@navarch/nats-embedded";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { navctl, sleep } from "./cluster.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const children: ChildProcess[] = [];
let nats: NatsServerProcess | undefined;
const dir = mkdtempSync(path.join(tmpdir(), "navarch-standalone-"));

after(async () => {
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function service(name: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, `services/${name}/dist/main.js`)], {
    env: { ...process.env, NAVARCH_HOME: path.join(dir, "home"), NAVARCH_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

describe("services on their own against an external NATS", () => {
  it("api-gateway and controller-manager as separate processes serve navctl and delete namespaces", async () => {
    nats = await NatsServerProcess.start({ storeDir: path.join(dir, "nats") });
    service("api-gateway", { NAVARCH_NATS_URL: nats.url, NAVARCH_API_ADDR: "127.0.0.1:0" });
    service("controller-manager", { NAVARCH_NATS_URL: nats.url });
    const home = path.join(dir, "home");
    for (let i = 0; i < 100 && !existsSync(path.join(home, "config")); i++) await sleep(100);
    assert.ok(existsSync(path.join(home, "config")), "the gateway wrote the client config with a token");

    const ns = await navctl(["get", "ns"], { home });
    assert.equal(ns.code, 0, ns.stderr);
    assert.match(ns.stdout, /^default\s+Active/m);
    const applied = await navctl(["apply", "-f", "-"], {
      home,
      input: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apart\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: apart\ndata:\n  k: v\n",
    });
    assert.equal(applied.code, 0, applied.stderr);
    const deleted = await navctl(["delete", "ns", "apart"], { home });
    assert.equal(deleted.code, 0, deleted.stderr);
    const after = await navctl(["get", "cm", "-n", "apart", "-o", "name"], { home });
    assert.equal(after.stdout.trim(), "", "the controller-manager emptied the namespace");
  });
});
