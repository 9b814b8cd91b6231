#!/usr/bin/env node
// Runs every compiled test (libs/*, services/*, cli, e2e: dist/**/*.test.js) with Node's built-in
// test runner and ends with exactly one summary line: "N passed, N failed[, N skipped]".
//
//   node scripts/run-tests.mjs                 all tests
//   node scripts/run-tests.mjs store gateway   only files whose path contains "store" or "gateway"
//   node scripts/run-tests.mjs --test-name-pattern=watch   other --flags go to `node --test`
//
// Env: NAVARCH_TEST_CONCURRENCY (test files run at once, default 1: integration tests start real
// nats-servers), NAVARCH_TOOLS (where setup put nats-server / nats; added to PATH for the tests).
//
// This file is also the summary reporter: `node --test --test-reporter=<this file>` loads its
// default export, which counts leaf tests and writes one JSON line to its destination.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const self = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(self), "..");
const TEST_ROOTS = ["libs/*", "services/*", "cli", "e2e", "bench"];
const TEST_TIMEOUT_MS = 120_000;

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(self);
  } catch {
    return false;
  }
}

if (isMain()) main();

function main() {
  // The suite needs Node 24 (the `node` devDependency); re-run under it when started by another node.
  const repoNode = path.join(root, "node_modules", ".bin", "node");
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 24 && !process.env.NAVARCH_TEST_REEXEC && fs.existsSync(repoNode)) {
    const r = spawnSync(repoNode, [self, ...process.argv.slice(2)], {
      stdio: "inherit",
      env: { ...process.env, NAVARCH_TEST_REEXEC: "1" },
    });
    process.exit(r.status ?? 1);
  }
  if (major < 22) {
    console.error(`run-tests: Node ${process.versions.node} is too old; run \`bash scripts/setup.sh\` first`);
    printSummary({ passed: 0, failed: 0, skipped: 0 });
    process.exit(1);
  }

  const args = process.argv.slice(2);
  const filters = args.filter((a) => !a.startsWith("-"));
  const passThrough = args.filter((a) => a.startsWith("-"));

  const files = findTestFiles().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
  if (files.length === 0) {
    console.error(
      filters.length
        ? `run-tests: no compiled test file matches ${filters.map((f) => JSON.stringify(f)).join(" or ")}`
        : "run-tests: no compiled test files found (did `npm run build` run?)",
    );
    printSummary({ passed: 0, failed: 0, skipped: 0 });
    process.exit(1);
  }

  const concurrency = process.env.NAVARCH_TEST_CONCURRENCY || "1";
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "navarch-tests-"));
  const summaryFile = path.join(tmp, "summary.json");
  const tools = process.env.NAVARCH_TOOLS || path.join(os.homedir(), ".navarch", "tools", "bin");
  const env = {
    ...process.env,
    // Pinned tools from scripts/setup.sh come first, so tests use those over older system copies.
    PATH: [tools, process.env.PATH].filter(Boolean).join(path.delimiter),
    // The testcontainers reaper image cannot be pulled on our machines.
    TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? "true",
  };
  delete env.NAVARCH_TEST_REEXEC;

  console.log(`run-tests: ${files.length} file(s), concurrency ${concurrency}, node ${process.version}`);
  const r = spawnSync(
    process.execPath,
    [
      "--test",
      `--test-concurrency=${concurrency}`,
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      `--test-reporter=${self}`,
      `--test-reporter-destination=${summaryFile}`,
      ...passThrough,
      ...files,
    ],
    { cwd: root, stdio: "inherit", env },
  );

  let counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    counts = JSON.parse(fs.readFileSync(summaryFile, "utf8").trim().split("\n").pop());
  } catch {
    console.error("run-tests: the test runner wrote no summary");
  }
  fs.rmSync(tmp, { recursive: true, force: true });

  const exitCode = r.status ?? 1;
  if (r.error) console.error(`run-tests: could not start node --test: ${r.error.message}`);
  if (r.signal) console.error(`run-tests: node --test was killed by ${r.signal}`);
  else if (exitCode !== 0 && counts.failed === 0) {
    console.error(`run-tests: node --test exited with code ${exitCode}`);
  }
  if (counts.passed + counts.failed + counts.skipped === 0) console.error("run-tests: no test ran");
  printSummary(counts);
  const ok = !r.error && !r.signal && exitCode === 0 && counts.failed === 0 && counts.passed + counts.failed + counts.skipped > 0;
  process.exit(ok ? 0 : 1);
}

function findTestFiles() {
  const patterns = TEST_ROOTS.map((r) => `${r}/dist/**/*.test.js`);
  const found = fs.globSync(patterns, {
    cwd: root,
    exclude: (p) => path.basename(typeof p === "string" ? p : p.name) === "node_modules",
  });
  return [...new Set(found.map((f) => f.split(path.sep).join("/")))]
    .filter((f) => !f.split("/").includes("node_modules"))
    .filter(hasSource)
    .sort();
}

/**
 * A compiled test whose source is gone (deleted or renamed since the last build) is not run: tsc -b
 * never removes its old output, and it would test code that no longer exists.
 */
function hasSource(distFile) {
  const src = distFile.replace("/dist/", "/src/").replace(/\.js$/, ".ts");
  return fs.existsSync(path.join(root, src));
}

function printSummary({ passed, failed, skipped }) {
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
}

/**
 * Reporter: counts leaf tests (a describe() suite or a test with subtests is not counted itself,
 * unless it fails while none of its subtests did, e.g. a failing hook or a file that cannot load).
 * Skips and todos count as skipped. Yields one JSON line at the end.
 */
export default async function* summaryReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  // Per file, per nesting level: children completed since their parent started.
  const pending = new Map();
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const data = event.data;
    const levels = pending.get(data.file) ?? [];
    pending.set(data.file, levels);
    const n = data.nesting ?? 0;
    const children = levels[n + 1] ?? { count: 0, failed: 0 };
    levels[n + 1] = undefined;
    const isSuite = data.details?.type === "suite";
    const isLeaf = children.count === 0;
    let failedHere = 0;
    if (data.skip !== undefined || data.todo !== undefined) {
      if (isLeaf) counts.skipped++;
    } else if (event.type === "test:pass") {
      if (isLeaf && !isSuite) counts.passed++;
    } else if (isLeaf || children.failed === 0) {
      counts.failed++;
      failedHere = 1;
    }
    const siblings = (levels[n] ??= { count: 0, failed: 0 });
    siblings.count++;
    siblings.failed += children.failed + failedHere;
  }
  yield `${JSON.stringify(counts)}\n`;
}
