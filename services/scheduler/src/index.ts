export { run, LEASE_NAME, type RunParams } from "./run.js";
export { SCHEDULER_OPTIONS, type SchedulerOptions } from "./options.js";
export { Scheduler, DEFAULT_SCHEDULER_NAME, type SchedulerConfig, type SchedulerStats } from "./scheduler.js";
export { findPlacement, feasibleNodesToFind, PROFILES, CHECKS, type ProfileName } from "./stack.js";
