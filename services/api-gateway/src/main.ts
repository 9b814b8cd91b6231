#!/usr/bin/env node
// The api-gateway on its own, against an external NATS: config -> signal -> connect -> run.
import { clientConfigPath, COMMON_OPTIONS, createLogger, navarchHome, readOptions } from "@navarch/config";
import { connectNats } from "@navarch/store";
import { GATEWAY_OPTIONS } from "./options.js";
import { ensureAdminConfig } from "./admin-token.js";
import { startGateway } from "./start.js";

const common = readOptions(COMMON_OPTIONS);
const options = readOptions(GATEWAY_OPTIONS);
const logger = createLogger("api-gateway", common.logLevel);
if (!common.natsUrl) {
  logger.fatal("NAVARCH_NATS_URL is required when the api-gateway runs on its own");
  process.exit(2);
}
const nc = await connectNats({ url: common.natsUrl, name: "navarch-api-gateway", credsFile: common.natsCreds || undefined, replicas: common.kvReplicas });
const gateway = await startGateway({ nc, logger, options, kvReplicas: common.kvReplicas });
// A control plane started piece by piece still needs its first admin token.
const configPath = clientConfigPath(navarchHome());
const { issued } = await ensureAdminConfig(nc, configPath, gateway.address);
logger.info({ address: gateway.address, config: configPath, issued }, "client config ready");
let stopping = false;
const shutdown = async () => {
  // Signals can arrive twice (terminal + a forwarding parent); the first one stops us cleanly.
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 20_000).unref();
  await gateway.stop();
  await nc.drain();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
