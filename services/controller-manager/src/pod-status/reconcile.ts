// The pod status folder's plan: Pod.status is what the node agent of the pod's node last
// reported, for this very pod (same uid). A report from another node (a stale agent after the
// pod moved or was replaced) or for an earlier pod of the same name is refused: fencing by
// identity, so a stale writer cannot resurrect what the control plane changed.
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
  if (canonical(report.status) === canonical(pod.status)) return { type: "none", why: "up to date" };
  return { type: "fold", status: report.status! };
}
