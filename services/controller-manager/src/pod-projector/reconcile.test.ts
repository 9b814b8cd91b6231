import { KINDS, toManifest, type Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { project, reconcile, sameContent, type Projection } from "./reconcile.js";

function pod(name: string, node: string, extra: Record<string, unknown> = {}): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, resourceVersion: "7" },
    spec: { nodeName: node, containers: [{ name: "c", image: "demo:1" }] },
    ...extra,
  });
}

/** Stands in for the digest of the stored JSON: the JSON itself (the store leaves resourceVersion out). */
function digest(p: Pod): string {
  const json = toManifest(KINDS.Pod, p) as { metadata?: Record<string, unknown> };
  delete json.metadata?.resourceVersion;
  return JSON.stringify(json);
}

function projected(p: Pod, rev = "3"): Projection {
  return { node: p.spec!.nodeName, namespace: p.metadata!.namespace, name: p.metadata!.name, revision: rev, digest: digest(project(p)) };
}

const plan = (p: Pod | undefined, existing: Projection[]) => reconcile(p, existing, (_pod, projected) => digest(projected));

test("an unbound pod is not projected", () => {
  assert.deepEqual(plan(pod("a", ""), []), []);
});

test("a bound pod is projected to its node without status", () => {
  const p = pod("a", "n1", { status: { phase: "Running" } });
  const [step] = plan(p, []);
  assert.equal(step?.type, "put");
  assert.equal(step?.node, "n1");
  assert.equal(step?.type === "put" && step.expectedRevision, undefined);
  assert.equal(step?.type === "put" && step.pod.status, undefined);
});

test("a status-only change is not copied again", () => {
  const p = pod("a", "n1");
  const withStatus = { ...p, status: KINDS.Pod.codec.fromPartial({ status: { phase: "Running", podIP: "10.0.0.2" } }).status };
  assert.deepEqual(plan(withStatus, [projected(p)]), []);
});

test("a metadata or spec change updates the projection on its revision", () => {
  const p = pod("a", "n1");
  const deleting = { ...p, metadata: { ...p.metadata!, deletionTimestamp: "2026-01-01T00:00:00Z", deletionGracePeriodSeconds: 30 } };
  const steps = plan(deleting, [projected(p, "11")]);
  assert.equal(steps.length, 1);
  assert.equal(steps[0]!.type, "put");
  assert.equal(steps[0]!.type === "put" && steps[0]!.expectedRevision, "11");
  assert.equal(steps[0]!.type === "put" && steps[0]!.pod.metadata!.deletionTimestamp, "2026-01-01T00:00:00Z");
  const relabelled = { ...p, metadata: { ...p.metadata!, labels: { app: "api" } } };
  assert.equal(plan(relabelled, [projected(p, "11")]).length, 1);
});

test("a deleted pod's projection is removed on its revision", () => {
  const p = pod("a", "n1");
  assert.deepEqual(plan(undefined, [projected(p, "5")]), [{ type: "remove", node: "n1", namespace: "default", name: "a", expectedRevision: "5" }]);
});

test("a projection on another node than the pod's is removed, and the right one written", () => {
  const p = pod("a", "n2");
  const steps = plan(p, [projected(pod("a", "n1"), "4")]);
  assert.deepEqual(steps.map((s) => `${s.type} ${s.node}`), ["remove n1", "put n2"]);
});

/** As an informer holds it: stored as Kubernetes JSON, decoded again with the store's revision. */
function stored(p: Pod, rev: string): Pod {
  const decoded = KINDS.Pod.codec.fromJSON(JSON.parse(JSON.stringify(toManifest(KINDS.Pod, p))));
  return { ...decoded, metadata: { ...decoded.metadata!, resourceVersion: rev } };
}

test("pods as decoded from the store: only a metadata or spec change is a change of content", () => {
  const p = stored(
    pod("a", "n1", {
      metadata: { name: "a", namespace: "default", uid: "uid-a", labels: { app: "web" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs-1", controller: true }] },
      status: { phase: "Pending" },
    }),
    "40",
  );
  const running = stored({ ...p, status: KINDS.Pod.codec.fromPartial({ status: { phase: "Running", podIP: "10.0.0.2" } }).status }, "41");
  assert.equal(sameContent(p, running), true);
  assert.equal(sameContent(p, { ...running, metadata: { ...running.metadata!, labels: { app: "api" } } }), false);
  assert.equal(sameContent(p, { ...running, metadata: { ...running.metadata!, deletionTimestamp: "2026-01-01T00:00:00Z" } }), false);
  assert.equal(sameContent(p, { ...running, spec: { ...running.spec!, activeDeadlineSeconds: 5 } }), false);
  assert.deepEqual(plan(running, [projected(p, "3")]), [], "the projection of the pod read back is up to date");
});
