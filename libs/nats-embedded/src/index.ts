export { findNatsServer, natsServerVersion } from "./find.js";
export { readServerInfo, type NatsServerInfo } from "./info.js";
export { NatsServerProcess, type NatsServerOptions, type StopOptions } from "./nats-server.js";
export { versionAtLeast } from "./version.js";
