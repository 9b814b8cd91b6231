// NodeAffinity (preferred): the weights of the pod's preferred terms that the node matches, added
// up and scaled so the best node scores 100.
import { termMatches } from "@navarch/api";
import { normalizeToMax, type Ranker } from "./ranker.js";

export const preferredNodeAffinity: Ranker = {
  name: "node-affinity",
  score(pod, node) {
    let sum = 0;
    for (const p of pod.preferredTerms) if (p.weight > 0 && termMatches(p.preference, node)) sum += p.weight;
    return sum;
  },
  normalize(scores) {
    normalizeToMax(scores, false);
  },
};
