export { run, LEASE_NAME, type RunParams } from "./run.js";
export { SCHEDULER_OPTIONS, type SchedulerOptions } from "./options.js";
