import { KINDS, type Pod } from "@navarch/api";
import type { ResourceStore } from "@navarch/store";
import assert from "node:assert/strict";
import { test } from "node:test";
import { digestOf, projectionDigest, projectionDigests } from "./digests.js";
import { project } from "./reconcile.js";

// A stand-in for the node-pods store: the view only replaces decode and reaches encode through it.
const encoder = new TextEncoder();
const store = {
  bucket: "navarch-node-pods",
  encode: (p: Pod) => encoder.encode(JSON.stringify(KINDS.Pod.codec.toJSON({ ...p, metadata: { ...p.metadata!, resourceVersion: "" } }))),
  decode: () => {
    throw new Error("the view must not decode whole pods");
  },
} as unknown as ResourceStore<Pod>;

const pod = KINDS.Pod.codec.fromPartial({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "a", namespace: "default", uid: "uid-a", labels: { app: "web" } },
  spec: { nodeName: "n1", containers: [{ name: "c", image: "demo:1" }] },
});

test("the view keeps where a projection is and the digest of its bytes, nothing of the pod", () => {
  const view = projectionDigests(store);
  const bytes = store.encode(project(pod));
  const d = view.decode(bytes, 12);
  assert.deepEqual(d, { apiVersion: "v1", kind: "Pod", metadata: { name: "a", namespace: "default", resourceVersion: "12" }, node: "n1", digest: digestOf(bytes) });
  assert.equal(view.bucket, "navarch-node-pods", "everything else is the store's");
});

test("the digest of a projection to write equals the stored one exactly when the bytes are equal", () => {
  const view = projectionDigests(store);
  const stored = view.decode(store.encode(project(pod)), 3);
  assert.equal(projectionDigest(view, project(pod)), stored.digest);
  const relabelled = { ...pod, metadata: { ...pod.metadata!, labels: { app: "api" } } };
  assert.notEqual(projectionDigest(view, project(relabelled)), stored.digest);
});
