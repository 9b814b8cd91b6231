// Event reasons of the DaemonSet controller, as Kubernetes names them; the reasons of its pod
// events (SuccessfulCreate, FailedCreate, ...) are every pod owner's: pod-ownership/reasons.ts.

/** Warning: a daemon pod failed on its node and is killed to be replaced. */
export const FailedDaemonPod = "FailedDaemonPod";

/** The component named in Events this controller records. */
export const COMPONENT = "daemonset-controller";
