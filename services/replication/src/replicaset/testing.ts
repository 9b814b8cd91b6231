// Builders of ReplicaSets and Pods for the table tests of this folder and of deployment/.
import { KINDS, type Pod, type ReplicaSet } from "@navarch/api";

export const RS_UID = "rs-uid-1";

export function replicaSet(opts: { replicas?: number; minReadySeconds?: number; deleting?: boolean; generation?: number; labels?: Record<string, string> } = {}): ReplicaSet {
  const labels = opts.labels ?? { app: "web" };
  return KINDS.ReplicaSet.codec.fromPartial({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: "web",
      namespace: "default",
      uid: RS_UID,
      resourceVersion: "10",
      generation: opts.generation ?? 1,
      deletionTimestamp: opts.deleting ? "2025-01-01T00:00:00Z" : "",
    },
    spec: {
      replicas: opts.replicas ?? 3,
      minReadySeconds: opts.minReadySeconds ?? 0,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels }, spec: { containers: [{ name: "app", image: "navarch/demo:1" }] } },
    },
  });
}

export interface PodOpts {
  owner?: string | null;
  labels?: Record<string, string>;
  node?: string;
  phase?: string;
  /** Ready since this time (ISO); undefined: not ready. */
  readySince?: string;
  created?: string;
  deleting?: boolean;
  restarts?: number;
  ownerKind?: string;
}

export function pod(name: string, o: PodOpts = {}): Pod {
  const owner = o.owner === undefined ? RS_UID : o.owner;
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      resourceVersion: "5",
      creationTimestamp: o.created ?? "2025-01-01T00:00:00Z",
      deletionTimestamp: o.deleting ? "2025-01-01T00:10:00Z" : "",
      labels: o.labels ?? { app: "web" },
      ownerReferences: owner ? [{ apiVersion: "apps/v1", kind: o.ownerKind ?? "ReplicaSet", name: "web", uid: owner, controller: true, blockOwnerDeletion: true }] : [],
    },
    spec: { nodeName: o.node ?? "n1", containers: [{ name: "app", image: "navarch/demo:1" }] },
    status: {
      phase: o.phase ?? "Running",
      conditions: o.readySince ? [{ type: "Ready", status: "True", lastTransitionTime: o.readySince }] : [{ type: "Ready", status: "False", lastTransitionTime: "2025-01-01T00:00:00Z" }],
      containerStatuses: [{ name: "app", restartCount: o.restarts ?? 0 }],
    },
  });
}
