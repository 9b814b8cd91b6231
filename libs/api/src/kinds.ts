// The registry of kinds: one entry per kind says how it is named (plural, short names), whether it
// is namespaced, which proto message holds it and which gRPC service serves it. Everything that
// handles "any kind" (the store, the gateway, navctl) works from this table.
import type { ServiceDefinition } from "@grpc/grpc-js";
import { DaemonSet, Deployment, ReplicaSet } from "./generated/navarch/apps/v1/apps.js";
import { Job } from "./generated/navarch/batch/v1/job.js";
import {
  ConfigMapServiceClient,
  DaemonSetServiceClient,
  DaemonSetServiceService,
  ConfigMapServiceService,
  DeploymentServiceClient,
  DeploymentServiceService,
  EndpointsServiceClient,
  EndpointsServiceService,
  EventServiceClient,
  EventServiceService,
  IngressServiceClient,
  IngressServiceService,
  JobServiceClient,
  JobServiceService,
  LeaseServiceClient,
  LeaseServiceService,
  NamespaceServiceClient,
  NamespaceServiceService,
  NodeServiceClient,
  NodeServiceService,
  PodServiceClient,
  PodServiceService,
  ReplicaSetServiceClient,
  ReplicaSetServiceService,
  SecretServiceClient,
  SecretServiceService,
  ServiceServiceClient,
  ServiceServiceService,
} from "./generated/navarch/api/v1/api.js";
import { Lease } from "./generated/navarch/coordination/v1/lease.js";
import { Ingress } from "./generated/navarch/networking/v1/ingress.js";
import { ConfigMap, Endpoints, Event, Namespace, Node, Pod, Secret, Service } from "./generated/navarch/core/v1/core.js";
import type { ObjectMeta } from "./generated/navarch/meta/v1/meta.js";

/** What every kind's message has in common. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: ObjectMeta | undefined;
}

/** The ts-proto functions of one message type. */
export interface Codec<T> {
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: any): T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ClientConstructor = new (address: string, credentials: any, options?: any) => any;

export interface KindInfo<T extends KubeObject = KubeObject> {
  kind: string;
  apiVersion: string;
  /** Lower-case plural, as in URLs and `navctl get`: "configmaps". */
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** Fully qualified proto message name, for schema checks. */
  protoType: string;
  codec: Codec<T>;
  service: ServiceDefinition;
  client: ClientConstructor;
  /** Whether clients own `spec` (generation is bumped when it changes). */
  hasSpec: boolean;
  /** Whether `status` is written by a controller, not by clients. */
  hasStatus: boolean;
}

function kind<T extends KubeObject>(info: KindInfo<T>): KindInfo<T> {
  return info;
}

