import { KINDS, type Pod } from "@navarch/api";
import type { ResourceStore } from "@navarch/store";
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeReport, rawReports } from "./raw-reports.js";

// A stand-in for the reports store: JSON in, a Pod stamped with the revision out.
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const store = {
  bucket: "navarch-pod-status",
  decode: (value: Uint8Array, revision: number): Pod => {
    const p = KINDS.Pod.codec.fromJSON(JSON.parse(decoder.decode(value)));
    return { ...p, metadata: { ...p.metadata!, resourceVersion: String(revision) } };
  },
} as unknown as ResourceStore<Pod>;

const report = KINDS.Pod.codec.fromPartial({
  metadata: { name: "web", namespace: "default", uid: "u1", annotations: { "navarch.dev/reported-by-node": "n1" } },
  status: { phase: "Running", podIP: "10.0.0.5" },
});

test("a report is kept as its JSON and decoded by the store on demand", () => {
  const view = rawReports(store);
  const buffer = new Uint8Array(4096);
  const json = encoder.encode(JSON.stringify(KINDS.Pod.codec.toJSON(report)));
  buffer.set(json, 100);
  const value = buffer.subarray(100, 100 + json.length);
  const raw = view.decode(value, 9);
  assert.deepEqual(raw.metadata, { name: "web", namespace: "default", resourceVersion: "9" });
  assert.equal(typeof raw.json, "string", "nothing that holds on to the read buffer");
  buffer.fill(0);
  const decoded = decodeReport(view, raw);
  assert.equal(decoded.status!.podIP, "10.0.0.5");
  assert.equal(decoded.metadata!.uid, "u1");
  assert.equal(decoded.metadata!.resourceVersion, "9");
  assert.equal(view.bucket, "navarch-pod-status", "everything else is the store's");
});
