// Where a pod may run, by Kubernetes' rules, in one place for every component that decides it:
// the scheduler (feasibility, preferences), the daemon set controller (which nodes get a daemon),
// the taint eviction controller (how long a pod stays on a tainted node), and the pod defaults
// that the gateway applies to a client's pod and the replication controllers to the pods they
// create from templates (written straight to the store, so they would otherwise miss them).
import type { Container, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint, Toleration } from "./generated/index.js";

/** Taints the control plane puts on nodes (Kubernetes' well-known node.kubernetes.io/* keys). */
export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure";

/** What a toleration is matched against (a taint of a node, or one a check stands for). */
export type TaintLike = Pick<Taint, "key" | "value" | "effect">;

/**
 * Kubernetes' Toleration.ToleratesTaint: the effect must match unless the toleration leaves it
 * empty; the key must match unless the toleration leaves it empty (with Exists: every taint);
 * Exists ignores the value, Equal (or no operator) needs the same value; any other operator
 * tolerates nothing.
 */
export function tolerates(t: Toleration, taint: TaintLike): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator) {
    case "Exists":
      return true;
    case "":
    case "Equal":
      return (t.value ?? "") === (taint.value ?? "");
    default:
      return false;
  }
}

export function toleratedByAny(tolerations: readonly Toleration[], taint: TaintLike): boolean {
  for (const t of tolerations) if (tolerates(t, taint)) return true;
  return false;
}

/**
 * How long a pod may stay on a node with this taint, in seconds: 0 when no toleration matches,
 * the smallest tolerationSeconds among the matching ones (0 or less: not at all), or Infinity
 * when none of them sets seconds - as Kubernetes' getMinTolerationTime.
 */
export function toleratedSeconds(tolerations: readonly Toleration[], taint: TaintLike): number {
  const matching = tolerations.filter((t) => tolerates(t, taint));
  if (matching.length === 0) return 0;
  let min = Infinity;
  for (const t of matching) {
    if (t.tolerationSeconds === undefined) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min;
}

/** What a node selector term is evaluated against. */
export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case "In":
      return value !== undefined && r.values.includes(value);
    case "NotIn":
      return value === undefined || !r.values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      // Both sides integers (Kubernetes parses them with ParseInt); anything else never matches.
      if (value === undefined || r.values.length !== 1) return false;
      const have = parseInteger(value);
      const bound = parseInteger(r.values[0]!);
      if (have === undefined || bound === undefined) return false;
      return r.operator === "Gt" ? have > bound : have < bound;
    }
    default:
      return false;
  }
}

function parseInteger(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * One node selector term (required or preferred node affinity) against a node, as Kubernetes
 * evaluates it: its requirements are ANDed; a term without requirements matches no node;
 * matchFields knows only metadata.name. Operators: In, NotIn, Exists, DoesNotExist, Gt and Lt.
 */
export function termMatches(term: NodeSelectorTerm | undefined, node: NodeFacts): boolean {
  const exprs = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) {
    const has = Object.prototype.hasOwnProperty.call(node.labels, r.key);
    if (!requirementMatches(r, has ? node.labels[r.key] : undefined)) return false;
  }
  for (const r of fields) {
    if (r.key !== "metadata.name" || !requirementMatches(r, node.name)) return false;
  }
  return true;
}

/** Terms are alternatives (ORed); no terms match no node. */
export function anyTermMatches(terms: readonly NodeSelectorTerm[], node: NodeFacts): boolean {
  for (const t of terms) if (termMatches(t, node)) return true;
  return false;
}

/**
 * Seconds a pod stays bound to a not-ready / unreachable node unless it says otherwise
 * (Kubernetes: 300; here the aim is a lost node's pods running elsewhere within 10 s).
 */
export const DEFAULT_TOLERATION_SECONDS = 2;

/**
 * Kubernetes' DefaultTolerationSeconds: adds the not-ready and unreachable NoExecute tolerations
 * (operator Exists, with these seconds) that the pod lacks, so the taint eviction controller moves
 * it off a lost node after that long instead of at once. A toleration with the same or an empty
 * key and the NoExecute or an empty effect already covers one. Adding twice adds nothing.
 */
export function addDefaultTolerations(spec: PodSpec, notReadySeconds: number, unreachableSeconds: number): void {
  const covers = (key: string) => spec.tolerations.some((t) => (t.key === key || t.key === "") && (t.effect === "NoExecute" || t.effect === ""));
  for (const [key, seconds] of [
    [TAINT_NOT_READY, notReadySeconds],
    [TAINT_UNREACHABLE, unreachableSeconds],
  ] as const) {
    if (!covers(key)) spec.tolerations.push({ key, operator: "Exists", value: "", effect: "NoExecute", tolerationSeconds: seconds });
  }
}

/**
 * As Kubernetes defaults a pod (not a template): a resource with a limit and no request requests
 * the limit, so the scheduler packs by what the container may actually use.
 */
export function requestsFromLimits(spec: PodSpec): void {
  const containers: Container[] = [...spec.initContainers, ...spec.containers];
  for (const c of containers) {
    if (!c.resources) continue;
    for (const [name, limit] of Object.entries(c.resources.limits)) {
      if (!(name in c.resources.requests)) c.resources.requests[name] = limit;
    }
  }
}
