// The names the node lifecycle controller writes: the Ready condition's reasons, the taints it
// manages (Kubernetes' well-known node taints, so pods' tolerations read the same) and the
// reasons of the Events it records on Nodes.

/** Reasons of the Ready condition this controller writes. */
export const READY_REASONS = {
  ready: "NodeAgentReady",
  stale: "NodeStatusUnknown",
  never: "NodeStatusNeverUpdated",
} as const;

// Ready=Unknown (heartbeat stopped) -> unreachable; Ready=False -> not-ready. One definition, in @navarch/api.
export { TAINT_NOT_READY, TAINT_UNREACHABLE } from "@navarch/api";
export const NO_EXECUTE = "NoExecute";

/** Node events, with Kubernetes' reasons and messages ("Node n1 status is now: NodeNotReady"). */
export const EVENT_NODE_READY = "NodeReady";
export const EVENT_NODE_NOT_READY = "NodeNotReady";

/** Who records them (Kubernetes: the node-controller). */
export const EVENT_COMPONENT = "node-controller";
