// TaintToleration (score): each PreferNoSchedule taint the pod does not tolerate counts against
// the node; the node with the most scores 0, a node with none 100.
import { toleratedByAny } from "@navarch/api";
import { normalizeToMax, type Ranker } from "./ranker.js";

export const preferNoScheduleTaints: Ranker = {
  name: "taint-toleration",
  score(pod, node) {
    let n = 0;
    for (const taint of node.taints) {
      if (taint.effect !== "PreferNoSchedule") continue;
      // tolerates() already passes over tolerations for another effect, as Kubernetes does.
      if (!toleratedByAny(pod.tolerations, taint)) n++;
    }
    return n;
  },
  normalize(scores) {
    normalizeToMax(scores, true);
  },
};
