export * from "./runtime.js";
