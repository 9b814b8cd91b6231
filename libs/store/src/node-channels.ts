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
import { jetstreamManager, type StreamUpdateConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ResourceStore } from "./resource-store.js";

export const NODE_PODS_BUCKET = "navarch-node-pods";
export const POD_STATUS_BUCKET = "navarch-pod-status";

export function nodeToken(node: string): string {
  return node.replaceAll(".", "_");
}

/**
 * Consumers allowed on navarch-node-pods: every node agent watches its own prefix with one
 * consumer. nats-server 2.15 limits a stream that sets no limit to 1,000 consumers (measured: the
 * 1,000th hollow node's watch failed with "maximum consumers limit reached"), so the bucket
 * names its own limit, far above Kubernetes' 5,000-node scale.
 */
export const NODE_PODS_MAX_CONSUMERS = 100_000;

/** The per-node view of navarch-pods; with `node`, keys (and watches) are limited to that node. */
export async function openNodePods(nc: NatsConnection, node?: string, replicas = 1): Promise<ResourceStore<Pod>> {
  const store = await ResourceStore.open<Pod>(nc, KINDS.Pod, {
    bucket: NODE_PODS_BUCKET,
    keyPrefix: node === undefined ? "" : `${nodeToken(node)}.`,
    ownerTokenInKeys: true,
    replicas,
    description: "Pods bound to each node (no status), key <node>.<namespace>.<name>; written by the pod projector",
  });
  await raiseConsumerLimit(nc, `KV_${NODE_PODS_BUCKET}`, NODE_PODS_MAX_CONSUMERS);
  return store;
}

/**
 * Sets a stream's max_consumers once (KV bucket options cannot). Servers before 2.15 have no
 * default limit and may refuse to change it on an existing stream: that refusal is harmless.
 */
async function raiseConsumerLimit(nc: NatsConnection, stream: string, limit: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const si = await jsm.streams.info(stream);
  if ((si.config.max_consumers ?? -1) >= limit) return;
  // The client's update type leaves max_consumers out (servers before 2.15 could not change it).
  await jsm.streams.update(stream, { max_consumers: limit } as Partial<StreamUpdateConfig>).catch(() => undefined);
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

// Logs (navctl logs; docs/adr/0004-logs-over-nats.md). The gateway sends a NATS request with a
// LogsRequest to the node's logs subject; the node agent answers it once (LogsReply), then
// publishes the log to the request's `replyTo` inbox: raw chunks of at most LOGS_CHUNK_BYTES,
// then one empty message with the LOGS_END_HEADER. The gateway publishes to `<replyTo>.alive`
// every LOGS_KEEPALIVE_MS (body: the bytes it has delivered, which also opens the node's send
// window) and to `<replyTo>.cancel` when its client goes away; the node stops after
// LOGS_KEEPALIVE_TIMEOUT_MS without a keepalive.

/** Subject a node agent serves log requests on: `navarch.node.<nodeToken>.logs`. */
export function nodeLogsSubject(node: string): string {
  return `navarch.node.${nodeToken(node)}.logs`;
}

export interface LogsRequest {
  namespace: string;
  name: string;
  uid: string;
  container: string;
  follow: boolean;
  previous: boolean;
  tailLines?: number | undefined;
  sinceSeconds?: number | undefined;
  timestamps: boolean;
  /** Inbox the node publishes the chunks and the end marker to. */
  replyTo: string;
}

export type LogsErrorCode = "NotFound" | "BadRequest" | "TooManyRequests" | "Unavailable" | "Internal";

export type LogsReply = { ok: true } | { ok: false; code: LogsErrorCode; message: string };

/** Largest data message of a log stream. */
export const LOGS_CHUNK_BYTES = 64 * 1024;
/** Bytes a node may send beyond what the gateway has acknowledged in a keepalive. */
export const LOGS_WINDOW_BYTES = 1024 * 1024;
export const LOGS_KEEPALIVE_MS = 5_000;
export const LOGS_KEEPALIVE_TIMEOUT_MS = 15_000;
/** On the last message of a stream (no data): "1". */
export const LOGS_END_HEADER = "Navarch-Logs-End";
/** On the last message, when the stream ended because of an error: its text. */
export const LOGS_ERROR_HEADER = "Navarch-Logs-Error";
/** On every data message: the stream offset of its first byte (detects lost messages). */
export const LOGS_OFFSET_HEADER = "Navarch-Logs-Offset";

export function logsAliveSubject(replyTo: string): string {
  return `${replyTo}.alive`;
}

export function logsCancelSubject(replyTo: string): string {
  return `${replyTo}.cancel`;
}
