// Builders of Deployments and their ReplicaSets for the table tests of this folder.
import { KINDS, PodTemplateSpec, type Deployment, type ReplicaSet } from "@navarch/api";
import { POD_TEMPLATE_HASH, REVISION_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION } from "./reasons.js";
import { templateHash } from "./template-hash.js";

export const D_UID = "d-uid-1";

export function template(image: string): PodTemplateSpec {
  return PodTemplateSpec.fromPartial({ metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image }] } });
}

export interface DeploymentOpts {
  replicas?: number;
  image?: string;
  strategy?: "RollingUpdate" | "Recreate";
  maxSurge?: string;
  maxUnavailable?: string;
  paused?: boolean;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  generation?: number;
  status?: Partial<Deployment["status"]>;
}

export function deployment(o: DeploymentOpts = {}): Deployment {
  const strategy = o.strategy ?? "RollingUpdate";
  return KINDS.Deployment.codec.fromPartial({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", uid: D_UID, resourceVersion: "20", generation: o.generation ?? 1, annotations: {} },
    spec: {
      replicas: o.replicas ?? 10,
      selector: { matchLabels: { app: "web" } },
      template: template(o.image ?? "demo:2"),
      strategy: {
        type: strategy,
        rollingUpdate: strategy === "RollingUpdate" ? { maxSurge: o.maxSurge ?? "25%", maxUnavailable: o.maxUnavailable ?? "25%" } : undefined,
      },
      revisionHistoryLimit: o.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: o.progressDeadlineSeconds ?? 600,
      ...(o.paused ? { paused: true } : {}),
    },
    status: { observedGeneration: o.generation ?? 1, ...(o.status ?? {}) },
  });
}

export interface RsOpts {
  image: string;
  replicas: number;
  /** status.replicas (default: replicas). */
  current?: number;
  available?: number;
  revision?: number;
  created?: string;
  /** desired-replicas annotation (default: the deployment's 10); max-replicas (default 13 = 10 + 25% surge). */
  desired?: number;
  maxReplicas?: number;
  owner?: string | null;
  generation?: number;
  observedGeneration?: number;
}

export function rs(o: RsOpts): ReplicaSet {
  const t = template(o.image);
  const hash = templateHash(t);
  t.metadata!.labels = { ...t.metadata!.labels, [POD_TEMPLATE_HASH]: hash };
  const owner = o.owner === undefined ? D_UID : o.owner;
  const annotations: Record<string, string> = { [DESIRED_REPLICAS_ANNOTATION]: String(o.desired ?? 10) };
  if (o.revision !== undefined) annotations[REVISION_ANNOTATION] = String(o.revision);
  annotations[MAX_REPLICAS_ANNOTATION] = String(o.maxReplicas ?? 13);
  return KINDS.ReplicaSet.codec.fromPartial({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `web-${hash}`,
      namespace: "default",
      uid: `uid-${o.image}`,
      resourceVersion: "7",
      generation: o.generation ?? 1,
      creationTimestamp: o.created ?? "2025-01-01T00:00:00Z",
      labels: { ...t.metadata!.labels },
      annotations,
      ownerReferences: owner ? [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: owner, controller: true, blockOwnerDeletion: true }] : [],
    },
    spec: { replicas: o.replicas, minReadySeconds: 0, selector: { matchLabels: { app: "web", [POD_TEMPLATE_HASH]: hash } }, template: t },
    status: {
      replicas: o.current ?? o.replicas,
      availableReplicas: o.available ?? o.current ?? o.replicas,
      readyReplicas: o.available ?? o.current ?? o.replicas,
      observedGeneration: o.observedGeneration ?? o.generation ?? 1,
    },
  });
}
