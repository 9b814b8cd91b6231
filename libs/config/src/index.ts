export * from "./client-config.js";
export * from "./options.js";
export * from "./logger.js";
