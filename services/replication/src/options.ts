// The replication service's options, declared once (env var, default, doc).
import { LEADER_ELECTION_OPTIONS } from "@navarch/controller";

export const REPLICATION_OPTIONS = {
  ...LEADER_ELECTION_OPTIONS,
};

export type ReplicationOptions = {
  [K in keyof typeof REPLICATION_OPTIONS]: (typeof REPLICATION_OPTIONS)[K]["default"];
};

export function defaultOptions(): ReplicationOptions {
  return Object.fromEntries(Object.entries(REPLICATION_OPTIONS).map(([k, spec]) => [k, spec.default])) as ReplicationOptions;
}
