// A pod's quality-of-service class, by Kubernetes' rules over every container (init ones too):
//   BestEffort  no container requests or limits cpu or memory;
//   Guaranteed  every container has cpu and memory limits, and its requests (defaulting to the
//               limits) equal them;
//   Burstable   anything else.
import { bytesOf, milliCpu, type Container, type Pod } from "@navarch/api";

export type QosClass = "Guaranteed" | "Burstable" | "BestEffort";

const RESOURCES = ["cpu", "memory"] as const;

function amount(resource: string, text: string): number {
  return resource === "cpu" ? milliCpu(text) : bytesOf(text);
}

export function qosClass(pod: Pod): QosClass {
  const containers: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    for (const r of RESOURCES) {
      const limit = limits[r] !== undefined && limits[r] !== "" ? amount(r, limits[r]) : undefined;
      const request = requests[r] !== undefined && requests[r] !== "" ? amount(r, requests[r]) : limit;
      if ((limit ?? 0) > 0 || (request ?? 0) > 0) any = true;
      if (limit === undefined || limit === 0 || request !== limit) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed && containers.length > 0 ? "Guaranteed" : "Burstable";
}
