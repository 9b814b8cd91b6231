// Event and condition reasons of the Job controller, as Kubernetes names them.

/** Normal: a pod was created for the job ("Created pod: pi-x2b4k"). */
export const SuccessfulCreate = "SuccessfulCreate";
/** Normal: a pod of the job was deleted ("Deleted pod: pi-x2b4k"). */
export const SuccessfulDelete = "SuccessfulDelete";
/** Warning: creating a pod failed. */
export const FailedCreate = "FailedCreate";
/** Warning: deleting a pod failed. */
export const FailedDelete = "FailedDelete";
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