export const KINDS = {
  Namespace: kind({
    kind: "Namespace", apiVersion: "v1", plural: "namespaces", singular: "namespace", shortNames: ["ns"],
    namespaced: false, protoType: "navarch.core.v1.Namespace", codec: Namespace,
    service: NamespaceServiceService, client: NamespaceServiceClient, hasSpec: true, hasStatus: true,
  }),
  Node: kind({
    kind: "Node", apiVersion: "v1", plural: "nodes", singular: "node", shortNames: ["no"],
    namespaced: false, protoType: "navarch.core.v1.Node", codec: Node,
    service: NodeServiceService, client: NodeServiceClient, hasSpec: true, hasStatus: true,
  }),
  Pod: kind({
    kind: "Pod", apiVersion: "v1", plural: "pods", singular: "pod", shortNames: ["po"],
    namespaced: true, protoType: "navarch.core.v1.Pod", codec: Pod,
    service: PodServiceService, client: PodServiceClient, hasSpec: true, hasStatus: true,
  }),
  Service: kind({
    kind: "Service", apiVersion: "v1", plural: "services", singular: "service", shortNames: ["svc"],
    namespaced: true, protoType: "navarch.core.v1.Service", codec: Service,
    service: ServiceServiceService, client: ServiceServiceClient, hasSpec: true, hasStatus: true,
  }),
  Endpoints: kind({
    kind: "Endpoints", apiVersion: "v1", plural: "endpoints", singular: "endpoints", shortNames: ["ep"],
    namespaced: true, protoType: "navarch.core.v1.Endpoints", codec: Endpoints,
    service: EndpointsServiceService, client: EndpointsServiceClient, hasSpec: false, hasStatus: false,
  }),
  ConfigMap: kind({
    kind: "ConfigMap", apiVersion: "v1", plural: "configmaps", singular: "configmap", shortNames: ["cm"],
    namespaced: true, protoType: "navarch.core.v1.ConfigMap", codec: ConfigMap,
    service: ConfigMapServiceService, client: ConfigMapServiceClient, hasSpec: false, hasStatus: false,
  }),
  Secret: kind({
    kind: "Secret", apiVersion: "v1", plural: "secrets", singular: "secret", shortNames: [],
    namespaced: true, protoType: "navarch.core.v1.Secret", codec: Secret,
    service: SecretServiceService, client: SecretServiceClient, hasSpec: false, hasStatus: false,
  }),
  Event: kind({
    kind: "Event", apiVersion: "v1", plural: "events", singular: "event", shortNames: ["ev"],
    namespaced: true, protoType: "navarch.core.v1.Event", codec: Event,
    service: EventServiceService, client: EventServiceClient, hasSpec: false, hasStatus: false,
  }),
  ReplicaSet: kind({
    kind: "ReplicaSet", apiVersion: "apps/v1", plural: "replicasets", singular: "replicaset", shortNames: ["rs"],
    namespaced: true, protoType: "navarch.apps.v1.ReplicaSet", codec: ReplicaSet,
    service: ReplicaSetServiceService, client: ReplicaSetServiceClient, hasSpec: true, hasStatus: true,
  }),
  Deployment: kind({
    kind: "Deployment", apiVersion: "apps/v1", plural: "deployments", singular: "deployment", shortNames: ["deploy"],
    namespaced: true, protoType: "navarch.apps.v1.Deployment", codec: Deployment,
    service: DeploymentServiceService, client: DeploymentServiceClient, hasSpec: true, hasStatus: true,
  }),
  DaemonSet: kind({
    kind: "DaemonSet", apiVersion: "apps/v1", plural: "daemonsets", singular: "daemonset", shortNames: ["ds"],
    namespaced: true, protoType: "navarch.apps.v1.DaemonSet", codec: DaemonSet,
    service: DaemonSetServiceService, client: DaemonSetServiceClient, hasSpec: true, hasStatus: true,
  }),
  Job: kind({
    kind: "Job", apiVersion: "batch/v1", plural: "jobs", singular: "job", shortNames: [],
    namespaced: true, protoType: "navarch.batch.v1.Job", codec: Job,
    service: JobServiceService, client: JobServiceClient, hasSpec: true, hasStatus: true,
  }),
  Ingress: kind({
    kind: "Ingress", apiVersion: "networking.k8s.io/v1", plural: "ingresses", singular: "ingress", shortNames: ["ing"],
    namespaced: true, protoType: "navarch.networking.v1.Ingress", codec: Ingress,
    service: IngressServiceService, client: IngressServiceClient, hasSpec: true, hasStatus: true,
  }),
  Lease: kind({
    kind: "Lease", apiVersion: "coordination.k8s.io/v1", plural: "leases", singular: "lease", shortNames: [],
    namespaced: true, protoType: "navarch.coordination.v1.Lease", codec: Lease,
    service: LeaseServiceService, client: LeaseServiceClient, hasSpec: true, hasStatus: false,
  }),
} as const;

export type KindName = keyof typeof KINDS;
export const ALL_KINDS: KindInfo[] = Object.values(KINDS) as unknown as KindInfo[];

/** Finds a kind by any name a user might type: kind, plural, singular or short name, any case. */
export function resolveKind(name: string): KindInfo | undefined {
  const n = name.toLowerCase();
  return ALL_KINDS.find(
    (k) => k.kind.toLowerCase() === n || k.plural === n || k.singular === n || k.shortNames.includes(n),
  );
}

/** Finds a kind by the apiVersion and kind fields of a manifest. */
export function kindOf(apiVersion: string, kindName: string): KindInfo | undefined {
  return ALL_KINDS.find((k) => k.kind === kindName && k.apiVersion === apiVersion);
}
