export { startGateway, type RunningGateway } from "./start.js";
export { GATEWAY_OPTIONS, type GatewayOptions } from "./options.js";
export { SYSTEM_NAMESPACES } from "@navarch/store";
export { ensureAdminConfig } from "./admin-token.js";
