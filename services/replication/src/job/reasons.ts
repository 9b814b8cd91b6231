// Event and condition reasons of the Job controller, as Kubernetes names them; the reasons of its
// pod events (SuccessfulCreate, FailedCreate, ...) are every pod owner's: pod-ownership/reasons.ts.

/** Normal: the job completed (event). */
export const Completed = "Completed";

/** Failed condition (and Warning event): more pod failures than backoffLimit. */
export const BackoffLimitExceeded = "BackoffLimitExceeded";
/** Failed condition (and Warning event): running longer than activeDeadlineSeconds. */
export const DeadlineExceeded = "DeadlineExceeded";
/** Complete condition: enough pods succeeded. */
export const CompletionsReached = "CompletionsReached";
/** Suspended condition True / False. */
export const JobSuspended = "JobSuspended";
export const JobResumed = "JobResumed";

/** The component named in Events this controller records. */
export const COMPONENT = "job-controller";
