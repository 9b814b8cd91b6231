// The node lifecycle controller's plan (the part the node agent issue needs): a node's Ready
// condition follows its heartbeat Lease. Fresh lease: Ready=True. No renewal for the grace
// period: Ready=Unknown. (Taints and eviction of unreachable nodes build on this.)
import type { Condition, Lease, Node } from "@navarch/api";
import { timestamp } from "@navarch/store";

export const READY_REASONS = {
  ready: "NodeAgentReady",
  stale: "NodeStatusUnknown",
  never: "NodeStatusNeverUpdated",
} as const;

export interface ReadyPlan {
  /** The Ready condition the node should have; undefined if it already has it. */
  condition: Condition | undefined;
  /** When to look again even if nothing changes (the lease's expiry). */
  recheckAt: Date | undefined;
}

/** Milliseconds since the epoch of an RFC 3339 time, or undefined. */
function millisOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

export function reconcile(node: Node, lease: Lease | undefined, now: Date, gracePeriodMs: number): ReadyPlan {
  const renewed = millisOf(lease?.spec?.renewTime);
  const expires = renewed === undefined ? undefined : renewed + gracePeriodMs;
  let status: "True" | "Unknown";
  let reason: string;
  let message: string;
  if (renewed === undefined) {
    [status, reason, message] = ["Unknown", READY_REASONS.never, "Node agent never posted a heartbeat."];
  } else if (expires! > now.getTime()) {
    [status, reason, message] = ["True", READY_REASONS.ready, "node agent is posting ready status"];
  } else {
    [status, reason, message] = ["Unknown", READY_REASONS.stale, "Node agent stopped posting node status."];
  }
  const current = node.status?.conditions?.find((c) => c.type === "Ready");
  const recheckAt = status === "True" ? new Date(expires!) : undefined;
  const heartbeat = lease?.spec?.renewTime ?? "";
  if (current && current.status === status && current.reason === reason) {
    return { condition: undefined, recheckAt };
  }
  return {
    condition: {
      type: "Ready",
      status,
      reason,
      message,
      lastTransitionTime: timestamp(now),
      lastHeartbeatTime: heartbeat,
      lastUpdateTime: "",
      lastProbeTime: "",
      observedGeneration: 0,
    },
    recheckAt,
  };
}
