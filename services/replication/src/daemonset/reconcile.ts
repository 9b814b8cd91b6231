// What to do about one daemon set - a pure function of the daemon set, the nodes, its pods and
// the time (Kubernetes' DaemonSetsController.syncDaemonSet, without surge):
//
//   1. Claim pods: an active orphan of the namespace that matches the selector is adopted; an
//      owned pod whose labels no longer match is released.
//   2. Per node (placement(): node selector, required node affinity, taints against the pod's
//      tolerations plus the daemon ones):
//        - should run and has no pod at all: create one, bound to the node;
//        - may not continue running (an untolerated NoExecute taint, labels that no longer
//          match): delete its pods;
//        - otherwise a Failed (or Succeeded) pod is deleted, to be replaced on a later pass, and
//          of several live pods the oldest stays;
//        - a node whose only pod is terminating waits for it to be gone (never two at once).
//      Pods on nodes that no longer exist (or on none) are deleted at once: no agent is left to
//      finish a graceful deletion.
//   3. Rolling update (updateStrategy RollingUpdate): a pod whose controller-revision-hash label
//      is not the template's is old. Old pods that are not available are replaced at once; of the
//      available ones, as many are deleted as maxUnavailable leaves room for after counting the
//      nodes whose pod is missing or not available. Their replacements are created by step 2 once
//      the deletions are done. OnDelete: old pods stay until someone deletes them.
//   4. Status, as Kubernetes counts it (desired, current, ready, available, updated, misscheduled,
//      unavailable, observedGeneration).
// Steps 1-3 only run once the cache has observed the previous pass's writes (expectations), and
// nothing but status is done for a daemon set being deleted.
import { createHash } from "node:crypto";
import { matches, PodTemplateSpec, type DaemonSet, type DaemonSetStatus, type Node, type Pod } from "@navarch/api";
import { selectorOf, type PodOwnerKind } from "../pod-ownership/owner-kind.js";
import { availability, controllerRef, isActive, isReady } from "../pod-ownership/pod-state.js";
import { placement } from "./nodes.js";

/** A daemon set as the owner of its pods: it adopts the orphans its selector matches. */
export const DAEMON_SET: PodOwnerKind<DaemonSet> = { apiVersion: "apps/v1", kind: "DaemonSet", name: "daemonset", selector: selectorOf };

/** The label Kubernetes puts on a daemon pod: the hash of the template it was made from. */
export const REVISION_HASH_LABEL = "controller-revision-hash";

export interface DaemonSetState {
  ds: DaemonSet;
  nodes: readonly Node[];
  /** Pods whose controller ownerReference is this daemon set (by uid). */
  owned: readonly Pod[];
  /** Pods of the namespace without a controller ownerReference. */
  orphans: readonly Pod[];
  /** Every write of earlier passes is in the cache (or the wait expired). */
  expectationsSatisfied: boolean;
  /** The namespace is being deleted: nothing new may be created in it. */
  namespaceTerminating: boolean;
  now: Date;
}

export type DeleteReason = "Failed" | "Misscheduled" | "Excess" | "NodeGone" | "Outdated";

export interface PodDeletion {
  pod: Pod;
  reason: DeleteReason;
  /** The node is gone (or there is none): delete at once, not gracefully. */
  nodeGone: boolean;
}

export interface Plan {
  adopt: Pod[];
  release: Pod[];
  /** Nodes to create a daemon pod on. */
  create: string[];
  delete: PodDeletion[];
  status: DaemonSetStatus;
  /** When a ready pod becomes available (minReadySeconds): look again then. */
  recheckMs?: number;
}

/** The hash of the pod template, the value of REVISION_HASH_LABEL on the pods made from it. */
export function templateHash(ds: DaemonSet): string {
  const json = ds.spec?.template ? PodTemplateSpec.toJSON(ds.spec.template) : {};
  return createHash("sha256").update(JSON.stringify(json)).digest("hex").slice(0, 10);
}

