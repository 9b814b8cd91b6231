// Smoke test of `npm run bench -- deployments` in quick mode (N=5): it runs on real Docker, prints
// the table and both target lines and the rolling update line, keeps the rollout within its
// bounds, and leaves nothing behind - no container of its node, raw or Swarm run, no swarm, no
// docker_gwbridge it made. It checks that the bench works, not the figures (N=5 on a shared
// machine says nothing about the targets).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const ROOT = path.resolve(path.dirname(MAIN), "..", "..");
const TIMEOUT_MS = 300_000;

const docker = (args: string[]) => spawnSync("docker", args, { encoding: "utf8", timeout: 30_000 });
const dockerWorks = docker(["info"]).status === 0;
const swarmState = () => docker(["info", "--format", "{{.Swarm.LocalNodeState}}"]).stdout.trim();
const gwbridge = () => docker(["network", "ls", "--filter", "name=docker_gwbridge", "-q"]).stdout.trim() !== "";

test(
  "npm run bench -- deployments (quick): figures, targets, rollout bounds, nothing left behind",
  { skip: dockerWorks ? (swarmState() === "inactive" ? false : "this Docker engine is in a swarm already") : "no Docker engine", timeout: TIMEOUT_MS + 30_000 },
  async () => {
    const gwbridgeBefore = gwbridge();
    const env: NodeJS.ProcessEnv = { ...process.env, NAVARCH_BENCH_QUICK: "1" };
    for (const k of ["NAVARCH_BENCH_ONLY", "NAVARCH_BENCH_DEPLOY_REPLICAS", "NAVARCH_BENCH_DEPLOY_ROUNDS", "NAVARCH_BENCH_CPU_PROF"]) delete env[k];
    const child = spawn(process.execPath, [MAIN, "deployments"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGTERM"), TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(timer);
    assert.equal(code, 0, `bench failed:\n${stdout}\n${stderr}`);

    // 5 containers without sandboxes (a pod network with fixed IPs, ADR 10), 10 with them.
    assert.match(stdout, /\| navarch: Create -> all 5 pods Running +\| +(5|10) \|/);
    assert.match(stdout, /\| raw docker run -d, agent's concurrency +\| +5 \|/);
    assert.match(stdout, /\| docker swarm service, 5 replicas +\| +5 \|/);
    assert.match(stdout, /^deployment <= 1\.25x raw Docker: \d+\.\d\dx .* (PASS|FAIL)/m);
    assert.match(stdout, /^deployment >= 1\.5x faster than Swarm: \d+\.\d\dx .* (PASS|FAIL)/m);
    assert.match(stdout, /^rolling update of 5 replicas .*: [\d.]+ ms to complete; at most \d+ pods \(limit 7\) ok, at least \d+ ready \(limit 4\) ok$/m);
    assert.match(stdout, /^ {2}Swarm, the same update \(2 tasks at a time, start-first\): [\d.]+ ms/m);

    const node = /node (bench-dep-[0-9a-f]+)/.exec(stdout)?.[1];
    assert.ok(node, "the report names its node");
    assert.equal(docker(["ps", "-aq", "--filter", `label=navarch.node=${node}`]).stdout.trim(), "", "no container of the bench's node left");
    assert.equal(docker(["ps", "-aq", "--filter", "label=dev.navarch.bench.swarm"]).stdout.trim(), "", "no Swarm task container left");
    assert.equal(swarmState(), "inactive", "the swarm was left");
    assert.equal(gwbridge(), gwbridgeBefore, "docker_gwbridge as before");
  },
);
