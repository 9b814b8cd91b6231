import { asBool, asInt, asString, option } from "@navarch/config";

export const ALL_IN_ONE_OPTIONS = {
  natsHost: option("NAVARCH_NATS_HOST", "127.0.0.1", asString, "address the embedded nats-server listens on"),
  natsPort: option("NAVARCH_NATS_PORT", 4222, asInt, "port of the embedded nats-server (0 picks a free port)"),
  nodeAgent: option("NAVARCH_NODE_AGENT", true, asBool, "also run a node agent on this machine's Docker engine (starting dockerd if it is installed but not running)"),
  natsServer: option("NAVARCH_NATS_SERVER", "", asString, "nats-server binary for the embedded server (default: found on PATH or in ~/.navarch/tools/bin)"),
};
