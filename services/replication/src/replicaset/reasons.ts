// Event reasons and condition names of the ReplicaSet controller, as Kubernetes names them.

/** Normal: a pod was created for the replica set ("Created pod: web-abc12"). */
export const SuccessfulCreate = "SuccessfulCreate";
/** Normal: a pod was deleted for the replica set ("Deleted pod: web-abc12"). */
export const SuccessfulDelete = "SuccessfulDelete";
/** Warning: creating a pod failed. Also the ReplicaFailure condition's reason. */
export const FailedCreate = "FailedCreate";
/** Warning: deleting a pod failed. Also the ReplicaFailure condition's reason. */
export const FailedDelete = "FailedDelete";

/** Condition: the controller could not create or delete pods (status True while it persists). */
export const ReplicaFailure = "ReplicaFailure";

/** The component named in Events this controller records. */
export const COMPONENT = "replicaset-controller";
