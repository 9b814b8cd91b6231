// What a kind that owns pods (ReplicaSet, DaemonSet, Job; a StatefulSet next) tells the shared
// parts of pod ownership: its name and version (the controller reference on its pods, the
// involved object of its events) and, when it adopts orphans, its label selector.
import { fromLabelSelector, type KubeObject, type LabelSelector, type OwnerReference, type Requirement } from "@navarch/api";
import type { InvolvedObject } from "@navarch/controller";
import { controllerReference } from "./controlled-pods.js";

export interface PodOwnerKind<O extends KubeObject> {
  apiVersion: string;
  kind: string;
  /** The controller's name, and the field naming an owner in its log lines ("replicaset"). */
  name: string;
  /**
   * The selector by which the owner claims pods: adopts matching orphans, releases owned pods
   * that no longer match. Absent for a kind that never adopts (a Job's generated selector names
   * its own uid, so no other pod matches it).
   */
  selector?: (owner: O) => Requirement[] | undefined;
}

/** The requirements of a label selector; an empty one selects nothing (never every pod of a namespace). */
export function selectorOf(obj: { spec?: { selector?: LabelSelector | undefined } | undefined }): Requirement[] | undefined {
  const sel = obj.spec?.selector;
  const reqs = sel ? fromLabelSelector(sel) : [];
  return reqs.length === 0 ? undefined : reqs;
}

/** The controller reference the owner puts on the pods it makes or adopts. */
export function ownerReference<O extends KubeObject>(kind: PodOwnerKind<O>, owner: O): OwnerReference {
  return controllerReference(kind.apiVersion, kind.kind, owner.metadata!);
}

/** The owner as the involved object of its events. */
export function involvedObject<O extends KubeObject>(kind: PodOwnerKind<O>, owner: O): InvolvedObject {
  const m = owner.metadata!;
  return { kind: kind.kind, apiVersion: kind.apiVersion, namespace: m.namespace, name: m.name, uid: m.uid };
}
