import assert from "node:assert/strict";
import { test } from "node:test";
import { KINDS, formatFieldErrors } from "@navarch/api";
import { admissionFor } from "./index.js";
import { child, index, key } from "./paths.js";
import { expectNone, expectOne, invalidCases, validate, validateUpdate, type Manifest } from "./testing.js";

function configMap(): Manifest {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "web.config",
      namespace: "team-a",
      labels: { app: "web", "app.kubernetes.io/part-of": "shop", empty: "" },
      annotations: { "example.com/Owner": "ops", description: "anything goes here: even spaces!" },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "0f1d", controller: true },
        { apiVersion: "v1", kind: "Namespace", name: "team-a", uid: "77aa" },
      ],
      finalizers: ["example.com/cleanup", "kubernetes"],
    },
    data: { "app.properties": "a=1" },
  };
}

test("paths: child, index and quoted keys", () => {
  assert.equal(child("", "metadata"), "metadata");
  assert.equal(index(child("spec", "containers"), 1), "spec.containers[1]");
  assert.equal(key("data", "a b"), 'data["a b"]');
});

test("metadata: a valid object passes", () => {
  expectNone(validate(KINDS.ConfigMap, configMap()));
});

test("metadata: generateName stands in for a name", () => {
  const m = configMap();
  m.metadata.name = "";
  m.metadata.generateName = "web-";
  expectNone(validate(KINDS.ConfigMap, m));
});

test("metadata: Namespace and Service names are DNS labels, others subdomains", () => {
  const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team.a" } };
  expectOne(validate(KINDS.Namespace, ns), "metadata.name", "DNS-1123 label");
  const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "web.v2", namespace: "default" }, spec: { ports: [{ port: 80 }] } };
  expectOne(validate(KINDS.Service, svc), "metadata.name", "DNS-1123 label");
  const node = { apiVersion: "v1", kind: "Node", metadata: { name: "worker-1.example.com" } };
  expectNone(validate(KINDS.Node, node));
});

test("metadata: the gateway's message format", () => {
  const node = { apiVersion: "v1", kind: "Node", metadata: { name: "n1", namespace: "default" } };
  assert.equal(formatFieldErrors(validate(KINDS.Node, node)), "metadata.namespace: not allowed on cluster-scoped kind Node");
  assert.equal(formatFieldErrors(admissionFor(KINDS.Pod).validate(KINDS.Pod.codec.fromJSON({ metadata: { namespace: "default" }, spec: { containers: [{ name: "a", image: "a:1", imagePullPolicy: "IfNotPresent" }], restartPolicy: "Always", dnsPolicy: "ClusterFirst" } }))), "metadata.name: Required value: name or generateName is required");
});

invalidCases(KINDS.ConfigMap, configMap, [
  { name: "name missing", edit: (m) => delete m.metadata.name, path: "metadata.name", phrase: "Required value" },
  { name: "name not a subdomain", edit: (m) => (m.metadata.name = "Web_Config"), path: "metadata.name", phrase: "DNS-1123 subdomain" },
  { name: "name too long", edit: (m) => (m.metadata.name = "a".repeat(254)), path: "metadata.name", phrase: "no more than 253 characters" },
  { name: "generateName invalid", edit: (m) => ((m.metadata.name = ""), (m.metadata.generateName = "Web-")), path: "metadata.generateName", phrase: "DNS-1123 subdomain" },
  { name: "namespace not a label", edit: (m) => (m.metadata.namespace = "team.a"), path: "metadata.namespace", phrase: "DNS-1123 label" },
  { name: "namespace missing", edit: (m) => (m.metadata.namespace = ""), path: "metadata.namespace", phrase: "Required value" },
  { name: "label key invalid", edit: (m) => (m.metadata.labels["-app"] = "x"), path: 'metadata.labels["-app"]', phrase: "name part must consist" },
  { name: "label key prefix invalid", edit: (m) => (m.metadata.labels["Example.com/app"] = "x"), path: 'metadata.labels["Example.com/app"]', phrase: "prefix part" },
  { name: "label value invalid", edit: (m) => (m.metadata.labels.app = "web server"), path: 'metadata.labels["app"]', phrase: "label value" },
  { name: "label value too long", edit: (m) => (m.metadata.labels.app = "a".repeat(64)), path: 'metadata.labels["app"]', phrase: "no more than 63 characters" },
  { name: "annotation key invalid", edit: (m) => (m.metadata.annotations["a b"] = "x"), path: 'metadata.annotations["a b"]', phrase: "name part must consist" },
  { name: "annotations too large", edit: (m) => (m.metadata.annotations.big = "x".repeat(256 * 1024)), path: "metadata.annotations", phrase: "Too long: may not be more than 262144 bytes" },
  { name: "ownerReference without uid", edit: (m) => (m.metadata.ownerReferences[1].uid = ""), path: "metadata.ownerReferences[1].uid", phrase: "Required value" },
  { name: "ownerReference without kind", edit: (m) => delete m.metadata.ownerReferences[0].kind, path: "metadata.ownerReferences[0].kind", phrase: "Required value" },
  { name: "ownerReference without apiVersion", edit: (m) => delete m.metadata.ownerReferences[0].apiVersion, path: "metadata.ownerReferences[0].apiVersion", phrase: "Required value" },
  { name: "ownerReference without name", edit: (m) => (m.metadata.ownerReferences[0].name = ""), path: "metadata.ownerReferences[0].name", phrase: "Required value" },
  { name: "two controllers", edit: (m) => (m.metadata.ownerReferences[1].controller = true), path: "metadata.ownerReferences", phrase: "Only one reference can have Controller set to true" },
  { name: "finalizer invalid", edit: (m) => m.metadata.finalizers.push("bad finalizer"), path: "metadata.finalizers[2]", phrase: "name part must consist" },
  { name: "finalizer repeated", edit: (m) => m.metadata.finalizers.push("kubernetes"), path: "metadata.finalizers[2]", phrase: 'Duplicate value: "kubernetes"' },
]);

invalidCases(KINDS.Node, () => ({ apiVersion: "v1", kind: "Node", metadata: { name: "worker-1" } }), [
  { name: "namespace on a cluster-scoped kind", edit: (m) => (m.metadata.namespace = "default"), path: "metadata.namespace", phrase: "not allowed on cluster-scoped kind Node" },
]);

test("metadata update: namespace is immutable, labels are not", () => {
  const before = configMap();
  const after = structuredClone(before);
  after.metadata.labels.app = "shop";
  expectNone(validateUpdate(KINDS.ConfigMap, after, before));
  after.metadata.namespace = "team-b";
  expectOne(validateUpdate(KINDS.ConfigMap, after, before), "metadata.namespace", "field is immutable");
});

test("admissionFor: a kind without rules of its own still gets the metadata rules", () => {
  const info = { ...KINDS.ConfigMap, kind: "Widget" } as unknown as typeof KINDS.ConfigMap;
  const adm = admissionFor(info);
  const obj = info.codec.fromJSON({ metadata: { name: "Bad_Name", namespace: "default" } });
  adm.default(obj);
  expectOne(adm.validate(obj), "metadata.name", "DNS-1123 subdomain");
});
