// What the pod status folder writes of its own: the Ready and ContainersReady conditions of a pod
// whose node is not ready (Kubernetes' node lifecycle controller MarkPodsNotReady), and the Event
// it records on such a pod (Kubernetes' reason and message, from the node-controller).

export const REASON_NODE_NOT_READY = "NodeNotReady";
export const MESSAGE_NODE_NOT_READY = "Node is not ready";
/** The conditions that say "send traffic here"; a node that is not ready cannot vouch for them. */
export const READINESS_CONDITIONS: readonly string[] = ["Ready", "ContainersReady"];
export const EVENT_COMPONENT = "node-controller";
