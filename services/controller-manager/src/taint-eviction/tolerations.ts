// Whether a pod tolerates a taint, by Kubernetes' rules (ToleratesTaint): the effect must match
// (an empty effect matches all); operator Exists matches any value of the key (an empty key with
// Exists matches every taint); Equal (or empty) needs key and value to match.
import type { Taint, Toleration } from "@navarch/api";

export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== "" && toleration.effect !== taint.effect) return false;
  if (toleration.operator === "Exists") return toleration.key === "" || toleration.key === taint.key;
  return toleration.key === taint.key && toleration.value === taint.value;
}

/**
 * How long a pod may stay on a node with this taint, in seconds: 0 when no toleration matches,
 * the smallest tolerationSeconds among the matching ones (0 or less: not at all), or Infinity
 * when none of them sets seconds - as Kubernetes' getMinTolerationTime.
 */
export function toleratedSeconds(tolerations: readonly Toleration[], taint: Taint): number {
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
