// The node lifecycle controller's plan, as Kubernetes' node lifecycle controller:
//
//   - Ready follows the node's heartbeat Lease: renewed within the grace period -> True; not
//     renewed for the grace period -> Unknown (NodeStatusUnknown); never renewed -> Unknown
//     (NodeStatusNeverUpdated) once the node is older than the grace period. The grace period is
//     the controller's, or the lease's own leaseDurationSeconds when that is longer (nodes that
//     renew rarely, like simulated hollow nodes, say so in their lease and fence accordingly). A Ready=False that
//     another writer set (a node reporting itself not ready) is kept while its heartbeat is fresh.
//   - The NoExecute taint follows Ready: Unknown -> node.kubernetes.io/unreachable, False ->
//     node.kubernetes.io/not-ready, True -> neither. Other taints are never touched; a taint that
//     stays keeps its timeAdded (the taint eviction controller counts tolerationSeconds from it),
//     written with millisecond precision because those seconds are short here.
//   - A change of Ready's status is an Event on the Node: NodeNotReady / NodeReady.
import { KINDS, type Condition, type Lease, type Node, type Taint } from "@navarch/api";
import { timestamp } from "@navarch/store";
import { EVENT_NODE_NOT_READY, EVENT_NODE_READY, NO_EXECUTE, READY_REASONS, TAINT_NOT_READY, TAINT_UNREACHABLE } from "./reasons.js";

export { READY_REASONS } from "./reasons.js";

export interface NodeEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface NodePlan {
  /** The Ready condition the node should have; undefined if it already has it. */
  condition: Condition | undefined;
  /** The node's whole taint list after the change; undefined if unchanged. */
  taints: Taint[] | undefined;
  /** To record once the write succeeded. */
  event: NodeEvent | undefined;
  /** When to look again even if nothing changes (the lease's expiry, a new node's grace). */
  recheckAt: Date | undefined;
}

/** Milliseconds since the epoch of an RFC 3339 time, or undefined. */
export function millisOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

const OURS: readonly string[] = Object.values(READY_REASONS);
const MANAGED_TAINTS: readonly string[] = [TAINT_UNREACHABLE, TAINT_NOT_READY];

type ReadyStatus = "True" | "False" | "Unknown";

interface Readiness {
  /** undefined: leave the condition as it is. */
  status: ReadyStatus | undefined;
  reason: string;
  message: string;
  recheckAt: Date | undefined;
}

function readiness(node: Node, current: Condition | undefined, lease: Lease | undefined, now: Date, gracePeriodMs: number): Readiness {
  const renewed = millisOf(lease?.spec?.renewTime);
  if (renewed === undefined) {
    const created = millisOf(node.metadata?.creationTimestamp);
    if (created !== undefined && created + gracePeriodMs > now.getTime()) {
      // A node that just registered gets the grace period for its first heartbeat.
      return { status: undefined, reason: "", message: "", recheckAt: new Date(created + gracePeriodMs) };
    }
    return { status: "Unknown", reason: READY_REASONS.never, message: "Node agent never posted a heartbeat.", recheckAt: undefined };
  }
  const expires = renewed + Math.max(gracePeriodMs, (lease?.spec?.leaseDurationSeconds ?? 0) * 1000);
  if (expires <= now.getTime()) {
    return { status: "Unknown", reason: READY_REASONS.stale, message: "Node agent stopped posting node status.", recheckAt: undefined };
  }
  if (current?.status === "False" && !OURS.includes(current.reason)) {
    return { status: undefined, reason: "", message: "", recheckAt: new Date(expires) };
  }
  return { status: "True", reason: READY_REASONS.ready, message: "node agent is posting ready status", recheckAt: new Date(expires) };
}

/** The NoExecute taint key a Ready status calls for. */
export function taintFor(status: string | undefined): string | undefined {
  if (status === "Unknown") return TAINT_UNREACHABLE;
  if (status === "False") return TAINT_NOT_READY;
  return undefined;
}

/** Precise enough for tolerations of a few seconds (Kubernetes writes whole seconds). */
export function preciseTime(d: Date): string {
  return d.toISOString();
}

function desiredTaints(taints: Taint[], want: string | undefined, now: Date): Taint[] | undefined {
  const managed = (t: Taint) => t.effect === NO_EXECUTE && MANAGED_TAINTS.includes(t.key);
  const stale = taints.filter((t) => managed(t) && t.key !== want);
  const missing = want !== undefined && !taints.some((t) => managed(t) && t.key === want);
  if (stale.length === 0 && !missing) return undefined;
  const kept = taints.filter((t) => !stale.includes(t));
  return missing ? [...kept, { key: want!, value: "", effect: NO_EXECUTE, timeAdded: preciseTime(now) }] : kept;
}

export function reconcile(node: Node, lease: Lease | undefined, now: Date, gracePeriodMs: number): NodePlan {
  const current = node.status?.conditions?.find((c) => c.type === "Ready");
  const r = readiness(node, current, lease, now, gracePeriodMs);
  const changed = r.status !== undefined && !(current && current.status === r.status && current.reason === r.reason);
  const condition: Condition | undefined = changed
    ? {
        type: "Ready",
        status: r.status!,
        reason: r.reason,
        message: r.message,
        lastTransitionTime: current && current.status === r.status && current.lastTransitionTime ? current.lastTransitionTime : timestamp(now),
        lastHeartbeatTime: lease?.spec?.renewTime ?? "",
        lastUpdateTime: "",
        lastProbeTime: "",
        observedGeneration: 0,
      }
    : undefined;
  const status = condition?.status ?? current?.status;
  const taints = desiredTaints(node.spec?.taints ?? [], taintFor(status), now);
  const name = node.metadata?.name ?? "";
  let event: NodeEvent | undefined;
  if (condition && (current?.status ?? "") !== condition.status) {
    const reason = condition.status === "True" ? EVENT_NODE_READY : EVENT_NODE_NOT_READY;
    event = { type: "Normal", reason, message: `Node ${name} status is now: ${reason}` };
  }
  return { condition, taints, event, recheckAt: r.recheckAt };
}

/** The node with the plan's condition and taints (other fields as they are). */
export function applyPlan(node: Node, plan: NodePlan): Node {
  const next: Node = { ...node };
  if (plan.condition) {
    const status = node.status ?? KINDS.Node.codec.fromPartial({ status: {} }).status!;
    next.status = { ...status, conditions: [...(status.conditions ?? []).filter((c) => c.type !== "Ready"), plan.condition] };
  }
  if (plan.taints) next.spec = { ...(node.spec ?? KINDS.Node.codec.fromPartial({ spec: {} }).spec!), taints: plan.taints };
  return next;
}