/** maxUnavailable of desired (a number or a percentage rounded up, as Kubernetes); at least 1 without surge. */
export function maxUnavailable(value: string, desired: number): number {
  const m = /^(\d+)(%?)$/.exec(value.trim());
  if (!m) return 1;
  const n = m[2] ? Math.ceil((Number(m[1]) * desired) / 100) : Number(m[1]);
  return Math.max(1, n);
}

export function reconcile(state: DaemonSetState): Plan {
  const { ds, now } = state;
  const uid = ds.metadata!.uid;
  const deleting = !!ds.metadata!.deletionTimestamp;
  const selector = selectorOf(ds);
  const selects = (pod: Pod) => selector !== undefined && matches(selector, pod.metadata?.labels);
  const plan: Plan = { adopt: [], release: [], create: [], delete: [], status: ds.status ?? emptyStatus() };

  // 1. Claim.
  const pods: Pod[] = [];
  for (const pod of state.owned) {
    if (controllerRef(pod)?.uid !== uid) continue;
    if (selects(pod) || deleting || pod.metadata?.deletionTimestamp) pods.push(pod);
    else if (state.expectationsSatisfied) plan.release.push(pod);
  }
  if (!deleting && state.expectationsSatisfied) {
    for (const pod of state.orphans) {
      if (controllerRef(pod) || !isActive(pod) || !selects(pod)) continue;
      plan.adopt.push(pod);
      pods.push(pod);
    }
  }

  const byNode = new Map<string, Pod[]>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName ?? "";
    let list = byNode.get(node);
    if (!list) byNode.set(node, (list = []));
    list.push(pod);
  }
  for (const list of byNode.values()) list.sort(oldestFirst);
  const nodes = [...state.nodes].sort((a, b) => a.metadata!.name.localeCompare(b.metadata!.name));
  const spec = ds.spec?.template?.spec;
  const placements = new Map(nodes.map((n) => [n.metadata!.name, placement(n, spec)]));

  const status = computeStatus(ds, nodes, placements, byNode, now);
  plan.status = status.status;
  if (status.recheckMs !== undefined) plan.recheckMs = status.recheckMs;
  if (deleting || !state.expectationsSatisfied) return plan;

  // 2. Every node gets exactly one pod, where it should.
  const hash = templateHash(ds);
  const settled: { node: string; pod: Pod }[] = [];
  for (const node of nodes) {
    const name = node.metadata!.name;
    const { shouldRun, shouldContinueRunning } = placements.get(name)!;
    const onNode = byNode.get(name) ?? [];
    const live = onNode.filter((p) => !p.metadata?.deletionTimestamp);
    if (shouldRun && onNode.length === 0) {
      if (!state.namespaceTerminating) plan.create.push(name);
      continue;
    }
    if (!shouldContinueRunning) {
      for (const pod of live) plan.delete.push({ pod, reason: "Misscheduled", nodeGone: false });
      continue;
    }
    const running: Pod[] = [];
    for (const pod of live) {
      if (isActive(pod)) running.push(pod);
      else plan.delete.push({ pod, reason: "Failed", nodeGone: false });
    }
    for (const pod of running.slice(1)) plan.delete.push({ pod, reason: "Excess", nodeGone: false });
    if (running.length > 0 && shouldRun) settled.push({ node: name, pod: running[0]! });
  }
  for (const [node, onNode] of byNode) {
    if (placements.has(node)) continue;
    for (const pod of onNode) {
      // Terminating ones too: their node will never finish them.
      plan.delete.push({ pod, reason: "NodeGone", nodeGone: true });
    }
  }

  // 3. Rolling update over the nodes that have exactly their one pod.
  const strategy = ds.spec?.updateStrategy;
  if ((strategy?.type || "RollingUpdate") === "RollingUpdate") {
    plan.delete.push(...rollingUpdate(ds, hash, status.status.desiredNumberScheduled, settled, placements, now));
  }
  return plan;
}

