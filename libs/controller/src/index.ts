export * from "./clock.js";
export * from "./controller.js";
export * from "./error-policy.js";
export * from "./lease.js";
export * from "./logger.js";
export * from "./machine.js";
export * from "./shared-informers.js";
export * from "./workqueue.js";
