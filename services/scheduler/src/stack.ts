// The scheduling pipeline (Nomad's stack, kube-scheduler's framework): for one pod, find the
// feasible nodes, rank them, pick the best. Pure: the caller passes the nodes (the cache) and
// where to start looking; nothing here writes.
import { nodeAffinity } from "./checks/node-affinity.js";
import { nodePorts } from "./checks/node-ports.js";
import { nodeReady } from "./checks/node-ready.js";
import { nodeResourcesFit } from "./checks/node-resources-fit.js";
import { nodeUnschedulable } from "./checks/node-unschedulable.js";
import { taintToleration } from "./checks/taint-toleration.js";
import type { Check } from "./checks/check.js";
import type { NodeInfo } from "./node-info.js";
import type { PodInfo } from "./pod-info.js";
import { balancedAllocation } from "./rankers/balanced-allocation.js";
import { leastAllocated } from "./rankers/least-allocated.js";
import { mostAllocated } from "./rankers/most-allocated.js";
import { ownerSpread } from "./rankers/owner-spread.js";
import { preferNoScheduleTaints } from "./rankers/prefer-no-schedule.js";
import { preferredNodeAffinity } from "./rankers/preferred-node-affinity.js";
import type { Ranker } from "./rankers/ranker.js";

/**
 * Feasibility, in order; a node is out at the first check it fails, and that check's reasons
 * are what the node counts for in an unschedulable pod's message.
 */
export const CHECKS: readonly Check[] = [
  // A node that is not Ready would not start the pod (its agent is gone or not yet there).
  nodeReady,
  // A cordoned node takes nothing new: cheap, and what an operator most wants to hear about.
  nodeUnschedulable,
  // NoSchedule/NoExecute taints keep pods off unless tolerated (Kubernetes' order from here on).
  taintToleration,
  // nodeSelector and required node affinity: the user's own placement constraints.
  nodeAffinity,
  // hostPorts are one per node.
  nodePorts,
  // Requests against what is left; last, so a node that is wrong anyway is not called "full".
  nodeResourcesFit,
];

export interface WeightedRanker {
  ranker: Ranker;
  weight: number;
}

export type ProfileName = "spread" | "binpack";

/** Rankers and weights per profile (Kubernetes' default weights where it has the plugin). */
export const PROFILES: Record<ProfileName, readonly WeightedRanker[]> = {
  spread: [
    // Prefer the emptiest node: load spreads, a lost node loses few pods.
    { ranker: leastAllocated, weight: 1 },
    // Keep cpu and memory use in step so neither is stranded.
    { ranker: balancedAllocation, weight: 1 },
    // Replicas of one owner on different nodes.
    { ranker: ownerSpread, weight: 2 },
    // The pod's preferred node affinity.
    { ranker: preferredNodeAffinity, weight: 2 },
    // Avoid PreferNoSchedule taints the pod does not tolerate.
    { ranker: preferNoScheduleTaints, weight: 3 },
  ],
  binpack: [
    // Prefer the fullest node that fits, so whole nodes stay free; weighted to beat the others.
    { ranker: mostAllocated, weight: 3 },
    { ranker: balancedAllocation, weight: 1 },
    { ranker: preferredNodeAffinity, weight: 2 },
    { ranker: preferNoScheduleTaints, weight: 3 },
    // No owner spread: packing replicas together is the point of this profile.
  ],
};

/** Kubernetes' minFeasibleNodesToFind and minFeasibleNodesPercentageToFind. */
export const MIN_FEASIBLE_NODES = 100;
const MIN_PERCENTAGE = 5;

/**
 * How many feasible nodes are enough to stop looking (kube-scheduler's numFeasibleNodesToFind):
 * every node up to 100; beyond, `percentage` % of them (0: adaptive, 50% - nodes/125 %, at least
 * 5%), but never fewer than 100.
 */
export function feasibleNodesToFind(totalNodes: number, percentage = 0): number {
  if (totalNodes < MIN_FEASIBLE_NODES || percentage >= 100) return totalNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(MIN_PERCENTAGE, 50 - totalNodes / 125);
  return Math.max(MIN_FEASIBLE_NODES, Math.floor((totalNodes * pct) / 100));
}

export interface ScoreTerm {
  ranker: string;
  /** 0..100 */
  score: number;
  weight: number;
}

export interface Placed {
  fit: true;
  node: NodeInfo;
  score: number;
  breakdown: ScoreTerm[];
  feasible: number;
  evaluated: number;
  total: number;
  /** Where the next pod's search starts (the rotation keeps large clusters evenly searched). */
  nextStart: number;
}

export interface Unplaced {
  fit: false;
  total: number;
  /** reason -> how many nodes gave it */
  reasons: Map<string, number>;
  nextStart: number;
}

export interface PlacementInput {
  pod: PodInfo;
  nodes: readonly NodeInfo[];
  start: number;
  profile: readonly WeightedRanker[];
  percentageOfNodesToScore?: number;
  /** 0 <= x < 1; picks among equally good nodes (Kubernetes picks at random too). */
  random?: () => number;
  checks?: readonly Check[];
}

export function findPlacement(input: PlacementInput): Placed | Unplaced {
  const { pod, nodes, profile } = input;
  const checks = input.checks ?? CHECKS;
  const total = nodes.length;
  const start = total === 0 ? 0 : input.start % total;
  const want = feasibleNodesToFind(total, input.percentageOfNodesToScore);

  // 1. Feasibility: from the rotating start, until enough nodes fit or every node was tried.
  const feasible: NodeInfo[] = [];
  const reasons = new Map<string, number>();
  let evaluated = 0;
  while (evaluated < total && feasible.length < want) {
    const node = nodes[(start + evaluated) % total]!;
    evaluated++;
    const why = firstFailure(checks, pod, node);
    if (why === undefined) feasible.push(node);
    else if (typeof why === "string") reasons.set(why, (reasons.get(why) ?? 0) + 1);
    else for (const r of why) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  const nextStart = total === 0 ? 0 : (start + evaluated) % total;
  if (feasible.length === 0) return { fit: false, total, reasons, nextStart };

  // 2. Ranking: each ranker scores every feasible node, normalizes, and adds score x weight.
  const totals = new Array<number>(feasible.length).fill(0);
  const perRanker: number[][] = [];
  for (const { ranker, weight } of profile) {
    const scores = feasible.map((n) => ranker.score(pod, n));
    ranker.normalize?.(scores);
    perRanker.push(scores);
    for (let i = 0; i < scores.length; i++) totals[i]! += scores[i]! * weight;
  }

  // 3. Selection: the highest total; among equals, one at random (reservoir sampling).
  const random = input.random ?? Math.random;
  let best = 0;
  let ties = 1;
  for (let i = 1; i < totals.length; i++) {
    if (totals[i]! > totals[best]!) {
      best = i;
      ties = 1;
    } else if (totals[i] === totals[best] && random() * ++ties < 1) {
      best = i;
    }
  }
  return {
    fit: true,
    node: feasible[best]!,
    score: totals[best]!,
    breakdown: profile.map(({ ranker, weight }, r) => ({ ranker: ranker.name, score: perRanker[r]![best]!, weight })),
    feasible: feasible.length,
    evaluated,
    total,
    nextStart,
  };
}

function firstFailure(checks: readonly Check[], pod: PodInfo, node: NodeInfo): string | readonly string[] | undefined {
  for (const c of checks) {
    const why = c.check(pod, node);
    if (why !== undefined && why.length > 0) return why;
  }
  return undefined;
}
