export * from "./errors.js";
export * from "./kinds.js";
export * from "./labels.js";
export * from "./names.js";
export * from "./quantity.js";
export * from "./schema.js";
export * from "./manifest.js";
export * from "./generated/index.js";
export { protoMetadata as apiProtoMetadata } from "./generated/navarch/api/v1/api.js";
