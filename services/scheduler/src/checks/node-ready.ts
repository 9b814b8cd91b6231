// NodeReady: only nodes whose Ready condition is True take new pods. A pod that tolerates the
// taint Kubernetes puts on such a node (not-ready when Ready=False, unreachable when Unknown)
// may go there anyway, as DaemonSet pods do.
import { TAINT_NOT_READY, TAINT_UNREACHABLE, toleratedByAny } from "@navarch/api";
import type { Check } from "./check.js";

export const NOT_READY = "node(s) were not ready";

export const nodeReady: Check = {
  name: "NodeReady",
  check(pod, node) {
    if (node.ready === "True") return undefined;
    const key = node.ready === "False" ? TAINT_NOT_READY : TAINT_UNREACHABLE;
    return toleratedByAny(pod.tolerations, { key, value: "", effect: "NoSchedule" }) ? undefined : NOT_READY;
  },
};
