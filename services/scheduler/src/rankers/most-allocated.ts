// MostAllocated (the "binpack" profile): the fuller a node would be after taking the pod, the
// higher it scores, so pods fill one node before the next one gets any.
import { MAX_SCORE, fraction, type Ranker } from "./ranker.js";

export const mostAllocated: Ranker = {
  name: "most-allocated",
  score(pod, node) {
    const cpu = fraction(node.nonZeroMilliCpu + pod.nonZeroMilliCpu, node.allocatableMilliCpu);
    const memory = fraction(node.nonZeroMemory + pod.nonZeroMemory, node.allocatableMemory);
    return Math.floor(((cpu + memory) * MAX_SCORE) / 2);
  },
};
