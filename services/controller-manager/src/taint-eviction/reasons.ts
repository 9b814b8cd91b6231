// What the taint eviction controller records: Kubernetes' reason and message, so the event reads
// the same in `describe pod` as on a Kubernetes cluster.
export const EVENT_TAINT_MANAGER_EVICTION = "TaintManagerEviction";
export const EVENT_COMPONENT = "taint-eviction-controller";

export function evictionMessage(namespace: string, name: string): string {
  return `Marking for deletion Pod ${namespace}/${name}`;
}

export const NO_EXECUTE = "NoExecute";
