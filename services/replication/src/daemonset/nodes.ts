// Which nodes a daemon set runs on - pure predicates over a Node and the pod template, as
// Kubernetes' nodeShouldRunDaemonPod:
//
//   shouldRun              the node matches the template's nodeSelector and required node affinity,
//                          and the pod tolerates every NoSchedule and NoExecute taint of the node;
//   shouldContinueRunning  the same, but only NoExecute taints count: a NoSchedule taint added
//                          later keeps the pod where it runs (it is counted misscheduled).
//
// The daemon pod's tolerations include the ones the controller adds (daemonTolerations), so a
// not-ready, unreachable or cordoned node keeps its daemons, as in Kubernetes. Node conditions
// and capacity are not checked: a daemon pod is bound to its node directly and must run there.
import {
  anyTermMatches,
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  toleratedByAny,
  type Node,
  type PodSpec,
  type Taint,
  type Toleration,
} from "@navarch/api";

const exists = (key: string, effect: string): Toleration => ({ key, operator: "Exists", value: "", effect, tolerationSeconds: undefined });

/**
 * The tolerations every daemon pod gets (Kubernetes' AddOrUpdateDaemonPodTolerations): it stays
 * on a node that is not ready or unreachable (NoExecute, for ever: no tolerationSeconds), and it
 * is placed on a cordoned node or one under resource pressure (NoSchedule).
 */
export const DAEMON_TOLERATIONS: readonly Toleration[] = [
  exists(TAINT_NOT_READY, "NoExecute"),
  exists(TAINT_UNREACHABLE, "NoExecute"),
  exists(TAINT_DISK_PRESSURE, "NoSchedule"),
  exists(TAINT_MEMORY_PRESSURE, "NoSchedule"),
  exists(TAINT_PID_PRESSURE, "NoSchedule"),
  exists(TAINT_UNSCHEDULABLE, "NoSchedule"),
];

/** The template's tolerations plus the daemon ones it does not already have (same key and effect). */
export function daemonTolerations(own: readonly Toleration[]): Toleration[] {
  const out = [...own];
  for (const t of DAEMON_TOLERATIONS) {
    if (!out.some((o) => o.key === t.key && o.effect === t.effect)) out.push({ ...t });
  }
  return out;
}

export interface Placement {
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

export function placement(node: Node, spec: PodSpec | undefined): Placement {
  if (!spec || !matchesNodeSelector(node, spec) || !matchesRequiredAffinity(node, spec)) {
    return { shouldRun: false, shouldContinueRunning: false };
  }
  const tolerations = daemonTolerations(spec.tolerations ?? []);
  const taints = nodeTaints(node);
  const untolerated = taints.filter((t) => !toleratedByAny(tolerations, t));
  return {
    shouldRun: !untolerated.some((t) => t.effect === "NoSchedule" || t.effect === "NoExecute"),
    shouldContinueRunning: !untolerated.some((t) => t.effect === "NoExecute"),
  };
}

/** The node's taints; a cordoned node (spec.unschedulable) has the unschedulable taint, as in Kubernetes. */
function nodeTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  if (node.spec?.unschedulable && !taints.some((t) => t.key === TAINT_UNSCHEDULABLE)) {
    taints.push({ key: TAINT_UNSCHEDULABLE, value: "", effect: "NoSchedule", timeAdded: "" });
  }
  return taints;
}

function matchesNodeSelector(node: Node, spec: PodSpec): boolean {
  const labels = node.metadata?.labels ?? {};
  return Object.entries(spec.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
}

/** requiredDuringSchedulingIgnoredDuringExecution: any term matches (a term: all of its requirements). */
function matchesRequiredAffinity(node: Node, spec: PodSpec): boolean {
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return anyTermMatches(required.nodeSelectorTerms, { name: node.metadata?.name ?? "", labels: node.metadata?.labels ?? {} });
}
