// What the scheduler needs to know about a pod, computed once per scheduling attempt (or once per
// bound pod for the node cache) so that checking a thousand nodes never re-parses a quantity.
//
// Requests follow Kubernetes (resource.PodRequests): a container that sets only a limit requests
// the limit; a pod requests the larger of the sum over its containers and the largest init
// container (init containers run one at a time, before the others). The "non-zero" requests are
// what scorers use: a container that requests no cpu counts as 100m and no memory as 200Mi, so
// pods without requests still spread instead of all landing on the emptiest-looking node.
import { bytesOf, milliCpu, type Container, type NodeSelectorTerm, type Pod, type PreferredSchedulingTerm, type Toleration } from "@navarch/api";

export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export interface PodInfo {
  /** Store key <namespace>.<name>. */
  key: string;
  namespace: string;
  name: string;
  uid: string;
  milliCpu: number;
  memory: number;
  nonZeroMilliCpu: number;
  nonZeroMemory: number;
  /** "<protocol>/<hostPort>" of every container port with a hostPort. */
  hostPorts: string[];
  /** uid of the controller owner (ownerReferences[].controller), "" when none. */
  ownerUid: string;
  tolerations: Toleration[];
  nodeSelector: Record<string, string>;
  /** Required node affinity terms (ORed); undefined when the pod has none. */
  requiredTerms: NodeSelectorTerm[] | undefined;
  preferredTerms: PreferredSchedulingTerm[];
  priority: number;
}

/** A container's request of one resource in its unit, a limit standing in for a missing request. */
function request(c: Container, resource: "cpu" | "memory"): number {
  const text = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
  if (text === undefined || text === "") return 0;
  return resource === "cpu" ? milliCpu(text) : bytesOf(text);
}

interface Totals {
  cpu: number;
  memory: number;
  nonZeroCpu: number;
  nonZeroMemory: number;
}

function totals(containers: Container[]): Totals {
  const t: Totals = { cpu: 0, memory: 0, nonZeroCpu: 0, nonZeroMemory: 0 };
  for (const c of containers) {
    const cpu = request(c, "cpu");
    const memory = request(c, "memory");
    t.cpu += cpu;
    t.memory += memory;
    t.nonZeroCpu += cpu || DEFAULT_MILLI_CPU_REQUEST;
    t.nonZeroMemory += memory || DEFAULT_MEMORY_REQUEST;
  }
  return t;
}

/** The largest single init container, per resource (they run one after another). */
function largestInit(containers: Container[]): Totals {
  const t: Totals = { cpu: 0, memory: 0, nonZeroCpu: 0, nonZeroMemory: 0 };
  for (const c of containers) {
    const one = totals([c]);
    t.cpu = Math.max(t.cpu, one.cpu);
    t.memory = Math.max(t.memory, one.memory);
    t.nonZeroCpu = Math.max(t.nonZeroCpu, one.nonZeroCpu);
    t.nonZeroMemory = Math.max(t.nonZeroMemory, one.nonZeroMemory);
  }
  return t;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}.${pod.metadata?.name ?? ""}`;
}

export function podInfoOf(pod: Pod): PodInfo {
  const spec = pod.spec;
  const app = totals(spec?.containers ?? []);
  const init = largestInit(spec?.initContainers ?? []);
  const hostPorts: string[] = [];
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) hostPorts.push(`${p.protocol || "TCP"}/${p.hostPort}`);
    }
  }
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
  const nodeAffinity = spec?.affinity?.nodeAffinity;
  const required = nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return {
    key: podKey(pod),
    namespace: pod.metadata?.namespace ?? "",
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid ?? "",
    milliCpu: Math.max(app.cpu, init.cpu),
    memory: Math.max(app.memory, init.memory),
    nonZeroMilliCpu: Math.max(app.nonZeroCpu, init.nonZeroCpu),
    nonZeroMemory: Math.max(app.nonZeroMemory, init.nonZeroMemory),
    hostPorts,
    ownerUid: owner?.uid ?? "",
    tolerations: spec?.tolerations ?? [],
    nodeSelector: spec?.nodeSelector ?? {},
    requiredTerms: required ? required.nodeSelectorTerms : undefined,
    preferredTerms: nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [],
    priority: spec?.priority ?? 0,
  };
}

/** Succeeded and Failed pods hold no resources on their node. */
export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}
