#!/usr/bin/env node
// The ingress controller on its own: options -> signals -> connect -> run.
import { COMMON_OPTIONS, createLogger, describeOptions, readOptions } from "@navarch/config";
import { connectNats } from "@navarch/store";
import { INGRESS_OPTIONS } from "./options.js";
import { run } from "./run.js";

const SPECS = { ...COMMON_OPTIONS, ...INGRESS_OPTIONS };
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(`Usage: ingress\n\nOptions (environment):\n${describeOptions(SPECS)}`);
  process.exit(0);
}
const options = readOptions(SPECS);
if (!options.natsUrl) {
  console.error("ingress: NAVARCH_NATS_URL is required (the all-in-one starts its own NATS; this does not)");
  process.exit(2);
}
const logger = createLogger("ingress", options.logLevel);

const abort = new AbortController();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (abort.signal.aborted) process.exit(130); // a second signal: do not wait
    logger.info({ signal: sig }, "shutting down");
    abort.abort();
  });
}

const nc = await connectNats({ url: options.natsUrl, name: "navarch-ingress", credsFile: options.natsCreds || undefined, replicas: options.kvReplicas });
try {
  await run({ nc, logger, signal: abort.signal, options });
} catch (err) {
  logger.fatal({ err }, "ingress failed");
  process.exitCode = 1;
} finally {
  await nc.drain().catch(() => undefined);
}
// Nothing is left to do; do not wait for stray timers or sockets to let the process end.
process.exit();
