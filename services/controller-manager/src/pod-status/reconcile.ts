// The pod status folder's plan: Pod.status is what the node agent of the pod's node last
// reported, for this very pod (same uid). A report from another node (a stale agent after the
// pod moved or was replaced) or for an earlier pod of the same name is refused: fencing by
// identity, so a stale writer cannot resurrect what the control plane changed.
// PodScheduled is the scheduler's fact (it wrote it when it bound the pod): the Pod's own
// condition is kept over the one in the report.
import { KINDS, type Pod, type PodStatus } from "@navarch/api";
import { REPORTED_BY_ANNOTATION } from "@navarch/store";

export type Decision =
  | { type: "none"; why: string }
  | { type: "fold"; status: PodStatus }
  | { type: "dropReport" };

function canonical(status: PodStatus | undefined): string {
  return JSON.stringify(KINDS.Pod.codec.toJSON(KINDS.Pod.codec.fromPartial({ status: status ?? {} })));
}

export function reconcile(pod: Pod | undefined, report: Pod | undefined): Decision {
  if (!report) return { type: "none", why: "no report" };
  if (!pod) return { type: "dropReport" };
  if (report.metadata?.uid !== pod.metadata?.uid) return { type: "none", why: "report is for another pod of that name" };
  const reporter = report.metadata?.annotations?.[REPORTED_BY_ANNOTATION] ?? "";
  if (!pod.spec?.nodeName || reporter !== pod.spec.nodeName) {
    return { type: "none", why: `report from node "${reporter}", pod is bound to "${pod.spec?.nodeName ?? ""}"` };
  }
  const status = keepPodScheduled(report.status, pod.status);
  if (canonical(status) === canonical(pod.status)) return { type: "none", why: "up to date" };
  return { type: "fold", status };
}

/** The reported status with the pod's PodScheduled condition (if it has one) in place of the report's. */
function keepPodScheduled(reported: PodStatus | undefined, current: PodStatus | undefined): PodStatus {
  const status = reported ?? KINDS.Pod.codec.fromPartial({ status: {} }).status!;
  const scheduled = current?.conditions?.find((c) => c.type === "PodScheduled");
  if (!scheduled) return status;
  const conditions = status.conditions.filter((c) => c.type !== "PodScheduled");
  const at = status.conditions.findIndex((c) => c.type === "PodScheduled");
  conditions.splice(at < 0 ? conditions.length : at, 0, scheduled);
  return { ...status, conditions };
}
