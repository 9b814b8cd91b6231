#!/usr/bin/env node
// The whole control plane in one process (like k3s): an embedded nats-server, the api-gateway
// and every controller, sharing one NATS connection. Each piece can also run on its own
// against an external NATS (services/*/dist/main.js with NAVARCH_NATS_URL).
import { ensureAdminConfig, startGateway, GATEWAY_OPTIONS } from "@navarch/api-gateway";
import { clientConfigPath, COMMON_OPTIONS, createLogger, describeOptions, navarchHome, readOptions } from "@navarch/config";
import { SharedInformers } from "@navarch/controller";
import { CONTROLLER_MANAGER_OPTIONS, run as runControllerManager } from "@navarch/controller-manager";
import { REPLICATION_OPTIONS, run as runReplication } from "@navarch/replication";
import { ENDPOINTS_OPTIONS, run as runEndpoints } from "@navarch/endpoints";
import { INGRESS_OPTIONS, run as runIngress } from "@navarch/ingress";
import { SCHEDULER_OPTIONS, run as runScheduler } from "@navarch/scheduler";
import { NODE_AGENT_OPTIONS, run as runNodeAgent } from "@navarch/node-agent";
import { connectNats } from "@navarch/store";
import type { NatsServerProcess } from "@navarch/nats-embedded";
import { ensureDockerEngine } from "./docker-engine.js";
import { startEmbeddedNats } from "./embedded-nats.js";
import { ALL_IN_ONE_OPTIONS } from "./options.js";
import path from "node:path";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(`Usage: navarch (npm start)\n\nRuns a local Navarch control plane. Options (environment):\n  NAVARCH_HOME                       state and client config (default: ~/.navarch)\n  NAVARCH_LOG_FILE                   log file, "-" for stderr (default: $NAVARCH_HOME/logs/navarch.log)\n${describeOptions({ ...COMMON_OPTIONS, ...ALL_IN_ONE_OPTIONS, ...GATEWAY_OPTIONS, ...CONTROLLER_MANAGER_OPTIONS, ...SCHEDULER_OPTIONS, ...REPLICATION_OPTIONS, ...ENDPOINTS_OPTIONS, ...INGRESS_OPTIONS })}`);
  process.exit(0);
}

const home = navarchHome();
const common = readOptions(COMMON_OPTIONS);
const local = readOptions(ALL_IN_ONE_OPTIONS);
const gatewayOptions = readOptions(GATEWAY_OPTIONS);
const controllerOptions = readOptions(CONTROLLER_MANAGER_OPTIONS);
const schedulerOptions = readOptions(SCHEDULER_OPTIONS);
const replicationOptions = readOptions(REPLICATION_OPTIONS);
const endpointsOptions = readOptions(ENDPOINTS_OPTIONS);
const ingressOptions = readOptions(INGRESS_OPTIONS);
const agentOptions = readOptions(NODE_AGENT_OPTIONS);
// The terminal shows the ready banner; the logs go to a file (NAVARCH_LOG_FILE=- for stderr).
const logFile = process.env.NAVARCH_LOG_FILE ?? path.join(home, "logs", "navarch.log");
const logger = createLogger("all-in-one", common.logLevel, logFile === "-" ? undefined : logFile);

let nats: NatsServerProcess | undefined;
let natsUrl = common.natsUrl;
if (!natsUrl) {
  const started = await startEmbeddedNats(home, { host: local.natsHost, port: local.natsPort, binary: local.natsServer });
  nats = started.server;
  natsUrl = nats.url;
  if (started.leftover) logger.warn({ pid: started.leftover }, "stopped a nats-server left behind by a previous run");
}

