// Smoke test of `npm run bench`: runs the bench in quick mode (every phase 2 s) against a real
// all-in-one and checks that it prints the full table with nonzero throughput and no errors in
// every row. It checks that the bench works, not the figures (those belong to a quiet machine).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseTable } from "./report.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const ROOT = path.resolve(path.dirname(MAIN), "..", "..");
const TIMEOUT_MS = 90_000;

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
    delete env.NAVARCH_BENCH_CPU_PROF;
    delete env.NAVARCH_BENCH_CHANNELS;
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

test("npm run bench (quick) prints the table with throughput and no errors in every row", { timeout: TIMEOUT_MS + 20_000 }, async () => {
  const r = await runBench();
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
