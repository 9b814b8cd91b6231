// LeastAllocated (the default "spread" profile): the more cpu and memory a node would have left
// after taking the pod, the higher it scores; cpu and memory weigh the same. Uses the non-zero
// requests, so pods without requests spread too.
import { MAX_SCORE, fraction, type Ranker } from "./ranker.js";

export const leastAllocated: Ranker = {
  name: "least-allocated",
  score(pod, node) {
    const cpu = 1 - fraction(node.nonZeroMilliCpu + pod.nonZeroMilliCpu, node.allocatableMilliCpu);
    const memory = 1 - fraction(node.nonZeroMemory + pod.nonZeroMemory, node.allocatableMemory);
    return Math.floor(((cpu + memory) * MAX_SCORE) / 2);
  },
};
