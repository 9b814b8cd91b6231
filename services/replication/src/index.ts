export { run, LEASE_NAME, type RunParams } from "./run.js";
export { REPLICATION_OPTIONS, type ReplicationOptions } from "./options.js";
