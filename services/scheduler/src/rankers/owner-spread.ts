// OwnerSpread (Kubernetes' SelectorSpread, by controller owner): the fewer pods of the same owner
// (the ReplicaSet, DaemonSet, Job ... in ownerReferences with controller=true) a node has, the
// higher it scores, so replicas do not share a node while another is free. A pod without an
// owner scores the same everywhere.
import { normalizeToMax, type Ranker } from "./ranker.js";

export const ownerSpread: Ranker = {
  name: "owner-spread",
  score(pod, node) {
    return pod.ownerUid ? (node.ownerCounts.get(pod.ownerUid) ?? 0) : 0;
  },
  normalize(scores) {
    normalizeToMax(scores, true);
  },
};
