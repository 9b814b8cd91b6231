import { KINDS, type Pod } from "@navarch/api";
import type { Informer, StoreEvent } from "@navarch/store";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProjectionDigest } from "./digests.js";
import { ProjectionIndex, projectorWatches } from "./watches.js";

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

test("the index finds every projection of a pod, one or several, and forgets removed ones", () => {
  const handlers: ((e: StoreEvent<ProjectionDigest>) => void)[] = [];
  const items = new Map<string, ProjectionDigest>();
  const informer = {
    keys: () => [...items.keys()],
    getByKey: (k: string) => items.get(k),
    onEvent: (h: (e: StoreEvent<ProjectionDigest>) => void) => (handlers.push(h), () => {}),
  } as unknown as Informer<ProjectionDigest>;
  const put = (key: string, node: string, rev: string) => {
    const object: ProjectionDigest = { apiVersion: "v1", kind: "Pod", metadata: { name: "a", namespace: "default", resourceVersion: rev } as never, node, digest: `d${rev}` };
    const old = items.get(key);
    items.set(key, object);
    for (const h of handlers) h({ type: old ? "MODIFIED" : "ADDED", key, object, old, revision: Number(rev) });
  };
  const remove = (key: string) => {
    const old = items.get(key)!;
    items.delete(key);
    for (const h of handlers) h({ type: "DELETED", key, object: old, old, revision: 99 });
  };
  put("n1.default.a", "n1", "1");
  const index = new ProjectionIndex(informer);
  assert.deepEqual(index.of("default.a").map((p) => [p.node, p.revision]), [["n1", "1"]]);
  put("n1.default.a", "n1", "2");
  put("n2.default.a", "n2", "3");
  assert.deepEqual(index.of("default.a").map((p) => [p.node, p.revision]), [["n1", "2"], ["n2", "3"]]);
  remove("n1.default.a");
  assert.deepEqual(index.of("default.a").map((p) => [p.node, p.revision]), [["n2", "3"]]);
  remove("n2.default.a");
  assert.deepEqual(index.of("default.a"), []);
  assert.deepEqual(index.of("default.b"), []);
});
