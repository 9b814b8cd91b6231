export * from "./clock.js";
export * from "./controller.js";
export * from "./error-policy.js";
export * from "./lease.js";
export * from "./logger.js";
export * from "./machine.js";
export * from "./shared-informers.js";
export * from "./workqueue.js";
export * from "./elected-run.js";
export {
  CLUSTER_SCOPED_EVENT_NAMESPACE,
  COMBINED_PREFIX,
  EVENT_DEDUPE_WINDOW_MS,
  correlatedEventName,
  type InvolvedObject,
  type ObjectEventType,
} from "./events/correlator.js";
export { DEFAULT_EVENT_QUEUE, DEFAULT_EVENT_WRITES_IN_FLIGHT, ObjectEventRecorder, type EventRecorderOptions } from "./events/recorder.js";
export type { SpamLimitOptions } from "./events/spam-limit.js";
export * from "./service-main.js";
