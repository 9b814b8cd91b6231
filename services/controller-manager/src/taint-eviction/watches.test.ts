import { KINDS, type Node, type Pod } from "@navarch/api";
import type { Informer, StoreEvent } from "@navarch/store";
import assert from "node:assert/strict";
import { test } from "node:test";
import { PodsByNode, taintEvictionWatches } from "./watches.js";

// The watches only map events to keys; the pod informer is only subscribed to (empty).
const pods = { onEvent: () => () => {}, keys: () => [] } as unknown as Informer<Pod>;
const [podWatch] = taintEvictionWatches(pods, {} as Informer<Node>, new PodsByNode(pods));
const keysOf = (e: StoreEvent<Pod>) => podWatch!.toKeys!(e as StoreEvent<never>);

const pod = KINDS.Pod.codec.fromPartial({
  metadata: { name: "a", namespace: "default", uid: "u", resourceVersion: "5" },
  spec: { nodeName: "n1", tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }] },
});

test("a status write queues nothing; a spec change or a deletion starting queues the pod", () => {
  const running = { ...pod, metadata: { ...pod.metadata!, resourceVersion: "6" }, status: KINDS.Pod.codec.fromPartial({ status: { phase: "Running" } }).status };
  assert.deepEqual(keysOf({ type: "MODIFIED", key: "default.a", object: running, old: pod, revision: 6 }), []);
  const untolerant = { ...running, spec: { ...running.spec!, tolerations: [] } };
  assert.deepEqual(keysOf({ type: "MODIFIED", key: "default.a", object: untolerant, old: running, revision: 7 }), ["default.a"]);
  const deleting = { ...running, metadata: { ...running.metadata!, deletionTimestamp: "2026-01-01T00:00:00Z" } };
  assert.deepEqual(keysOf({ type: "MODIFIED", key: "default.a", object: deleting, old: running, revision: 7 }), ["default.a"]);
  assert.deepEqual(keysOf({ type: "ADDED", key: "default.a", object: pod, revision: 5 }), ["default.a"]);
  assert.deepEqual(keysOf({ type: "DELETED", key: "default.a", object: pod, old: pod, revision: 8 }), []);
});
