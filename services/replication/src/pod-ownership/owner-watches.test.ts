// Which owners a pod event wakes: the controlling owner (by kind, name and uid) before and after
// the change, and - only for a kind that adopts - the owners whose selector matches an active
// orphan.
import { KINDS, type KubeObject, type Pod, type ReplicaSet } from "@navarch/api";
import type { StoreEvent } from "@navarch/store";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { selectorOf, type PodOwnerKind } from "./owner-kind.js";
import { podOwners, type OwnerCache } from "./owner-watches.js";

const ADOPTS: PodOwnerKind<ReplicaSet> = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "replicaset", selector: selectorOf };
const NEVER_ADOPTS: PodOwnerKind<ReplicaSet> = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "replicaset" };

function owner(name: string, uid: string, app: string): ReplicaSet {
  return KINDS.ReplicaSet.codec.fromPartial({ metadata: { name, namespace: "default", uid }, spec: { selector: { matchLabels: { app } } } });
}

/** The owners' cache: what podOwners reads of an informer. */
function cache(...owners: ReplicaSet[]): OwnerCache<ReplicaSet> {
  const key = (o: KubeObject) => `${o.metadata?.namespace}.${o.metadata?.name}`;
  return {
    get: (ns, name) => owners.find((o) => o.metadata!.namespace === ns && o.metadata!.name === name),
    list: (ns) => owners.filter((o) => ns === undefined || o.metadata!.namespace === ns),
    store: { keyOf: key },
  };
}

function pod(o: { app?: string; ref?: { kind?: string; name: string; uid: string }; deleting?: boolean; phase?: string } = {}): Pod {
  return KINDS.Pod.codec.fromPartial({
    metadata: {
      name: "p",
      namespace: "default",
      uid: "pod-uid",
      labels: { app: o.app ?? "web" },
      deletionTimestamp: o.deleting ? "2026-01-01T00:00:00Z" : "",
      ownerReferences: o.ref ? [{ apiVersion: "apps/v1", kind: o.ref.kind ?? "ReplicaSet", name: o.ref.name, uid: o.ref.uid, controller: true }] : [],
    },
    status: { phase: o.phase ?? "Running" },
  });
}

const event = (type: StoreEvent<Pod>["type"], object: Pod, old?: Pod): StoreEvent<Pod> => ({ type, key: "default.p", object, old, revision: 1 });

describe("podOwners", () => {
  const owners = cache(owner("web", "uid-web", "web"), owner("api", "uid-api", "api"), owner("web2", "uid-web2", "web"));

  test("a controlled pod wakes its owner, when kind, name and uid match", () => {
    assert.deepEqual(podOwners(ADOPTS, owners, event("ADDED", pod({ ref: { name: "web", uid: "uid-web" } }))), ["default.web"]);
    assert.deepEqual(podOwners(ADOPTS, owners, event("ADDED", pod({ ref: { name: "web", uid: "uid-old" } }))), [], "an owner of that name recreated since");
    assert.deepEqual(podOwners(ADOPTS, owners, event("ADDED", pod({ ref: { kind: "Job", name: "web", uid: "uid-web" } }))), [], "another kind's pod");
    assert.deepEqual(podOwners(NEVER_ADOPTS, owners, event("DELETED", pod({ ref: { name: "web", uid: "uid-web" } }))), ["default.web"], "also when deleted");
  });

  test("a pod that moves between owners wakes both", () => {
    const before = pod({ ref: { name: "web", uid: "uid-web" } });
    const after = pod({ app: "api", ref: { name: "api", uid: "uid-api" } });
    assert.deepEqual(podOwners(ADOPTS, owners, event("MODIFIED", after, before)).sort(), ["default.api", "default.web"]);
  });

  test("an active orphan wakes the owners whose selector matches it, only for a kind that adopts", () => {
    assert.deepEqual(podOwners(ADOPTS, owners, event("ADDED", pod())).sort(), ["default.web", "default.web2"]);
    assert.deepEqual(podOwners(NEVER_ADOPTS, owners, event("ADDED", pod())), []);
    assert.deepEqual(podOwners(ADOPTS, owners, event("DELETED", pod())), [], "gone");
    assert.deepEqual(podOwners(ADOPTS, owners, event("MODIFIED", pod({ deleting: true }))), [], "terminating");
    assert.deepEqual(podOwners(ADOPTS, owners, event("MODIFIED", pod({ phase: "Succeeded" }))), [], "finished");
  });

  test("a pod released by its owner wakes the owner (before) and the owners that may adopt it (after)", () => {
    const before = pod({ ref: { name: "api", uid: "uid-api" } });
    assert.deepEqual(podOwners(ADOPTS, owners, event("MODIFIED", pod(), before)).sort(), ["default.api", "default.web", "default.web2"]);
  });
});
