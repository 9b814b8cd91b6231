import { KINDS, type KubeObject, type OwnerReference } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { planDependent, planOwner, type OwnerState, type OwnerView } from "./reconcile.js";

const ref = (uid: string, block = true): OwnerReference => ({ apiVersion: "apps/v1", kind: "ReplicaSet", name: `rs-${uid}`, uid, controller: true, blockOwnerDeletion: block });
const view = (uid: string, state: OwnerState): OwnerView => ({ ref: ref(uid), state });

function object(name: string, o: { refs?: OwnerReference[]; deleting?: boolean; finalizers?: string[] } = {}): KubeObject {
  return KINDS.ConfigMap.codec.fromPartial({
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      ownerReferences: o.refs ?? [],
      deletionTimestamp: o.deleting ? "2026-03-01T12:00:00Z" : "",
      finalizers: o.finalizers ?? [],
    },
  });
}

describe("planDependent", () => {
  const cases: { name: string; owners: OwnerView[]; deleting?: boolean; hasDependents?: boolean; want: ReturnType<typeof planDependent> }[] = [
    { name: "no owners: not the collector's business", owners: [], want: { type: "none" } },
    { name: "its owner exists", owners: [view("a", "solid")], want: { type: "none" } },
    { name: "its owner is gone: delete (background)", owners: [view("a", "absent")], want: { type: "delete", policy: "Background", absent: [ref("a")] } },
    { name: "every owner is gone", owners: [view("a", "absent"), view("b", "absent")], want: { type: "delete", policy: "Background", absent: [ref("a"), ref("b")] } },
    { name: "one owner gone, another exists: only the reference goes", owners: [view("a", "absent"), view("b", "solid")], want: { type: "removeOwnerReferences", uids: ["a"] } },
    {
      name: "an owner in foreground deletion and another that stays: the reference goes (the owner must not wait)",
      owners: [view("a", "waiting"), view("b", "solid")],
      want: { type: "removeOwnerReferences", uids: ["a"] },
    },
    { name: "an owner of a kind not followed counts as existing", owners: [view("a", "absent"), view("x", "unknown")], want: { type: "removeOwnerReferences", uids: ["a"] } },
    { name: "its owner waits for it (foreground), no dependents of its own", owners: [view("a", "waiting")], want: { type: "delete", policy: "Background", absent: [] } },
    {
      name: "its owner waits for it and it has dependents: foreground down the chain",
      owners: [view("a", "waiting")],
      hasDependents: true,
      want: { type: "delete", policy: "Foreground", absent: [] },
    },
    { name: "already being deleted: left alone", owners: [view("a", "absent")], deleting: true, want: { type: "none" } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const obj = object("dep", { refs: c.owners.map((o) => o.ref), deleting: c.deleting ?? false });
      assert.deepEqual(planDependent(obj, c.owners, c.hasDependents ?? false), c.want);
    });
  }
});

describe("planOwner", () => {
  const owner = (finalizers: string[], deleting = true) => object("owner", { finalizers, deleting });
  const dep = (name: string, refs: OwnerReference[]) => ({ kind: "Pod", obj: object(name, { refs }) });
  const mine = (block = true) => ({ ...ref("x", block), uid: "uid-owner" });

  test("not being deleted: nothing", () => assert.deepEqual(planOwner(owner(["orphan"], false), [dep("a", [mine()])]), { type: "none" }));
  test("orphan: its dependents let go of it", () => {
    const a = dep("a", [mine()]);
    const stranger = dep("b", [ref("other")]);
    assert.deepEqual(planOwner(owner(["orphan"]), [a, stranger]), { type: "orphan", dependents: [a] });
  });
  test("orphan without dependents: only the finalizer goes", () => assert.deepEqual(planOwner(owner(["orphan"]), []), { type: "orphan", dependents: [] }));
  test("foreground: waits while a blocking dependent remains", () =>
    assert.deepEqual(planOwner(owner(["foregroundDeletion"]), [dep("a", [mine()]), dep("b", [mine(false)])]), { type: "waitForDependents", blocking: 1 }));
  test("foreground: dependents that do not block are not waited for", () =>
    assert.deepEqual(planOwner(owner(["foregroundDeletion"]), [dep("b", [mine(false)])]), { type: "removeFinalizer", finalizer: "foregroundDeletion" }));
  test("foreground: no dependents left, the finalizer goes", () =>
    assert.deepEqual(planOwner(owner(["foregroundDeletion", "example.com/x"]), []), { type: "removeFinalizer", finalizer: "foregroundDeletion" }));
  test("another finalizer only: not the collector's", () => assert.deepEqual(planOwner(owner(["example.com/x"]), []), { type: "none" }));
});
