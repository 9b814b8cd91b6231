// A ranker: a pure function of the pod and one feasible node that gives the node a score. Scores
// end up in 0..100 (MaxNodeScore in Kubernetes); rankers whose raw value only means something
// relative to the other nodes (counts, affinity weights) map the raw values of all feasible nodes
// into 0..100 with `normalize`. The profile (stack.ts) multiplies each by its weight and adds up.
import type { NodeInfo } from "../node-info.js";
import type { PodInfo } from "../pod-info.js";

export const MAX_SCORE = 100;

export interface Ranker {
  readonly name: string;
  score(pod: PodInfo, node: NodeInfo): number;
  /** Rewrites the raw scores of every feasible node (same order) into 0..100. */
  normalize?(scores: number[]): void;
}

/** The share of `allocatable` that `requested` is, as 0..1 (1 when nothing is allocatable). */
export function fraction(requested: number, allocatable: number): number {
  if (allocatable <= 0) return 1;
  return Math.min(1, requested / allocatable);
}

/** Raw -> 0..100 relative to the largest raw score (all 0 stay 0). */
export function normalizeToMax(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  for (let i = 0; i < scores.length; i++) {
    if (max === 0) scores[i] = reverse ? MAX_SCORE : 0;
    else {
      const s = Math.floor((MAX_SCORE * scores[i]!) / max);
      scores[i] = reverse ? MAX_SCORE - s : s;
    }
  }
}
