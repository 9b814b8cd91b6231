import { asInt, asString, option } from "@navarch/config";

export const ALL_IN_ONE_OPTIONS = {
  natsHost: option("NAVARCH_NATS_HOST", "127.0.0.1", asString, "address the embedded nats-server listens on"),
  natsPort: option("NAVARCH_NATS_PORT", 4222, asInt, "port of the embedded nats-server (0 picks a free port)"),
  natsServer: option("NAVARCH_NATS_SERVER", "", asString, "nats-server binary for the embedded server (default: found on PATH or in ~/.navarch/tools/bin)"),
};
