// Names the Deployment controller shares with Kubernetes: annotations, the pod-template-hash
// label, condition types and reasons, event reasons.

/** Label on a replica set, its selector and its pod template: which template it runs. */
export const POD_TEMPLATE_HASH = "pod-template-hash";

/** The revision of a replica set (and, copied from its newest, of the deployment). */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
/** Earlier revisions a replica set had, comma separated (it comes back on a rollback). */
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
/** spec.replicas of the deployment when this replica set was last scaled (proportional scaling). */
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
/** spec.replicas + maxSurge of the deployment when this replica set was last scaled. */
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
/** Why a revision was made (`kubectl annotate ... kubernetes.io/change-cause=...`); rollout history shows it. */
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";

/** Deployment annotations not copied to its replica sets (they are the controller's, or the client's). */
export const NOT_COPIED_ANNOTATIONS = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  "deprecated.deployment.rollback.to",
]);

// Condition types.
export const Available = "Available";
export const Progressing = "Progressing";
export const ReplicaFailure = "ReplicaFailure";

// Condition reasons.
export const NewReplicaSetCreated = "NewReplicaSetCreated";
export const FoundNewReplicaSet = "FoundNewReplicaSet";
export const ReplicaSetUpdated = "ReplicaSetUpdated";
export const NewReplicaSetAvailable = "NewReplicaSetAvailable";
export const ProgressDeadlineExceeded = "ProgressDeadlineExceeded";
export const ReplicaSetCreateError = "ReplicaSetCreateError";
export const DeploymentPaused = "DeploymentPaused";
export const DeploymentResumed = "DeploymentResumed";
export const MinimumReplicasAvailable = "MinimumReplicasAvailable";
export const MinimumReplicasUnavailable = "MinimumReplicasUnavailable";

// Event reasons.
export const ScalingReplicaSet = "ScalingReplicaSet";
export const FailedCreate = "FailedCreate";
export const SelectingAll = "SelectingAll";

/** The component named in Events this controller records. */
export const COMPONENT = "deployment-controller";
