import { KINDS, type Pod } from "@navarch/api";
import type { Informer, StoreEvent } from "@navarch/store";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProjectionDigest } from "./digests.js";
import { projectorWatches } from "./watches.js";

// The watches only map events to keys; the informers are never read.
const [podWatch, projectionWatch] = projectorWatches({ pods: {} as Informer<Pod>, projections: {} as Informer<ProjectionDigest> });

function pod(rev: string, extra: Partial<Pod> = {}): Pod {
  const p = KINDS.Pod.codec.fromPartial({
    metadata: { name: "a", namespace: "default", uid: "uid-a", resourceVersion: rev, labels: { app: "web" } },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "demo:1" }] },
  });
  return { ...p, ...extra };
}

const keysOf = (e: StoreEvent<Pod>) => podWatch!.toKeys!(e as StoreEvent<never>);

test("a status-only pod update queues nothing: the projection has no status", () => {
  const before = pod("5");
  const after = { ...pod("6"), status: KINDS.Pod.codec.fromPartial({ status: { phase: "Running", podIP: "10.0.0.2" } }).status };
  assert.deepEqual(keysOf({ type: "MODIFIED", key: "default.a", object: after, old: before, revision: 6 }), []);
});

test("pod creation, deletion and a metadata or spec change queue the pod", () => {
  const before = pod("5");
  assert.deepEqual(keysOf({ type: "ADDED", key: "default.a", object: before, revision: 5 }), ["default.a"]);
  assert.deepEqual(keysOf({ type: "DELETED", key: "default.a", object: before, old: before, revision: 7 }), ["default.a"]);
  const relabelled = { ...pod("6"), metadata: { ...pod("6").metadata!, labels: { app: "api" } } };
  assert.deepEqual(keysOf({ type: "MODIFIED", key: "default.a", object: relabelled, old: before, revision: 6 }), ["default.a"]);
  const deleting = { ...pod("6"), metadata: { ...pod("6").metadata!, deletionTimestamp: "2026-01-01T00:00:00Z" } };
  assert.deepEqual(keysOf({ type: "MODIFIED", key: "default.a", object: deleting, old: before, revision: 6 }), ["default.a"]);
  const rebound = { ...pod("6"), spec: { ...pod("6").spec!, nodeName: "n2" } };
  assert.deepEqual(keysOf({ type: "MODIFIED", key: "default.a", object: rebound, old: before, revision: 6 }), ["default.a"]);
});

test("a projection event queues its pod's key", () => {
  const e = { type: "DELETED", key: "n1.default.a", object: pod("3"), old: pod("3"), revision: 8 } as StoreEvent<Pod>; // only the key matters
  assert.deepEqual(projectionWatch!.toKeys!(e as StoreEvent<never>), ["default.a"]);
});
