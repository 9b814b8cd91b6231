// Smoke test of `npm run bench`: runs the bench in quick mode (every phase 2 s) against a real
// all-in-one and checks that it prints the full table with nonzero throughput and no errors in
// every row; and, when Docker works here, that the pod part ran (N=5 pods against raw Docker,
// the restart table, the breakdown, both target lines) and left no container behind. It checks
// that the bench works, not the figures (those belong to a quiet machine).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseTable } from "./report.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const ROOT = path.resolve(path.dirname(MAIN), "..", "..");
const TIMEOUT_MS = 180_000;

const EXPECTED_ROWS = [
  "create",
  "create",
  "create",
  "get",
  "list, limit 500",
  "list namespace, no limit",
  "list all namespaces, no limit",
];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runBench(): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NAVARCH_BENCH_QUICK: "1" };
    for (const k of ["NAVARCH_BENCH_CPU_PROF", "NAVARCH_BENCH_CHANNELS", "NAVARCH_BENCH_ONLY", "NAVARCH_BENCH_PODS", "NAVARCH_BENCH_RESTARTS", "NAVARCH_BENCH_POD_ROUNDS"]) {
      delete env[k];
    }
    const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    // On timeout: SIGTERM first, so the bench stops its all-in-one (its own process group) and
    // removes the temp dir; SIGKILL if it does not go.
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      reject(new Error(`bench did not finish within ${TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, TIMEOUT_MS);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** One quick run of the whole bench (API and pods) serves both tests. */
let quick: Promise<Run> | undefined;
const quickRun = () => (quick ??= runBench());

test("npm run bench (quick) prints the table with throughput and no errors in every row", { timeout: TIMEOUT_MS + 20_000 }, async () => {
  const r = await quickRun();
  const context = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr.slice(-4_000)}`;
  assert.equal(r.code, 0, `bench exited with code ${r.code} signal ${r.signal}${context}`);

  const rows = parseTable(r.stdout);
  assert.deepEqual(
    rows.map((row) => row.operation),
    EXPECTED_ROWS,
    `the table's rows${context}`,
  );
  for (const row of rows) {
    const what = `${row.operation}, ${row.load}`;
    assert.ok(Number(row["ops/s"]) > 0, `ops/s of "${what}" is ${row["ops/s"]}${context}`);
    assert.equal(row.errors, "0", `errors in "${what}"${context}`);
    for (const col of ["p50 ms", "p90 ms", "p99 ms", "max ms"]) {
      assert.ok(Number.isFinite(Number(row[col])) && Number(row[col]) > 0, `${col} of "${what}" is ${row[col]}${context}`);
    }
  }
  assert.match(r.stdout, /^create p99 at 500\/s: [\d.]+ ms \(target <= 50 ms\) (PASS|FAIL)/m, `target line${context}`);
  assert.match(r.stdout, /node v\d+\.\d+\.\d+, \d+ CPU\(s\), /, `environment line${context}`);
  assert.match(r.stdout, /^control plane RSS at the end: all-in-one [\d.]+ MiB \+ nats-server [\d.]+ MiB/m, `RSS line${context}`);
});

/** Whether `docker info` works here (the bench skips its pod part otherwise). */
function dockerWorks(): boolean {
  return spawnSync("docker", ["info"], { stdio: "ignore", timeout: 10_000 }).status === 0;
}

const POD_ROWS = [
  "navarch pods",
  "raw docker run -d, agent's concurrency",
  "raw sandbox + app pairs",
  "raw docker run -d, 8 at a time",
  "raw docker run -d, one at a time",
];

test("npm run bench (quick) runs the pod part with N=5 when Docker works, and leaves no container behind", { timeout: TIMEOUT_MS + 20_000 }, async () => {
  const r = await quickRun();
  const context = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr.slice(-4_000)}`;
  assert.equal(r.code, 0, `bench exited with code ${r.code} signal ${r.signal}${context}`);
  if (!dockerWorks()) {
    assert.match(r.stdout, /^Navarch pods benchmark skipped: docker info failed/m, `without Docker the pod part says why it is skipped${context}`);
    return;
  }
  assert.doesNotMatch(r.stdout, /pods benchmark skipped/, `the pod part ran${context}`);
  const rows = parseTable(r.stdout, "run");
  assert.deepEqual(
    rows.map((row) => row.run),
    POD_ROWS,
    `the pod table's rows${context}`,
  );
  for (const row of rows) {
    assert.ok(Number(row["wall ms"]) > 0, `wall ms of "${row.run}" is ${row["wall ms"]}${context}`);
    assert.ok(Number(row["per pod p50 ms"]) > 0, `per pod p50 of "${row.run}" is ${row["per pod p50 ms"]}${context}`);
  }
  assert.match(r.stdout, /^pods <= 1\.25x raw Docker for N=5: [\d.]+x .*(PASS|FAIL)/m, `ratio target line${context}`);
  assert.match(r.stdout, /^first restart <= 1000 ms .*: [\d.]+ ms (PASS|FAIL)/m, `restart target line${context}`);
  const restarts = parseTable(r.stdout, "first restart: from the SIGKILL to");
  assert.equal(restarts.length, 3, `the restart table${context}`);
  for (const row of restarts) assert.ok(Number(row["p50 ms"]) > 0, `restart row "${row["first restart: from the SIGKILL to"]}"${context}`);
  const stages = parseTable(r.stdout, "stage");
  // Without sandboxes (a pod network with fixed IPs, ADR 10) the two sandbox stages are left out.
  const sandboxes = stages.some((row) => /^sandbox container/.test(row.stage ?? ""));
  assert.equal(stages.length, sandboxes ? 9 : 7, `the breakdown table${context}`);
  assert.equal(rows[0]!.containers, sandboxes ? "10" : "5", `5 pods are ${sandboxes ? "10 containers (sandbox + app)" : "5 containers (no sandbox)"}${context}`);
  for (const row of stages) assert.equal(row["pods seen"], "5", `stage "${row.stage}" seen for every pod${context}`);
  const node = /bound to node (bench-[0-9a-f]+)/.exec(r.stdout)?.[1];
  assert.ok(node, `node name in the header${context}`);
  const left = spawnSync("docker", ["ps", "-aq", "--filter", `label=navarch.node=${node}`], { encoding: "utf8" }).stdout.trim();
  assert.equal(left, "", `containers of node ${node} left behind${context}`);
});
