export { run, type RunParams, type RunningAgent } from "./run.js";
export { NODE_AGENT_OPTIONS, defaultOptions, type NodeAgentOptions } from "./options.js";
