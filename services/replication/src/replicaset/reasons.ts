// Condition names of the ReplicaSet controller, as Kubernetes names them; the reasons of its pod
// events (SuccessfulCreate, FailedCreate, ...) are every pod owner's: pod-ownership/reasons.ts.

/**
 * Condition: the controller could not create or delete pods (status True while it persists;
 * its reason is FailedCreate or FailedDelete).
 */
export const ReplicaFailure = "ReplicaFailure";

/** The component named in Events this controller records. */
export const COMPONENT = "replicaset-controller";
