export * from "./connect.js";
export * from "./keys.js";
export * from "./resource-store.js";
export * from "./informer.js";
export * from "./deletion.js";
export * from "./tokens.js";
export * from "./node-channels.js";
export * from "./system-namespaces.js";
