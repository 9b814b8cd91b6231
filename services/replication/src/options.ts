// The replication service's options, declared once (env var, default, doc).
import { asBool, asInt, option } from "@navarch/config";
import { LEADER_ELECTION_OPTIONS } from "@navarch/controller";
import { DEFAULT_TOLERATION_SECONDS } from "@navarch/api";

export const REPLICATION_OPTIONS = {
  ...LEADER_ELECTION_OPTIONS,
  replicationEnabled: option("NAVARCH_REPLICATION", true, asBool, "run the replication controllers in this process (false: a replication service elsewhere on the same NATS runs them)"),
  replicaSetWorkers: option("NAVARCH_REPLICASET_WORKERS", 5, asInt, "replica sets synced at once"),
  deploymentWorkers: option("NAVARCH_DEPLOYMENT_WORKERS", 5, asInt, "deployments synced at once"),
  daemonSetWorkers: option("NAVARCH_DAEMONSET_WORKERS", 2, asInt, "daemon sets synced at once"),
  jobWorkers: option("NAVARCH_JOB_WORKERS", 5, asInt, "jobs synced at once"),
  jobPodFailureBackoffSeconds: option("NAVARCH_JOB_POD_FAILURE_BACKOFF_SECONDS", 10, asInt, "a Job waits this long after its first failed pod before a replacement, doubling with each failure (Kubernetes: 10)"),
  jobPodFailureBackoffMaxSeconds: option("NAVARCH_JOB_POD_FAILURE_BACKOFF_MAX_SECONDS", 360, asInt, "the longest that wait gets (Kubernetes: 360)"),
  garbageCollectorWorkers: option("NAVARCH_GC_WORKERS", 4, asInt, "objects the garbage collector handles at once"),
  // The same options as the gateway's (same names, same meaning): the pods the controllers create
  // are written straight to the store and get the gateway's pod defaults here.
  defaultNotReadyTolerationSeconds: option<number>("NAVARCH_DEFAULT_NOT_READY_TOLERATION_SECONDS", DEFAULT_TOLERATION_SECONDS, asInt, "tolerationSeconds of the node.kubernetes.io/not-ready:NoExecute toleration added to pods without one"),
  defaultUnreachableTolerationSeconds: option<number>("NAVARCH_DEFAULT_UNREACHABLE_TOLERATION_SECONDS", DEFAULT_TOLERATION_SECONDS, asInt, "tolerationSeconds of the node.kubernetes.io/unreachable:NoExecute toleration added to pods without one: how long a lost node's pods wait before they are evicted"),
};

export type ReplicationOptions = {
  [K in keyof typeof REPLICATION_OPTIONS]: (typeof REPLICATION_OPTIONS)[K]["default"];
};

export function defaultOptions(): ReplicationOptions {
  return Object.fromEntries(Object.entries(REPLICATION_OPTIONS).map(([k, spec]) => [k, spec.default])) as ReplicationOptions;
}
