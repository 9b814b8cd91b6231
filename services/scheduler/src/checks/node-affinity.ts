// NodeAffinity: spec.nodeSelector (every label equal) and the required node affinity (one of its
// terms matches) must both hold. Kubernetes gives one reason for either.
import { anyTermMatches } from "@navarch/api";
import type { Check } from "./check.js";

export const AFFINITY_MISMATCH = "node(s) didn't match Pod's node affinity/selector";

export const nodeAffinity: Check = {
  name: "NodeAffinity",
  check(pod, node) {
    for (const key in pod.nodeSelector) {
      if (node.labels[key] !== pod.nodeSelector[key]) return AFFINITY_MISMATCH;
    }
    if (pod.requiredTerms !== undefined && !anyTermMatches(pod.requiredTerms, node)) return AFFINITY_MISMATCH;
    return undefined;
  },
};
