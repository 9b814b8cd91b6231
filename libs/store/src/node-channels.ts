// What the control plane and the node agents exchange, besides the kinds' own buckets:
//
//   navarch-node-pods   key <node>.<namespace>.<name>   the pods bound to a node (spec + metadata,
//                       no status), projected from navarch-pods by one writer (the pod projector
//                       of the controller-manager). A node agent watches "<node>.>" only, so its
//                       traffic does not grow with the pods of other nodes.
//   navarch-pod-status  key <namespace>.<name>          the latest status a node agent observed for
//                       a pod it runs: a Pod with only metadata (name, namespace, uid, and the
//                       reporting node in an annotation) and status. Folded into Pod.status by one
//                       writer (the pod status folder), which refuses reports from a node the pod
//                       is not bound to or for another pod of the same name (uid).
//   Lease <node> in namespace navarch-node-lease        the node's heartbeat (renewTime), renewed by
//                       its agent; folded into the Node's Ready condition.
//
// Node names are DNS subdomains and may contain dots, which are KV key separators; in keys a node
// name is written with "_" for "." (not a DNS character, so the mapping is reversible).
import { KINDS, type Pod } from "@navarch/api";
import type { NatsConnection } from "@nats-io/transport-node";
import { ResourceStore } from "./resource-store.js";

export const NODE_PODS_BUCKET = "navarch-node-pods";
export const POD_STATUS_BUCKET = "navarch-pod-status";
export const NODE_LEASE_NAMESPACE = "navarch-node-lease";

export function nodeToken(node: string): string {
  return node.replaceAll(".", "_");
}

/** The per-node view of navarch-pods; with `node`, keys (and watches) are limited to that node. */
export function openNodePods(nc: NatsConnection, node?: string, replicas = 1): Promise<ResourceStore<Pod>> {
  return ResourceStore.open(nc, KINDS.Pod, {
    bucket: NODE_PODS_BUCKET,
    keyPrefix: node === undefined ? "" : `${nodeToken(node)}.`,
    replicas,
    description: "Pods bound to each node (no status), key <node>.<namespace>.<name>; written by the pod projector",
  });
}

/** Annotation of a status report: the node whose agent observed it. */
export const REPORTED_BY_ANNOTATION = "navarch.dev/reported-by-node";

/** Status reports of node agents (one per pod, keyed like navarch-pods). */
export function openPodStatusReports(nc: NatsConnection, replicas = 1): Promise<ResourceStore<Pod>> {
  return ResourceStore.open(nc, KINDS.Pod, {
    bucket: POD_STATUS_BUCKET,
    replicas,
    description: "Pod status observed by node agents (metadata + status), key <namespace>.<name>; folded into navarch-pods",
  });
}
