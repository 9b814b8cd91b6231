// Event reasons of the DaemonSet controller, as Kubernetes names them.

/** Normal: a daemon pod was created ("Created pod: fluentd-x2b4k"). */
export const SuccessfulCreate = "SuccessfulCreate";
/** Normal: a daemon pod was deleted ("Deleted pod: fluentd-x2b4k"). */
export const SuccessfulDelete = "SuccessfulDelete";
/** Warning: creating a daemon pod failed. */
export const FailedCreate = "FailedCreate";
/** Warning: deleting a daemon pod failed. */
export const FailedDelete = "FailedDelete";
/** Warning: a daemon pod failed on its node and is killed to be replaced. */
export const FailedDaemonPod = "FailedDaemonPod";

/** The component named in Events this controller records. */
export const COMPONENT = "daemonset-controller";
