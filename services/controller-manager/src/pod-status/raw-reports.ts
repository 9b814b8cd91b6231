// The folder's cache of navarch-pod-status keeps each report as its stored JSON and decodes it
// when it folds it (about once per report). Decoded, 150,000 reports were over a million small
// objects that the all-in-one's garbage collector marked on every major collection, for nothing
// between two folds: its pauses (up to seconds at that size) are what the API's p99 waited on.
import type { KubeObject, ObjectMeta, Pod } from "@navarch/api";
import { decodingView, storeBehind, type ResourceStore } from "@navarch/store";

/** One report as kept: name, namespace and resourceVersion, and the stored JSON as a string. */
export interface RawReport extends KubeObject {
  /**
   * A string, not the bytes: one object the collector does not look into, on the heap. A copy of
   * the bytes per report was an ArrayBuffer each, off the heap: measured 350 MiB more RSS at 75,000.
   */
  json: string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A view of the reports store whose decode keeps the JSON (an informer of it holds RawReports). */
export function rawReports(store: ResourceStore<Pod>): ResourceStore<RawReport> {
  const decode = (value: Uint8Array, revision: number): RawReport => {
    const json = decoder.decode(value);
    const meta = (JSON.parse(json) as { metadata?: { name?: string; namespace?: string } }).metadata;
    const metadata = { name: meta?.name ?? "", namespace: meta?.namespace ?? "", resourceVersion: String(revision) } as ObjectMeta;
    return { apiVersion: "v1", kind: "Pod", metadata, json };
  };
  return decodingView(store, decode);
}

/** The report as a Pod, decoded by the store behind `view` (the view's prototype). */
export function decodeReport(view: ResourceStore<RawReport>, raw: RawReport): Pod {
  return storeBehind<Pod>(view).decode(encoder.encode(raw.json), Number(raw.metadata!.resourceVersion));
}
