// NodePorts: a hostPort (per protocol) can be used by one pod per node.
import type { Check } from "./check.js";

export const PORTS_CONFLICT = "node(s) didn't have free ports for the requested pod ports";

export const nodePorts: Check = {
  name: "NodePorts",
  check(pod, node) {
    for (const port of pod.hostPorts) if (node.usedPorts.has(port)) return PORTS_CONFLICT;
    return undefined;
  },
};
