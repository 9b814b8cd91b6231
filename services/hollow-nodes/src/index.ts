export { run, nodeName, type RunParams, type HollowNode, type HollowStats } from "./run.js";
export { HOLLOW_NODES_OPTIONS, defaultOptions, type HollowNodesOptions } from "./options.js";
