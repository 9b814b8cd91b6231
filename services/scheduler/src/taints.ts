// How kube-scheduler names a taint in its messages. (Whether a toleration tolerates a taint is
// Kubernetes' rule in @navarch/api placement.ts, shared with the taint eviction and DaemonSets.)
import type { Taint } from "@navarch/api";

/** {key: value}, as in "node(s) had untolerated taint {dedicated: db}". */
export function taintText(taint: Pick<Taint, "key" | "value">): string {
  return `{${taint.key}: ${taint.value ?? ""}}`;
}
