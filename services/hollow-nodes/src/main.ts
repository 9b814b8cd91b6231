#!/usr/bin/env node
// Hollow nodes on their own: options -> signals -> connect (one connection for every node) -> run.
// Prints "hollow nodes ready: ..." once every node runs, then a status line every
// NAVARCH_HOLLOW_STATS_SECONDS, on stdout (the bench reads them); logs go to stderr.
import { COMMON_OPTIONS, createLogger, describeOptions, readOptions } from "@navarch/config";
import { NODE_AGENT_OPTIONS } from "@navarch/node-agent";
import { connectNats } from "@navarch/store";
import { HOLLOW_NODES_OPTIONS } from "./options.js";
import { run, type HollowStats } from "./run.js";

const SPECS = { ...COMMON_OPTIONS, ...HOLLOW_NODES_OPTIONS };
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(
    `Usage: hollow-nodes\n\nRuns many simulated nodes (node agents on a fake runtime) in one process.\n\nOptions (environment):\n${describeOptions(SPECS)}\n\n` +
      `Node agent options that apply to every hollow node (the capacity, heartbeat and resync ones above replace theirs):\n${describeOptions(NODE_AGENT_OPTIONS)}`,
  );
  process.exit(0);
}
// Thousands of agents log the same lines; warnings and errors are what matters here.
const options = readOptions(SPECS, { ...process.env, NAVARCH_LOG_LEVEL: process.env.NAVARCH_LOG_LEVEL ?? "warn" });
const agentOptions = readOptions(NODE_AGENT_OPTIONS);
if (!options.natsUrl) {
  console.error("hollow-nodes: NAVARCH_NATS_URL is required (the control plane's NATS, e.g. nats://127.0.0.1:4222)");
  process.exit(2);
}
const logger = createLogger("hollow-nodes", options.logLevel);

const abort = new AbortController();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (abort.signal.aborted) process.exit(130); // a second signal: do not wait
    logger.info({ signal: sig }, "shutting down");
    abort.abort();
  });
}

const line = (s: HollowStats) =>
  `nodes=${s.ready}/${s.nodes} failed=${s.failed} pods=${s.pods} running=${s.running} reports=${s.reports} events=${s.events} ` +
  `renewals=${s.renewals} stale=${s.staleHeartbeats} rss=${Math.round(process.memoryUsage.rss() / 2 ** 20)}MiB`;

const started = Date.now();
const nc = await connectNats({ url: options.natsUrl, name: "navarch-hollow-nodes", credsFile: options.natsCreds || undefined, replicas: options.kvReplicas });
try {
  await run({
    nc,
    logger,
    signal: abort.signal,
    options,
    agentOptions: { ...agentOptions, kvReplicas: options.kvReplicas },
    onReady: (nodes) => {
      const failed = nodes.filter((n) => n.error).length;
      console.log(`hollow nodes ready: ${nodes.length - failed}/${nodes.length} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    onStats: (s) => console.log(`hollow nodes: ${line(s)}`),
  });
} catch (err) {
  logger.fatal({ err }, "hollow nodes failed");
  process.exitCode = 1;
} finally {
  await nc.drain().catch(() => undefined);
}
process.exit();
