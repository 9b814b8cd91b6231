// BalancedAllocation: a node whose cpu and memory would be used in the same proportion scores
// higher (Kubernetes: 1 - the standard deviation of the used fractions, which for two resources is
// half their difference), so neither resource is stranded.
import { MAX_SCORE, fraction, type Ranker } from "./ranker.js";

export const balancedAllocation: Ranker = {
  name: "balanced-allocation",
  score(pod, node) {
    const cpu = fraction(node.nonZeroMilliCpu + pod.nonZeroMilliCpu, node.allocatableMilliCpu);
    const memory = fraction(node.nonZeroMemory + pod.nonZeroMemory, node.allocatableMemory);
    return Math.floor((1 - Math.abs(cpu - memory) / 2) * MAX_SCORE);
  },
};