function rollingUpdate(
  ds: DaemonSet,
  hash: string,
  desired: number,
  settled: { node: string; pod: Pod }[],
  placements: Map<string, { shouldRun: boolean }>,
  now: Date,
): PodDeletion[] {
  const budget = maxUnavailable(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable || "1", desired);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const settledNodes = new Set(settled.map((s) => s.node));
  // Nodes that should run a pod but have none settled (missing, terminating, failed, being
  // created) count as unavailable: the update never takes more away than the budget allows.
  let unavailable = 0;
  for (const [node, p] of placements) {
    if (p.shouldRun && !settledNodes.has(node)) unavailable++;
  }
  const replaceNow: PodDeletion[] = [];
  const candidates: Pod[] = [];
  for (const { pod } of settled) {
    const available = availability(pod, minReady, now.getTime()).available;
    if (pod.metadata?.labels?.[REVISION_HASH_LABEL] === hash) {
      if (!available) unavailable++;
    } else if (!available) {
      replaceNow.push({ pod, reason: "Outdated", nodeGone: false });
    } else {
      candidates.push(pod);
    }
  }
  const room = Math.max(0, Math.min(budget - unavailable, candidates.length));
  return [...replaceNow, ...candidates.slice(0, room).map((pod) => ({ pod, reason: "Outdated" as const, nodeGone: false }))];
}

function emptyStatus(): DaemonSetStatus {
  return {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 0,
    observedGeneration: 0,
    updatedNumberScheduled: 0,
    numberAvailable: 0,
    numberUnavailable: 0,
    conditions: [],
  };
}

/** Kubernetes' updateDaemonSetStatus: counted per node, from the oldest pod on it. */
export function computeStatus(
  ds: DaemonSet,
  nodes: readonly Node[],
  placements: Map<string, { shouldRun: boolean }>,
  byNode: Map<string, Pod[]>,
  now: Date,
): { status: DaemonSetStatus; recheckMs?: number } {
  const hash = templateHash(ds);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const s = emptyStatus();
  let recheckMs: number | undefined;
  for (const node of nodes) {
    const name = node.metadata!.name;
    const onNode = byNode.get(name) ?? [];
    const scheduled = onNode.length > 0;
    if (!placements.get(name)?.shouldRun) {
      if (scheduled) s.numberMisscheduled++;
      continue;
    }
    s.desiredNumberScheduled++;
    if (!scheduled) continue;
    s.currentNumberScheduled++;
    const pod = onNode[0]!;
    if (isReady(pod)) {
      s.numberReady++;
      const a = availability(pod, minReady, now.getTime());
      if (a.available) s.numberAvailable++;
      else if (a.waitMs !== undefined) recheckMs = Math.min(recheckMs ?? Infinity, a.waitMs);
    }
    if (pod.metadata?.labels?.[REVISION_HASH_LABEL] === hash) s.updatedNumberScheduled++;
  }
  s.numberUnavailable = s.desiredNumberScheduled - s.numberAvailable;
  s.observedGeneration = ds.metadata?.generation ?? 0;
  s.conditions = ds.status?.conditions ?? [];
  if (ds.status?.collisionCount !== undefined) s.collisionCount = ds.status.collisionCount;
  return recheckMs === undefined ? { status: s } : { status: s, recheckMs };
}

export function statusChanged(current: DaemonSetStatus | undefined, next: DaemonSetStatus): boolean {
  if (!current) return true;
  const fields = [
    "currentNumberScheduled",
    "numberMisscheduled",
    "desiredNumberScheduled",
    "numberReady",
    "observedGeneration",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberUnavailable",
  ] as const;
  return fields.some((f) => current[f] !== next[f]);
}

/** Oldest first (Kubernetes' podByCreationTimestampAndPhase: then running before not running, then name). */
function oldestFirst(a: Pod, b: Pod): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? "") || 0;
  if (ta !== tb) return ta - tb;
  const ra = a.status?.phase === "Running" ? 0 : 1;
  const rb = b.status?.phase === "Running" ? 0 : 1;
  if (ra !== rb) return ra - rb;
  return (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}
