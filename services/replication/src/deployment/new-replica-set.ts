// The deployment's new replica set (Kubernetes' getNewReplicaSet): the one running the current
// template, found among the owned ones or made, named <deployment>-<pod-template-hash>, with the
// next revision. Revisions: the new replica set has max(old revisions) + 1 - a rollback makes an
// old replica set the new one again, so it gets a fresh revision and keeps its former ones in
// revision-history. The deployment's revision annotation follows its new replica set's.
import type { Deployment, LabelSelector, ReplicaSet } from "@navarch/api";
import { KINDS } from "@navarch/api";
import { isRollingUpdate, maxSurge, replicasOf } from "./fenceposts.js";
import type { Pass } from "./pass.js";
import {
  DESIRED_REPLICAS_ANNOTATION,
  FoundNewReplicaSet,
  MAX_REPLICAS_ANNOTATION,
  NewReplicaSetCreated,
  NOT_COPIED_ANNOTATIONS,
  POD_TEMPLATE_HASH,
  Progressing,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  ScalingReplicaSet,
} from "./reasons.js";
import { findNew, podsBound, maxRevision, revisionOf, specReplicas } from "./replica-sets.js";
import { getCondition, hasProgressDeadline, setCondition } from "./status.js";
import { equalIgnoringHash, templateHash } from "./template-hash.js";

export interface Found {
  newRS: ReplicaSet | undefined;
  old: ReplicaSet[];
}

/**
 * Splits the pass's replica sets into the new one and the old ones, and brings an existing new
 * one's annotations (revision, the deployment's own) and minReadySeconds up to date.
 */
export function syncRevision(pass: Pass): Found {
  const d = pass.d;
  const all = pass.all();
  const newRS = findNew(d, all);
  const old = all.filter((rs) => rs !== newRS);
  if (!newRS) return { newRS, old };
  const newRevision = maxRevision(old) + 1;
  setNewReplicaSetAnnotations(d, newRS, newRevision, true);
  const minReady = d.spec?.minReadySeconds ?? 0;
  if ((newRS.spec!.minReadySeconds ?? 0) !== minReady) newRS.spec!.minReadySeconds = minReady;
  setDeploymentRevision(d, String(revisionOf(newRS)));
  if (hasProgressDeadline(d) && !getCondition(pass.status, Progressing)) {
    setCondition(pass.status, pass.condition(Progressing, "True", FoundNewReplicaSet, `Found new replica set "${newRS.metadata!.name}"`));
  }
  return { newRS, old };
}

/**
 * Makes the new replica set, sized as the strategy allows right away. Undefined when its name is
 * taken by a replica set with another template (a hash collision): the collision count goes up
 * and the next pass tries another name.
 */
export function createNewReplicaSet(pass: Pass, old: readonly ReplicaSet[], existing: (name: string) => ReplicaSet | undefined): ReplicaSet | undefined {
  const d = pass.d;
  const hash = templateHash(d.spec?.template, pass.status.collisionCount);
  const name = `${d.metadata!.name}-${hash}`;
  const taken = existing(name);
  if (taken && !equalIgnoringHash(taken.spec?.template, d.spec?.template)) {
    pass.status.collisionCount = (pass.status.collisionCount ?? 0) + 1;
    return undefined;
  }
  const template = structuredClone(d.spec!.template!);
  template.metadata!.labels = { ...(template.metadata!.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
  const selector: LabelSelector = structuredClone(d.spec!.selector!);
  selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH]: hash };
  const rs = KINDS.ReplicaSet.codec.fromPartial({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: d.metadata!.namespace,
      labels: { ...template.metadata!.labels },
      annotations: {},
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: d.metadata!.name, uid: d.metadata!.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  });
  rs.spec!.replicas = newReplicaSetSize(d, [...old, rs], rs);
  const revision = maxRevision(old) + 1;
  setNewReplicaSetAnnotations(d, rs, revision, false);
  pass.create(rs);
  if (rs.spec!.replicas > 0) pass.event("Normal", ScalingReplicaSet, `Scaled up replica set ${name} to ${rs.spec!.replicas} from 0`);
  setDeploymentRevision(d, String(revision));
  if (hasProgressDeadline(d)) {
    setCondition(pass.status, pass.condition(Progressing, "True", NewReplicaSetCreated, `Created new replica set "${name}"`));
  }
  return rs;
}

/**
 * How big the new replica set may be now (Kubernetes' NewRSNewReplicas): Recreate, all of
 * spec.replicas; RollingUpdate, as many as maxSurge leaves room for above spec.replicas, and
 * never more than spec.replicas. Kubernetes counts every set's spec.replicas; this also counts
 * the pods a set scaled down still has (podsBound), so pods never exceed replicas + maxSurge.
 */
export function newReplicaSetSize(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d)) return replicas;
  const current = podsBound(all);
  const maxTotal = replicas + maxSurge(d);
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, replicas - specReplicas(newRS));
  return specReplicas(newRS) + up;
}

/**
 * The deployment's annotations copied onto the replica set, its revision raised to `revision`
 * (the former one kept in revision-history), and for a new replica set the size annotations.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, revision: number, exists: boolean): void {
  const a = (rs.metadata!.annotations ??= {});
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (!NOT_COPIED_ANNOTATIONS.has(k)) a[k] = v;
  }
  const before = revisionOf(rs);
  if (before < revision) {
    a[REVISION_ANNOTATION] = String(revision);
    if (before > 0) {
      const history = a[REVISION_HISTORY_ANNOTATION] ? a[REVISION_HISTORY_ANNOTATION].split(",") : [];
      a[REVISION_HISTORY_ANNOTATION] = [...history, String(before)].join(",");
    }
  }
  if (!exists) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(replicasOf(d));
    a[MAX_REPLICAS_ANNOTATION] = String(replicasOf(d) + maxSurge(d));
  }
}

function setDeploymentRevision(d: Deployment, revision: string): void {
  if (revision === "0" || revision === "") return;
  d.metadata!.annotations![REVISION_ANNOTATION] = revision;
}
