// The controller-manager's options, declared once (env var, default, doc).
import { asBool, asInt, asString, option } from "@navarch/config";

export const CONTROLLER_MANAGER_OPTIONS = {
  leaderElect: option("NAVARCH_LEADER_ELECT", true, asBool, "run controllers only while holding the Lease navarch-system/controller-manager"),
  leaderElectIdentity: option("NAVARCH_LEADER_ELECT_IDENTITY", "", asString, "this candidate's name in the lease (default: <hostname>_<random>)"),
  leaseDurationSeconds: option("NAVARCH_LEADER_ELECT_LEASE_DURATION", 15, asInt, "seconds a standby waits after the leader's last renewal before taking over"),
  renewDeadlineSeconds: option("NAVARCH_LEADER_ELECT_RENEW_DEADLINE", 10, asInt, "seconds the leader keeps trying to renew before it stops its controllers"),
  retryPeriodSeconds: option("NAVARCH_LEADER_ELECT_RETRY_PERIOD", 2, asInt, "seconds between renewals and acquisition attempts"),
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
