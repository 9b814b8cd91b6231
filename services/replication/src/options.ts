// The replication service's options, declared once (env var, default, doc).
import { asBool, asInt, option } from "@navarch/config";
import { LEADER_ELECTION_OPTIONS } from "@navarch/controller";

export const REPLICATION_OPTIONS = {
  ...LEADER_ELECTION_OPTIONS,
  replicationEnabled: option("NAVARCH_REPLICATION", true, asBool, "run the replication controllers in this process (false: a replication service elsewhere on the same NATS runs them)"),
  replicaSetWorkers: option("NAVARCH_REPLICASET_WORKERS", 5, asInt, "replica sets synced at once"),
  deploymentWorkers: option("NAVARCH_DEPLOYMENT_WORKERS", 5, asInt, "deployments synced at once"),
};

export type ReplicationOptions = {
  [K in keyof typeof REPLICATION_OPTIONS]: (typeof REPLICATION_OPTIONS)[K]["default"];
};

export function defaultOptions(): ReplicationOptions {
  return Object.fromEntries(Object.entries(REPLICATION_OPTIONS).map(([k, spec]) => [k, spec.default])) as ReplicationOptions;
}
