// A feasibility check: a pure function of the pod and one node that says "fits" (undefined) or
// why not, in the words kube-scheduler uses, so an unschedulable pod's message reads the same.
// Some checks can give several reasons at once (NodeResourcesFit: cpu and memory).
import type { NodeInfo } from "../node-info.js";
import type { PodInfo } from "../pod-info.js";

export type CheckResult = undefined | string | readonly string[];

export interface Check {
  /** The Kubernetes filter plugin's name. */
  readonly name: string;
  check(pod: PodInfo, node: NodeInfo): CheckResult;
}
