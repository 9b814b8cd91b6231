// Event reasons the scheduler records (kube-scheduler's).
export const SCHEDULED = "Scheduled";
export const FAILED_SCHEDULING = "FailedScheduling";
