// TaintToleration: every NoSchedule and NoExecute taint of the node must be tolerated by the pod;
// the first one that is not names the reason. PreferNoSchedule taints only lower the score
// (rankers/prefer-no-schedule.ts).
import { taintText } from "../taints.js";
import { toleratedByAny } from "@navarch/api";
import type { Check } from "./check.js";

export const untoleratedTaint = (key: string, value: string) => `node(s) had untolerated taint ${taintText({ key, value })}`;

export const taintToleration: Check = {
  name: "TaintToleration",
  check(pod, node) {
    for (const taint of node.taints) {
      if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
      if (!toleratedByAny(pod.tolerations, taint)) return untoleratedTaint(taint.key, taint.value);
    }
    return undefined;
  },
};
