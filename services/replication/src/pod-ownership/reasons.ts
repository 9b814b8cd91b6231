// Event reasons every pod owner records about its pod writes, as Kubernetes names them (the
// ReplicaSet, DaemonSet, Job and StatefulSet controllers use the same four).

/** Normal: a pod was created for the owner ("Created pod: web-abc12"). */
export const SuccessfulCreate = "SuccessfulCreate";
/** Normal: a pod of the owner was deleted ("Deleted pod: web-abc12"). */
export const SuccessfulDelete = "SuccessfulDelete";
/** Warning: creating a pod failed (a ReplicaSet's ReplicaFailure condition names it too). */
export const FailedCreate = "FailedCreate";
/** Warning: deleting a pod failed (a ReplicaSet's ReplicaFailure condition names it too). */
export const FailedDelete = "FailedDelete";

/** Why a pass could not create or delete a pod: the reason and message of its Warning event. */
export interface Failure {
  reason: string;
  message: string;
}
