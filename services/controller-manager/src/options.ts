// The controller-manager's options, declared once (env var, default, doc).
import { asInt, option } from "@navarch/config";
import { LEADER_ELECTION_OPTIONS } from "@navarch/controller";

export const CONTROLLER_MANAGER_OPTIONS = {
  ...LEADER_ELECTION_OPTIONS,
  namespaceWorkers: option("NAVARCH_NAMESPACE_WORKERS", 2, asInt, "namespaces emptied at once"),
  namespaceResyncSeconds: option("NAVARCH_NAMESPACE_RESYNC_SECONDS", 300, asInt, "re-examine every namespace this often (0: never)"),
  nodeMonitorGraceSeconds: option("NAVARCH_NODE_MONITOR_GRACE_SECONDS", 4, asInt, "a node whose heartbeat is older than this becomes Ready=Unknown"),
};

export type ControllerManagerOptions = {
  [K in keyof typeof CONTROLLER_MANAGER_OPTIONS]: (typeof CONTROLLER_MANAGER_OPTIONS)[K]["default"];
};

export function defaultOptions(): ControllerManagerOptions {
  return Object.fromEntries(Object.entries(CONTROLLER_MANAGER_OPTIONS).map(([k, spec]) => [k, spec.default])) as ControllerManagerOptions;
}
