// Kubernetes' rule for whether a toleration tolerates a taint (v1 Toleration.ToleratesTaint):
// the effect must match unless the toleration leaves it empty; the key must match unless the
// toleration leaves it empty (with Exists: every taint); Exists ignores the value, Equal (or no
// operator) needs the same value.
import type { Taint, Toleration } from "@navarch/api";

export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";

export function tolerates(t: Toleration, taint: Pick<Taint, "key" | "value" | "effect">): boolean {
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

export function toleratedByAny(tolerations: readonly Toleration[], taint: Pick<Taint, "key" | "value" | "effect">): boolean {
  for (const t of tolerations) if (tolerates(t, taint)) return true;
  return false;
}

/** How kube-scheduler names a taint in its messages: {key: value}. */
export function taintText(taint: Pick<Taint, "key" | "value">): string {
  return `{${taint.key}: ${taint.value ?? ""}}`;
}
