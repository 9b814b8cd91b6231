// The endpoints service's options, declared once (env var, default, doc).
import { asInt, option } from "@navarch/config";
import { LEADER_ELECTION_OPTIONS } from "@navarch/controller";

export const ENDPOINTS_OPTIONS = {
  ...LEADER_ELECTION_OPTIONS,
  endpointsWorkers: option("NAVARCH_ENDPOINTS_WORKERS", 2, asInt, "Services whose Endpoints are computed at once"),
  endpointsResyncSeconds: option("NAVARCH_ENDPOINTS_RESYNC_SECONDS", 300, asInt, "recompute every Service's Endpoints this often (0: never; changes are followed as they happen)"),
  addressRepairSeconds: option("NAVARCH_ADDRESS_REPAIR_SECONDS", 60, asInt, "check every Service address claim (navarch-ip-allocations) this often"),
  addressRepairGraceSeconds: option("NAVARCH_ADDRESS_REPAIR_GRACE_SECONDS", 30, asInt, "a claim no Service uses is released only once it is older than this"),
};

export type EndpointsOptions = {
  [K in keyof typeof ENDPOINTS_OPTIONS]: (typeof ENDPOINTS_OPTIONS)[K]["default"];
};

export function defaultOptions(): EndpointsOptions {
  return Object.fromEntries(Object.entries(ENDPOINTS_OPTIONS).map(([k, spec]) => [k, spec.default])) as EndpointsOptions;
}
