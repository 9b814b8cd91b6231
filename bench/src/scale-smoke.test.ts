// Smoke test of `npm run bench -- scheduler scale`: both parts at a tiny size (quick mode, a few
// dozen hollow nodes and a few hundred pods) against a real all-in-one and real hollow nodes. It
// checks that the parts work - every pod bound and Running, both tables, the target lines, nothing
// left running - not the figures (those need the full sizes on a quiet machine).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseTable } from "./report.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const ROOT = path.resolve(path.dirname(MAIN), "..", "..");
const TIMEOUT_MS = 240_000;

const SIZES = {
  NAVARCH_BENCH_QUICK: "1",
  NAVARCH_BENCH_SCHED_NODES: "20",
  NAVARCH_BENCH_SCHED_BACKLOG_PODS: "200",
  NAVARCH_BENCH_SCHED_PODS: "200",
  NAVARCH_BENCH_SCALE_NODES: "30",
  NAVARCH_BENCH_SCALE_PODS: "300",
  NAVARCH_BENCH_SCALE_SETTLE_SECONDS: "1",
};

function runBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...SIZES };
    for (const k of ["NAVARCH_BENCH_CPU_PROF", "NAVARCH_BENCH_ONLY", "NAVARCH_BENCH_SCALE_PREBIND", "NAVARCH_BENCH_NAMESPACES", "NAVARCH_BENCH_CREATE_IN_FLIGHT"]) delete env[k];
    const child = spawn(process.execPath, [MAIN, "scheduler", "scale"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    // SIGTERM first, so the bench stops its all-in-one and hollow nodes; SIGKILL if it does not go.
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
      reject(new Error(`bench did not finish within ${TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, TIMEOUT_MS);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("npm run bench -- scheduler scale (tiny) binds and runs every pod and prints both reports", { timeout: TIMEOUT_MS + 20_000 }, async () => {
  const r = await runBench();
  const context = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr.slice(-4_000)}`;
  assert.equal(r.code, 0, `bench exited with code ${r.code}${context}`);

  const figures = parseTable(r.stdout, "figure");
  const value = (label: string) => figures.find((row) => row.figure === label)?.value;
  assert.ok(Number(value("bound pods/s, first to last binding")) > 0, `backlog bind rate${context}`);
  assert.match(r.stdout, /^bound pods\/s with 20 hollow nodes \(backlog of 200\): [\d.]+\/s \(target >= 1,000\/s on 2 cores\) (PASS|FAIL)/m, `scheduler target line${context}`);
  assert.match(r.stdout, /^streaming: [\d.]+ pods\/s bound at [\d.]+ creates\/s, create -> bound p99 [\d.]+ ms/m, `streaming line${context}`);

  assert.match(r.stdout, /^control-plane RSS with 30 nodes \/ 300 pods: all-in-one [\d.]+ MiB \(target <= 4096\.0 MiB\) (PASS|FAIL)/m, `RSS target line${context}`);
  assert.match(r.stdout, /^API p99 under the run \(ConfigMap creates at 20\/s\): [\d.]+ ms \(target <= 1000 ms\) (PASS|FAIL)/m, `API p99 target line${context}`);
  const light = parseTable(r.stdout, "ConfigMap create at 20/s \\(open loop\\)");
  assert.equal(light.length, 4, `the light-load table${context}`);
  assert.ok(Number(light.at(-1)!.calls) > 0, `light-load calls${context}`);

  const left = spawnSync("pgrep", ["-f", path.join(ROOT, "services", "hollow-nodes", "dist", "main.js")], { encoding: "utf8" }).stdout.trim();
  assert.equal(left, "", `hollow-nodes processes left behind${context}`);
});
