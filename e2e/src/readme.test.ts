// The README's tour, run as written: every ```console block's commands run in bash from the
// repository root against a real all-in-one (real nats-server, real Docker), and each output must
// have the shape the README shows (readme-blocks.ts). `navctl` on PATH is this checkout's CLI.
//
// The one liberty taken: the cluster listens on free ports, and the README's addresses
// (127.0.0.1:7443, nats://127.0.0.1:4222, 127.0.0.1:8080) are rewritten to them, so the test can
// run beside a developer's own `npm start`. The node takes this machine's host name, as
// `npm start` does; the README's example host name is `laptop`.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cleanup, ROOT, run, sleep, startLocalCluster, type LocalCluster } from "./cluster.js";
import { consoleBlocks, shapeDifference, type ConsoleCommand } from "./readme-blocks.js";

const README = path.join(ROOT, "README.md");
const TOOLS = process.env.NAVARCH_TOOLS ?? path.join(process.env.HOME ?? "/root", ".navarch", "tools", "bin");
const COMMAND_TIMEOUT_MS = 90_000;
/** How long a read-only command's output may take to settle into the README's shape. */
const SETTLE_MS = 30_000;
/** Commands that only read: they are run again while their output has not yet settled. */
const READ_ONLY = /^(navctl (get|describe|logs|version|api-resources|whoami)\b|curl\b|nats\b|cat\b)/;
const README_HOST = "laptop";

let cluster: LocalCluster;
let bin: string;
let clusterId: string | undefined;
const names: Record<string, string> = {};

before(async () => {
  cluster = await startLocalCluster({ env: { NAVARCH_NODE_NAME: hostname().toLowerCase(), NAVARCH_LOG_LEVEL: "info" } });
  bin = mkdtempSync(path.join(tmpdir(), "navarch-readme-bin-"));
  // This checkout's navctl, first on PATH, as `npm start` installs it for a user.
  writeFileSync(path.join(bin, "navctl"), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, "cli", "dist", "main.js")}" "$@"\n`);
  chmodSync(path.join(bin, "navctl"), 0o755);
  names[hostname().toLowerCase()] = README_HOST;
  names[cluster.home] = "/root/.navarch";
  clusterId = /Cluster ID:\s*(\S+)/.exec((await shell("navctl version")).stdout)?.[1];
  assert.ok(clusterId, "navctl version shows the cluster's id");
});

after(async () => {
  // The tour's pods outlive the cluster (Ctrl-C leaves workloads, ADR 15): remove this cluster's
  // containers the way the README tells a user to, scoped to its id.
  const id = clusterId;
  await cleanup();
  if (id) {
    const r = await run("bash", [path.join(ROOT, "scripts", "killall.sh"), "--cluster", id]);
    assert.equal(r.code, 0, `killall --cluster ${id}: ${r.stdout}${r.stderr}`);
  }
  if (bin) rmSync(bin, { recursive: true, force: true });
});

function addresses(command: string): string {
  const ingress = /^\s+Ingress:\s+http:\/\/(\S+)/m.exec(cluster.stdout())?.[1] ?? "127.0.0.1:8080";
  return command
    .replaceAll("nats://127.0.0.1:4222", cluster.natsUrl)
    .replaceAll("127.0.0.1:7443", cluster.apiAddr)
    .replaceAll("127.0.0.1:8080", ingress);
}

function shell(command: string) {
  return run("bash", ["-o", "pipefail", "-c", `${addresses(command)} 2>&1`], {
    env: { PATH: `${bin}:${TOOLS}:${process.env.PATH}`, NAVARCH_HOME: cluster.home },
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
}

async function runAsShown(c: ConsoleCommand): Promise<void> {
  const shouldFail = c.expected.find((l) => l.trim() !== "")?.startsWith("error:") ?? false;
  const deadline = Date.now() + (READ_ONLY.test(c.command) ? SETTLE_MS : 0);
  for (;;) {
    const r = await shell(c.command);
    const out = r.stdout.replace(/\n$/, "").split("\n");
    const codeOk = shouldFail ? r.code !== 0 : r.code === 0;
    const diff = c.expected.length === 0 ? undefined : shapeDifference(c.expected, out, names);
    if (codeOk && diff === undefined) return;
    if (Date.now() >= deadline) {
      assert.fail(
        `README.md:${c.line}: \`${c.command}\` ${codeOk ? "" : `exited ${r.code} (expected ${shouldFail ? "non-zero" : "0"}); `}` +
          `${diff ?? "output has the README's shape"}\n--- output ---\n${r.stdout}`,
      );
    }
    await sleep(500);
  }
}

describe("README", () => {
  const blocks = consoleBlocks(readFileSync(README, "utf8"));

  it("has console blocks, and the first one starts the cluster with npm start", () => {
    assert.ok(blocks.length >= 3, "README.md has console blocks");
    assert.equal(blocks[0]!.commands[0]?.command, "npm start");
  });

  it("npm start prints the banner the README shows", () => {
    const start = blocks[0]!.commands[0]!;
    const diff = shapeDifference(start.expected, cluster.stdout().replace(/\n$/, "").split("\n"), names);
    assert.equal(diff, undefined, `README.md:${start.line}: the banner differs: ${diff}\n${cluster.stdout()}`);
  });

  it("every other console command runs as written and prints what the README shows", { timeout: 900_000 }, async () => {
    for (const block of blocks) {
      for (const c of block.commands) {
        if (c.command === "npm start") continue;
        await runAsShown(c);
      }
    }
  });
});