const nc = await connectNats({ url: natsUrl, name: "navarch-all-in-one", credsFile: common.natsCreds || undefined, replicas: common.kvReplicas });
// Every service here shares one cache per kind: one KV watch and one copy of the objects per
// process, with the gateway's watch history (ADR 9).
const shared = new SharedInformers(nc, { logger, historySize: gatewayOptions.watchHistory, openOptions: () => ({ replicas: common.kvReplicas }) });
const gateway = await startGateway({ nc, logger: logger.child({ component: "api-gateway" }), options: gatewayOptions, kvReplicas: common.kvReplicas, informers: shared });
const abort = new AbortController();
// With its own embedded NATS this process is the only candidate: no need to wait out a lease a
// crashed predecessor still holds. On a shared NATS, elect as usual.
const leaderElect = (configured: boolean) => (process.env.NAVARCH_LEADER_ELECT ? configured : nats === undefined);
// The ingress controller reports where it listens (it keeps retrying a busy port, see its log).
let ingressLine = ingressOptions.ingressAddr ? `not listening yet on ${ingressOptions.ingressAddr} (see the log)` : "off (NAVARCH_INGRESS_ADDR is empty)";
let ingressListening!: () => void;
const ingressReady = new Promise<void>((resolve) => (ingressListening = resolve));
const services = ([
  ["controller-manager", runControllerManager, controllerOptions],
  ["scheduler", runScheduler, schedulerOptions],
  ["replication", runReplication, replicationOptions],
  ["endpoints", runEndpoints, endpointsOptions],
  ["ingress", runIngress, ingressOptions],
] as const).map(([name, run, options]) =>
  (run as (p: object) => Promise<void>)({
    nc,
    logger: logger.child({ component: name }),
    signal: abort.signal,
    shared,
    options: { ...options, leaderElect: leaderElect(options.leaderElect), kvReplicas: common.kvReplicas },
    onListening: (a: { host: string; port: number }) => {
      ingressLine = `http://${a.host || "0.0.0.0"}:${a.port}`;
      ingressListening();
    },
  }).catch((err: unknown) => {
    logger.fatal({ err }, `${name} failed`);
    void shutdown(1);
  }),
);

// One node on this machine's Docker engine makes the local cluster a working one-node cluster.
let nodeLine = "none (NAVARCH_NODE_AGENT=false)";
let agent: Promise<void> | undefined;
if (local.nodeAgent) {
  const docker = await ensureDockerEngine(agentOptions.dockerSocket, path.join(home, "logs"));
  if (!docker.info) {
    nodeLine = `none: ${docker.why}; pods will stay Pending`;
  } else {
    let ready!: () => void;
    const registered = new Promise<void>((resolve) => (ready = resolve));
    agent = runNodeAgent({
      nc,
      logger: logger.child({ component: "node-agent" }),
      signal: abort.signal,
      options: { ...agentOptions, kvReplicas: common.kvReplicas },
      onReady: () => ready(),
    }).catch((err: unknown) => {
      logger.fatal({ err }, "node agent failed");
      void shutdown(1);
    });
    await Promise.race([registered, new Promise((r) => setTimeout(r, 30_000))]);
    nodeLine = `${agentOptions.nodeName} (Docker ${docker.info.version}${docker.started ? ", dockerd started by navarch" : ""})`;
  }
}

if (ingressOptions.ingressAddr) await Promise.race([ingressReady, new Promise((r) => setTimeout(r, 5_000))]);
const configPath = clientConfigPath(home);
const { issued } = await ensureAdminConfig(nc, configPath, gateway.address);

console.log(`Navarch control plane
  NATS:    ${natsUrl}${nats ? ` (embedded nats-server ${nats.version}, JetStream store ${home}/nats)` : ""}
  API:     ${gateway.address} (gRPC)
  Node:    ${nodeLine}
  Ingress: ${ingressLine}
  Config:  ${configPath}${issued ? " (new admin token written)" : ""}
  Logs:    ${logFile === "-" ? "stderr" : logFile}
  Try:     navctl get namespaces
Navarch is ready: api=${gateway.address} config=${configPath}`);

let stopping = false;
async function shutdown(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down");
  abort.abort();
  await agent;
  await Promise.all(services);
  await gateway.stop();
  await shared.stop();
  await nc.drain().catch(() => undefined);
  await nats?.stop();
  // Like k3s: the workloads outlive the cluster's processes, and the next start adopts them.
  const left = agent ? " Pod containers keep running (the next start adopts them); npm run killall removes them, the pods' network and the nftables tables." : "";
  console.log(`${code === 0 ? "Navarch stopped." : "Navarch stopped after an error; see the log."}${left}`);
  process.exit(code);
}
// Keep listening while stopping: Ctrl-C on `npm start` reaches this process twice (from the
// terminal and forwarded by npm), and a second default SIGINT would kill us mid-shutdown and
// leave the nats-server behind. A stuck shutdown still ends after SHUTDOWN_TIMEOUT_MS.
const SHUTDOWN_TIMEOUT_MS = 20_000;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (!stopping) setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS).unref();
    void shutdown();
  });
}
