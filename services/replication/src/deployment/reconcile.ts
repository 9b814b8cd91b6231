// What to do about one deployment - a pure function of the deployment, its replica sets, how many
// of their pods still run, and the time. Everything it decides derives from stored objects
// (replica set sizes, revision annotations, conditions), so a controller restarted mid-rollout
// carries on where the last one stopped.
//
//   1. Claim replica sets: adopt matching orphans, release owned ones that stop matching.
//   2. Find the new replica set (template equal to the deployment's) and sync revisions.
//   3. Paused, or spec.replicas changed: scale only (proportional.ts). Otherwise one step of the
//      strategy (rollout.ts). Status and conditions last (status.ts).
// A deployment being deleted only gets its status; one with an empty selector gets nothing but
// a warning (it would select every pod).
import { fromLabelSelector, matches, type Deployment, type ReplicaSet } from "@navarch/api";
import { isRollingUpdate } from "./fenceposts.js";
import { syncRevision } from "./new-replica-set.js";
import { Pass, type Plan } from "./pass.js";
import { isScalingEvent, syncScaleOnly } from "./proportional.js";
import { SelectingAll } from "./reasons.js";
import { rolloutRecreate, rolloutRolling, type RolloutInputs } from "./rollout.js";
import { checkPausedConditions, syncDeploymentStatus } from "./status.js";
import { controllerRef } from "../pod-ownership/pod-state.js";

export type { Plan, Step } from "./pass.js";

export interface DeploymentState extends RolloutInputs {
  deployment: Deployment;
  /** Replica sets whose controller ownerReference is this deployment (by uid). */
  owned: readonly ReplicaSet[];
  /** Replica sets of the namespace without a controller ownerReference. */
  orphans: readonly ReplicaSet[];
}

export function reconcile(state: DeploymentState, now: Date): Plan {
  const d = state.deployment;
  const uid = d.metadata!.uid;
  const sel = d.spec?.selector ? fromLabelSelector(d.spec.selector) : [];
  const deleting = !!d.metadata!.deletionTimestamp;

  if (sel.length === 0) {
    const pass = new Pass(d, [], now);
    pass.event("Warning", SelectingAll, "This deployment is selecting all pods. A non-empty selector is required.");
    if (pass.status.observedGeneration < (d.metadata!.generation ?? 0)) pass.status.observedGeneration = d.metadata!.generation ?? 0;
    return pass.finish();
  }

  const mine: ReplicaSet[] = [];
  const adopt: ReplicaSet[] = [];
  const release: ReplicaSet[] = [];
  for (const rs of state.owned) {
    if (controllerRef(rs)?.uid !== uid) continue;
    if (deleting || matches(sel, rs.metadata?.labels)) mine.push(rs);
    else release.push(rs);
  }
  if (!deleting) {
    for (const rs of state.orphans) {
      if (controllerRef(rs) || rs.metadata?.deletionTimestamp || !matches(sel, rs.metadata?.labels)) continue;
      adopt.push(rs);
      mine.push(rs);
    }
  }
  const pass = new Pass(d, mine, now);
  for (const rs of adopt) pass.claim({ type: "adoptReplicaSet", rs });
  for (const rs of release) pass.claim({ type: "releaseReplicaSet", rs });

  const found = syncRevision(pass);
  if (deleting) {
    syncDeploymentStatus(pass, pass.all(), found.newRS);
    return pass.finish();
  }
  checkPausedConditions(pass);
  if (d.spec?.paused || isScalingEvent(pass, found)) syncScaleOnly(pass, found);
  else if (isRollingUpdate(d)) rolloutRolling(pass, found, state);
  else rolloutRecreate(pass, found, state);
  return pass.finish();
}
