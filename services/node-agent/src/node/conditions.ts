// The Node conditions this agent owns: ServiceProxyReady and ClusterDNSReady (docs/adr/0012).
// The node lifecycle controller owns Ready; other writers may add theirs. The agent writes only
// its own types, inside the registration's compare-and-swap update (register.ts), so one write
// path carries every fact the agent owns and a condition costs no write of its own at start.
//
//   status True   the part works: its rules are written / it listens
//   status False  reason Disabled or NotSupported: the node runs without it on purpose (an option,
//                 or a runtime with no host: hollow nodes). Not broken; pods do not wait for it.
//   status False  any other reason: broken or not ready yet; this node's new pods wait for it.
import type { Condition } from "@navarch/api";

export const SERVICE_PROXY_READY = "ServiceProxyReady";
export const CLUSTER_DNS_READY = "ClusterDNSReady";
export const AGENT_CONDITION_TYPES = [SERVICE_PROXY_READY, CLUSTER_DNS_READY] as const;
/** Reasons of a False condition that mean "off on purpose", not "broken". */
export const NOT_WANTED_REASONS = ["Disabled", "NotSupported"];

export interface AgentCondition {
  type: string;
  status: "True" | "False";
  reason: string;
  message: string;
}

/** Whether a condition of this agent says the part is broken (or not ready yet). */
export function isBroken(c: Pick<Condition, "type" | "status" | "reason">): boolean {
  return c.status !== "True" && !NOT_WANTED_REASONS.includes(c.reason);
}

/**
 * The conditions to store: the existing ones of other types untouched and in place, ours replaced
 * (added at the end when new). lastTransitionTime moves only when the status changes.
 */
export function mergeConditions(existing: Condition[], ours: AgentCondition[], now: string): Condition[] {
  const byType = new Map(ours.map((c) => [c.type, c]));
  const kept = existing.map((c) => {
    const mine = byType.get(c.type);
    if (!mine) return c;
    byType.delete(c.type);
    return { ...c, ...mine, lastTransitionTime: c.status === mine.status && c.lastTransitionTime ? c.lastTransitionTime : now };
  });
  const added = [...byType.values()].map((c) => fullCondition(c, now));
  return [...kept, ...added];
}

function fullCondition(c: AgentCondition, now: string): Condition {
  return { ...c, lastTransitionTime: now, lastUpdateTime: "", lastHeartbeatTime: "", lastProbeTime: "", observedGeneration: 0 };
}
