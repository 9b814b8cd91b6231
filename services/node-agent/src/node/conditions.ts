// The Node conditions this agent owns: ServiceProxyReady and ClusterDNSReady (docs/adr/0016;
// their meaning: libs/api node-conditions.ts).
// The node lifecycle controller owns Ready; other writers may add theirs. The agent writes only
// its own types, inside the registration's compare-and-swap update (register.ts), so one write
// path carries every fact the agent owns and a condition costs no write of its own at start.
import { CLUSTER_DNS_READY, SERVICE_PROXY_READY, type Condition } from "@navarch/api";

export { CLUSTER_DNS_READY, SERVICE_PROXY_READY };

export interface AgentCondition {
  type: string;
  status: "True" | "False";
  reason: string;
  message: string;
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
