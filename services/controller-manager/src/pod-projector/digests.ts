// The projector's cache of navarch-node-pods holds, per projection, where it is and a digest of
// its stored JSON - not the decoded pod. A projection is a bound pod without its status: with
// 150,000 pods, decoded copies were as many objects as the pods themselves, a third of what the
// all-in-one's garbage collector marked (its pauses grew with them, and with them the API's p99).
// The projector compares the digest of the JSON it would write with the stored one: the bytes are
// ResourceStore.encode's, the same function that wrote them, so equal content means equal bytes.
import type { KubeObject, ObjectMeta, Pod } from "@navarch/api";
import { decodingView, storeBehind, type ResourceStore } from "@navarch/store";
import { createHash } from "node:crypto";

/** What the projector keeps of one projection (metadata has name, namespace and resourceVersion only). */
export interface ProjectionDigest extends KubeObject {
  /** spec.nodeName of the projected pod. */
  node: string;
  /** Digest of the stored JSON. */
  digest: string;
}

const decoder = new TextDecoder();

export function digestOf(json: Uint8Array): string {
  return createHash("sha256").update(json).digest("base64");
}

/** The digest `projected` has once written to the store behind `view` (ResourceStore.encode's bytes). */
export function projectionDigest(view: ResourceStore<ProjectionDigest>, projected: Pod): string {
  return digestOf(storeBehind<Pod>(view).encode(projected));
}

/**
 * A view of the node-pods store whose decode keeps only a ProjectionDigest, for an Informer.
 * Everything else (keys, watch filter, the KV) is the store's own.
 */
export function projectionDigests(store: ResourceStore<Pod>): ResourceStore<ProjectionDigest> {
  const decode = (value: Uint8Array, revision: number): ProjectionDigest => {
    const json = JSON.parse(decoder.decode(value)) as { metadata?: { name?: string; namespace?: string }; spec?: { nodeName?: string } };
    const metadata = { name: json.metadata?.name ?? "", namespace: json.metadata?.namespace ?? "", resourceVersion: String(revision) } as ObjectMeta;
    return { apiVersion: "v1", kind: "Pod", metadata, node: json.spec?.nodeName ?? "", digest: digestOf(value) };
  };
  return decodingView(store, decode);
}
