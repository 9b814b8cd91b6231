export { run, LEASE_NAME, type RunParams } from "./run.js";
export { ENDPOINTS_OPTIONS, type EndpointsOptions } from "./options.js";
