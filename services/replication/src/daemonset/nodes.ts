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
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint, Toleration } from "@navarch/api";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure";

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
  const untolerated = taints.filter((t) => !tolerations.some((tol) => tolerates(tol, t)));
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

/** Kubernetes' Toleration.ToleratesTaint. */
export function tolerates(tol: Toleration, taint: Taint): boolean {
  if (tol.effect !== "" && tol.effect !== taint.effect) return false;
  if (tol.key !== "" && tol.key !== taint.key) return false;
  switch (tol.operator) {
    case "Exists":
      return true;
    case "":
    case "Equal":
      return tol.value === taint.value;
    default:
      return false;
  }
}

function matchesNodeSelector(node: Node, spec: PodSpec): boolean {
  const labels = node.metadata?.labels ?? {};
  return Object.entries(spec.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
}

/** requiredDuringSchedulingIgnoredDuringExecution: any term matches (a term: all of its requirements). */
function matchesRequiredAffinity(node: Node, spec: PodSpec): boolean {
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((term) => matchesTerm(node, term));
}

function matchesTerm(node: Node, term: NodeSelectorTerm): boolean {
  // A term with no requirements matches nothing (Kubernetes' nodeSelectorTerms semantics).
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  const fields: Record<string, string> = { "metadata.name": node.metadata?.name ?? "" };
  return term.matchExpressions.every((r) => matchesRequirement(labels, r)) && term.matchFields.every((r) => matchesRequirement(fields, r));
}

export function matchesRequirement(values: Record<string, string>, r: NodeSelectorRequirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, r.key);
  const v = values[r.key];
  switch (r.operator) {
    case "In":
      return has && r.values.includes(v!);
    case "NotIn":
      return !has || !r.values.includes(v!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      // Both sides integers (Kubernetes parses them with ParseInt); anything else never matches.
      const integer = /^[+-]?\d+$/;
      if (!has || r.values.length !== 1 || !integer.test(v!) || !integer.test(r.values[0]!)) return false;
      const a = Number(v);
      const b = Number(r.values[0]);
      return r.operator === "Gt" ? a > b : a < b;
    }
    default:
      return false;
  }
}
