// A deployment's status and conditions, as Kubernetes computes them:
//   - counts are sums over its replica sets (replicas, ready, available from their status;
//     unavailable = asked-for minus available, never below 0; updated = the new replica set's);
//   - Available is True while available >= replicas - maxUnavailable;
//   - Progressing (when a progress deadline is set): NewReplicaSetCreated / FoundNewReplicaSet
//     when the pass makes or finds the new replica set, ReplicaSetUpdated whenever a pass sees
//     progress (more updated, ready or available pods, fewer old ones; lastUpdateTime moves),
//     NewReplicaSetAvailable once complete, and False/ProgressDeadlineExceeded when
//     lastUpdateTime + progressDeadlineSeconds passed without progress; DeploymentPaused and
//     DeploymentResumed (Unknown) around a pause;
//   - ReplicaFailure mirrors the new (else any) replica set's ReplicaFailure.
import { DeploymentStatus, type Condition, type Deployment, type ReplicaSet } from "@navarch/api";
import { maxUnavailable, replicasOf } from "./fenceposts.js";
import type { Pass } from "./pass.js";
import {
  Available,
  DeploymentPaused,
  DeploymentResumed,
  MinimumReplicasAvailable,
  MinimumReplicasUnavailable,
  NewReplicaSetAvailable,
  Progressing,
  ProgressDeadlineExceeded,
  ReplicaFailure,
  ReplicaSetUpdated,
} from "./reasons.js";
import { actualCount, availableCount, desiredCount, readyCount } from "./replica-sets.js";

/** No deadline: Kubernetes' "unset" is MaxInt32. */
export const NO_PROGRESS_DEADLINE = 2147483647;

export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== NO_PROGRESS_DEADLINE;
}

export function getCondition(status: DeploymentStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Kubernetes' SetDeploymentCondition: same status and reason is no change; same status keeps its transition time. */
export function setCondition(status: DeploymentStatus, c: Condition): void {
  const current = getCondition(status, c.type);
  if (current && current.status === c.status && current.reason === c.reason) return;
  const next = current && current.status === c.status ? { ...c, lastTransitionTime: current.lastTransitionTime } : c;
  status.conditions = [...status.conditions.filter((x) => x.type !== c.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** updated, total and available all equal spec.replicas, and this generation has been seen. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return s.updatedReplicas === r && s.replicas === r && s.availableReplicas === r && s.observedGeneration >= (d.metadata?.generation ?? 0);
}

function deploymentProgressing(before: DeploymentStatus, after: DeploymentStatus): boolean {
  const oldBefore = before.replicas - before.updatedReplicas;
  const oldAfter = after.replicas - after.updatedReplicas;
  return (
    after.updatedReplicas > before.updatedReplicas ||
    oldAfter < oldBefore ||
    after.readyReplicas > before.readyReplicas ||
    after.availableReplicas > before.availableReplicas
  );
}

function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, Progressing);
  if (!c) return false;
  if (c.reason === NewReplicaSetAvailable) return false;
  if (c.reason === ProgressDeadlineExceeded) return true;
  const from = Date.parse(c.lastUpdateTime || c.lastTransitionTime);
  return !Number.isNaN(from) && from + d.spec!.progressDeadlineSeconds! * 1000 < now.getTime();
}

/** Counts and the Available condition; other conditions as the pass has them. */
export function calculateStatus(pass: Pass, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
  const d = pass.d;
  const available = availableCount(all);
  const status = DeploymentStatus.fromPartial({
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualCount(all),
    updatedReplicas: newRS ? actualCount([newRS]) : 0,
    readyReplicas: readyCount(all),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, desiredCount(all) - available),
    conditions: [...pass.status.conditions],
    ...(pass.status.collisionCount !== undefined ? { collisionCount: pass.status.collisionCount } : {}),
  });
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, pass.condition(Available, "True", MinimumReplicasAvailable, "Deployment has minimum availability."));
  } else {
    setCondition(status, pass.condition(Available, "False", MinimumReplicasUnavailable, "Deployment does not have minimum availability."));
  }
  return status;
}

/** Status for a pass that only scaled (paused, or a change of spec.replicas): no progress judged. */
export function syncDeploymentStatus(pass: Pass, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined): void {
  pass.d.status = calculateStatus(pass, all, newRS);
}

/** Status of a pass of a rollout: counts, progress against the deadline, replica failures. */
export function syncRolloutStatus(pass: Pass, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined): void {
  const d = pass.d;
  const next = calculateStatus(pass, all, newRS);
  const deadline = hasProgressDeadline(d);
  if (!deadline) removeCondition(next, Progressing);
  const current = getCondition(pass.status, Progressing);
  const complete = next.replicas === next.updatedReplicas && current?.reason === NewReplicaSetAvailable;
  if (deadline && !complete) {
    const subject = newRS ? `ReplicaSet "${newRS.metadata!.name}"` : `Deployment "${d.metadata!.name}"`;
    if (deploymentComplete(d, next)) {
      setCondition(next, pass.condition(Progressing, "True", NewReplicaSetAvailable, `${subject} has successfully progressed.`));
    } else if (deploymentProgressing(pass.stored, next)) {
      const c = pass.condition(Progressing, "True", ReplicaSetUpdated, `${subject} is progressing.`);
      if (current?.status === "True") c.lastTransitionTime = current.lastTransitionTime;
      removeCondition(next, Progressing);
      next.conditions.push(c);
    } else if (deploymentTimedOut(d, next, pass.now)) {
      setCondition(next, pass.condition(Progressing, "False", ProgressDeadlineExceeded, `${subject} has timed out progressing.`));
    }
  }
  const failure = replicaFailure(all, newRS);
  if (failure) setCondition(next, pass.condition(ReplicaFailure, failure.status, failure.reason, failure.message));
  else removeCondition(next, ReplicaFailure);

  // Look again when the deadline would pass without progress (Kubernetes' requeueStuckDeployment).
  const progressing = getCondition(next, Progressing);
  if (deadline && progressing && !deploymentComplete(d, next) && progressing.reason !== ProgressDeadlineExceeded && progressing.reason !== NewReplicaSetAvailable) {
    const from = Date.parse(progressing.lastUpdateTime || progressing.lastTransitionTime);
    if (!Number.isNaN(from)) {
      const after = from + d.spec!.progressDeadlineSeconds! * 1000 - pass.now.getTime();
      pass.requeueAfterMs = Math.max(0, after) + 1000;
    }
  }
  pass.d.status = next;
}

function replicaFailure(all: readonly ReplicaSet[], newRS: ReplicaSet | undefined): Condition | undefined {
  const of = (rs: ReplicaSet) => rs.status?.conditions?.find((c) => c.type === ReplicaFailure);
  return (newRS && of(newRS)) ?? all.map(of).find((c) => c !== undefined);
}

/** Progressing Unknown DeploymentPaused / DeploymentResumed around a pause (not over a timeout). */
export function checkPausedConditions(pass: Pass): void {
  const d = pass.d;
  if (!hasProgressDeadline(d)) return;
  const c = getCondition(pass.status, Progressing);
  if (c?.reason === ProgressDeadlineExceeded) return;
  const pausedShown = c?.reason === DeploymentPaused;
  if (d.spec?.paused && !pausedShown) {
    setCondition(pass.status, pass.condition(Progressing, "Unknown", DeploymentPaused, "Deployment is paused"));
  } else if (!d.spec?.paused && pausedShown) {
    setCondition(pass.status, pass.condition(Progressing, "Unknown", DeploymentResumed, "Deployment is resumed"));
  }
}
