// navctl and the gateway's limits (docs/api-limits.md), against the in-memory API server: a call
// refused by a rate limit (RESOURCE_EXHAUSTED with retry-after-ms) is retried after the hint a
// bounded number of times, and `get -w` lists again when its watch is cut off (OUT_OF_RANGE).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { KINDS, type KindInfo } from "@navarch/api";
import { writeClientConfig } from "@navarch/config";
import { MAX_LIMIT_RETRIES } from "./connection.js";
import { startFakeServer, type FakeServer } from "./testing/fake-server.js";
import { NAVCTL, runCli } from "./testing/run-cli.js";

let server: FakeServer;
let home: string;
const env = () => ({ NAVARCH_HOME: home });
const navctl = (args: string[]) => runCli(args, { env: env() });
const cm = (name: string, data: Record<string, string>) =>
  server.seed(KINDS.ConfigMap as unknown as KindInfo, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data } as never);

before(async () => {
  server = await startFakeServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), "navctl-limits-"));
  writeClientConfig({ server: server.address, token: server.token }, path.join(home, "config"));
  server.seed(KINDS.Namespace as unknown as KindInfo, { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } } as never);
  cm("a", { k: "1" });
});

after(async () => {
  await server.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

describe("navctl and the server's limits", () => {
  it("retries a call refused by the rate limit after the server's retry-after-ms", async () => {
    server.limitRefusals = { count: 2, retryAfterMs: 50 };
    const r = await navctl(["get", "cm", "a", "-o", "name"]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "configmap/a\n");
    assert.equal(server.limitRefusals.count, 0);
  });

  it("gives up after a bounded number of retries with the server's message", async () => {
    server.limitRefusals = { count: 1_000, retryAfterMs: 1 };
    const r = await navctl(["get", "cm", "a"]);
    const tried = 1_000 - server.limitRefusals.count;
    server.limitRefusals = { count: 0, retryAfterMs: 0 };
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: too many requests from user "tester": .*retry after 1 ms\n$/);
    assert.equal(tried, MAX_LIMIT_RETRIES + 1);
  });

  it("get -w retries a refused watch, and lists again when its watch is cut off", async () => {
    const child = spawn(process.execPath, [NAVCTL, "get", "cm", "-w"], { env: { ...process.env, ...env() } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const waitFor = async (what: string, pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(pred(), `${what}; stdout:\n${out}\nstderr:\n${err}`);
    };
    const lists = server.listCalls;
    await waitFor("the table", () => /^a +1 +/m.test(out));
    await new Promise((r) => setTimeout(r, 200)); // the watch is open
    // Cut off: navctl lists again and watches again; that watch is refused twice, then taken.
    server.limitRefusals = { count: 2, retryAfterMs: 20, watchesOnly: true };
    server.cutOffWatches();
    await waitFor("a second list after the cut-off", () => server.listCalls >= lists + 2);
    await waitFor("the refused watches retried", () => server.limitRefusals.count === 0);
    await new Promise((r) => setTimeout(r, 200)); // the watch is open
    cm("b", { k: "1", l: "2" });
    await waitFor("the new object's row from the new watch", () => /^b +2 +/m.test(out));
    server.limitRefusals = { count: 0, retryAfterMs: 0 };
    const code = await new Promise<number | null>((resolve) => {
      child.on("close", resolve);
      child.kill("SIGINT");
    });
    assert.equal(code, 0, err);
    assert.equal(err, "");
  });
});
