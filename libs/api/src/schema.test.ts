import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidError } from "./errors.js";
import { KINDS } from "./kinds.js";
import { decodeManifest, toManifest } from "./manifest.js";
import { checkManifestShape } from "./schema.js";

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", labels: { app: "web" } },
  spec: {
    containers: [{ name: "web", image: "demo:1", ports: [{ containerPort: 8080 }], resources: { limits: { cpu: 1, memory: "64Mi" } } }],
    restartPolicy: "Always",
  },
};

test("a Kubernetes Pod manifest has no shape errors and round-trips", () => {
  assert.deepEqual(checkManifestShape("navarch.core.v1.Pod", pod), []);
  const { info, object } = decodeManifest(pod);
  assert.equal(info.kind, "Pod");
  const back = toManifest(info, object) as typeof pod;
  assert.equal(back.spec.containers[0]!.resources.limits.cpu, "1");
  assert.equal(back.spec.containers[0]!.ports[0]!.containerPort, 8080);
});

test("unknown fields are named by their JSON path", () => {
  const bad = structuredClone(pod) as Record<string, any>;
  bad.spec.containers[0].imagee = "x";
  bad.spec.nodeSelctor = {};
  const paths = checkManifestShape("navarch.core.v1.Pod", bad).map((e) => e.path);
  assert.deepEqual(paths.sort(), ["spec.containers[0].imagee", "spec.nodeSelctor"]);
});

test("wrong types are refused; numbers are fine for IntOrString and quantities", () => {
  const errs = checkManifestShape("navarch.core.v1.ConfigMap", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: 1 } });
  assert.deepEqual(errs, [{ path: 'data["a"]', message: "expected a string, got a number" }]);
  const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80, targetPort: 8080 }] } };
  assert.deepEqual(checkManifestShape("navarch.core.v1.Service", svc), []);
  const out = toManifest(KINDS.Service, KINDS.Service.codec.fromJSON(svc)) as { spec: { ports: { targetPort: unknown }[] } };
  assert.equal(out.spec.ports[0]!.targetPort, 8080, "IntOrString numbers print as numbers");
  assert.equal(checkManifestShape("navarch.core.v1.Pod", { spec: { containers: "web" } })[0]!.message, "expected a list, got a string");
});

test("wrong kind or apiVersion is a precise error", () => {
  assert.throws(() => decodeManifest({ apiVersion: "apps/v1", kind: "ConfigMap", metadata: { name: "x" } }), (e: unknown) => e instanceof InvalidError && /^apiVersion: "apps\/v1" does not serve kind ConfigMap; use "v1"/.test(e.message));
  assert.throws(() => decodeManifest({ apiVersion: "v1", kind: "Widget" }), /InvalidError: kind: unsupported kind "Widget"/);
  assert.throws(() => decodeManifest({ kind: "Pod" }), /InvalidError: apiVersion: required/);
  assert.throws(() => decodeManifest([1]), /a manifest must be an object/);
});

test("Kubernetes JSON names: clusterIP, podIP, containerID", () => {
  const svc = KINDS.Service.codec.fromJSON({ spec: { clusterIP: "None" } });
  assert.equal(svc.spec!.clusterIP, "None");
  const p = KINDS.Pod.codec.fromJSON({ status: { podIP: "10.0.0.1", containerStatuses: [{ containerID: "docker://abc", imageID: "sha256:1" }] } });
  assert.equal(p.status!.podIP, "10.0.0.1");
  assert.equal(p.status!.containerStatuses[0]!.containerID, "docker://abc");
});
