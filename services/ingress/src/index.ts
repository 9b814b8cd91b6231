export { run, LEASE_NAME, type RunParams } from "./run.js";
export { INGRESS_OPTIONS, type IngressOptions } from "./options.js";
