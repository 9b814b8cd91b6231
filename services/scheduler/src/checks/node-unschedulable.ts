// NodeUnschedulable: a cordoned node (spec.unschedulable) takes no new pods, unless the pod
// tolerates node.kubernetes.io/unschedulable:NoSchedule.
import { TAINT_UNSCHEDULABLE, toleratedByAny } from "@navarch/api";
import type { Check } from "./check.js";

export const UNSCHEDULABLE = "node(s) were unschedulable";

export const nodeUnschedulable: Check = {
  name: "NodeUnschedulable",
  check(pod, node) {
    if (!node.unschedulable) return undefined;
    return toleratedByAny(pod.tolerations, { key: TAINT_UNSCHEDULABLE, value: "", effect: "NoSchedule" }) ? undefined : UNSCHEDULABLE;
  },
};
