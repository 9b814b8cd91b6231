// NodeResourcesFit: the pod's cpu and memory requests fit in the node's allocatable minus what the
// pods already there request, and one more pod fits under its pod count. Every resource that does
// not fit is a reason of its own, as in Kubernetes. A request of 0 always fits.
import type { Check } from "./check.js";

export const TOO_MANY_PODS = "Too many pods";
export const INSUFFICIENT_CPU = "Insufficient cpu";
export const INSUFFICIENT_MEMORY = "Insufficient memory";

export const nodeResourcesFit: Check = {
  name: "NodeResourcesFit",
  check(pod, node) {
    let reasons: string[] | undefined;
    if (node.podCount + 1 > node.allocatablePods) (reasons ??= []).push(TOO_MANY_PODS);
    if (pod.milliCpu > 0 && pod.milliCpu > node.allocatableMilliCpu - node.requestedMilliCpu) (reasons ??= []).push(INSUFFICIENT_CPU);
    if (pod.memory > 0 && pod.memory > node.allocatableMemory - node.requestedMemory) (reasons ??= []).push(INSUFFICIENT_MEMORY);
    return reasons;
  },
};
