// The folder's cache of navarch-pod-status keeps each report as its stored bytes and decodes it
// when it folds it (about once per report). Decoded, 150,000 reports were over a million small
// objects that the all-in-one's garbage collector marked on every major collection, for nothing
// between two folds: its pauses (up to seconds at that size) are what the API's p99 waited on.
import type { KubeObject, ObjectMeta, Pod } from "@navarch/api";
import type { ResourceStore } from "@navarch/store";

/** One report as kept: name, namespace and resourceVersion, and the stored JSON. */
export interface RawReport extends KubeObject {
  bytes: Uint8Array;
}

const decoder = new TextDecoder();

/** A view of the reports store whose decode keeps the bytes (an informer of it holds RawReports). */
export function rawReports(store: ResourceStore<Pod>): ResourceStore<RawReport> {
  const decode = (value: Uint8Array, revision: number): RawReport => {
    const json = JSON.parse(decoder.decode(value)) as { metadata?: { name?: string; namespace?: string } };
    const metadata = { name: json.metadata?.name ?? "", namespace: json.metadata?.namespace ?? "", resourceVersion: String(revision) } as ObjectMeta;
    // A copy: the watch's value may be a view of a larger read buffer, which it would keep alive.
    return { apiVersion: "v1", kind: "Pod", metadata, bytes: value.slice() };
  };
  return Object.create(store, { decode: { value: decode } }) as ResourceStore<RawReport>;
}

/** The report as a Pod, decoded by the store behind `view` (the view's prototype). */
export function decodeReport(view: ResourceStore<RawReport>, raw: RawReport): Pod {
  const store = Object.getPrototypeOf(view) as ResourceStore<Pod>;
  return store.decode(raw.bytes, Number(raw.metadata!.resourceVersion));
}
