import assert from "node:assert/strict";
import { test } from "node:test";
import { KINDS, type Secret } from "@navarch/api";
import { decode, expectNone, expectOne, invalidCases, validate, validateUpdate, type Manifest } from "./testing.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function configMap(): Manifest {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "web-config", namespace: "default" },
    data: { "nginx.conf": "worker_processes 1;", LOG_LEVEL: "info", ".hidden": "x" },
    binaryData: { "logo.png": b64("\x89PNG") },
  };
}

function secret(): Manifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db-credentials", namespace: "default" },
    data: { username: b64("admin"), password: b64("old") },
    stringData: { password: "s3cr3t", "db.url": "postgres://db:5432" },
  };
}

test("ConfigMap: a valid config map passes", () => {
  expectNone(validate(KINDS.ConfigMap, configMap()));
});

invalidCases(KINDS.ConfigMap, configMap, [
  { name: "key with a space", edit: (m) => (m.data["a b"] = "x"), path: 'data["a b"]', phrase: "valid config key" },
  { name: "key '..'", edit: (m) => (m.data[".."] = "x"), path: 'data[".."]', phrase: "must not be '..'" },
  { name: "binary key invalid", edit: (m) => (m.binaryData["a/b"] = b64("x")), path: 'binaryData["a/b"]', phrase: "valid config key" },
  { name: "key in data and binaryData", edit: (m) => (m.binaryData.LOG_LEVEL = b64("x")), path: 'binaryData["LOG_LEVEL"]', phrase: "duplicate of key present in data" },
  { name: "larger than 1 MiB", edit: (m) => (m.data.big = "x".repeat(1024 * 1024)), path: "data", phrase: "Too long" },
]);

test("ConfigMap update: immutable freezes data, binaryData and immutable", () => {
  const before = configMap();
  before.immutable = true;
  const sameButReordered = structuredClone(before);
  sameButReordered.data = { LOG_LEVEL: "info", ".hidden": "x", "nginx.conf": "worker_processes 1;" };
  sameButReordered.metadata.labels = { app: "web" };
  expectNone(validateUpdate(KINDS.ConfigMap, sameButReordered, before));

  const changed = structuredClone(before);
  changed.data.LOG_LEVEL = "debug";
  expectOne(validateUpdate(KINDS.ConfigMap, changed, before), "data", "Forbidden: field is immutable when `immutable` is set");
  const binary = structuredClone(before);
  binary.binaryData["logo.png"] = b64("GIF8");
  expectOne(validateUpdate(KINDS.ConfigMap, binary, before), "binaryData", "field is immutable when `immutable` is set");
  const thawed = structuredClone(before);
  thawed.immutable = false;
  expectOne(validateUpdate(KINDS.ConfigMap, thawed, before), "immutable", "field is immutable when `immutable` is set");
});

test("ConfigMap update: a mutable config map may change and become immutable", () => {
  const before = configMap();
  const after = structuredClone(before);
  after.data.LOG_LEVEL = "debug";
  after.immutable = true;
  expectNone(validateUpdate(KINDS.ConfigMap, after, before));
});

test("Secret: default type Opaque and stringData merged into data (stringData wins)", () => {
  const s = decode(KINDS.Secret, secret()) as Secret;
  assert.equal(s.type, "Opaque");
  assert.deepEqual(s.stringData, {});
  assert.deepEqual(
    Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v).toString("utf8")])),
    { username: "admin", password: "s3cr3t", "db.url": "postgres://db:5432" },
  );
  expectNone(validate(KINDS.Secret, secret()));
});

test("Secret: an explicit type is kept", () => {
  const m = secret();
  m.type = "kubernetes.io/basic-auth";
  assert.equal((decode(KINDS.Secret, m) as Secret).type, "kubernetes.io/basic-auth");
  expectNone(validate(KINDS.Secret, m));
});

invalidCases(KINDS.Secret, secret, [
  { name: "data key invalid", edit: (m) => (m.data["user name"] = b64("x")), path: 'data["user name"]', phrase: "valid config key" },
  { name: "stringData key invalid (merged into data)", edit: (m) => (m.stringData["a:b"] = "x"), path: 'data["a:b"]', phrase: "valid config key" },
  { name: "larger than 1 MiB", edit: (m) => (m.stringData.big = "x".repeat(1024 * 1024 + 1)), path: "data", phrase: "Too long" },
  { name: "tls secret without tls.key", edit: (m) => ((m.type = "kubernetes.io/tls"), (m.data = { "tls.crt": b64("c") }), (m.stringData = {})), path: 'data["tls.key"]', phrase: "Required value" },
]);

test("Secret update: type is immutable", () => {
  const before = secret();
  const after = structuredClone(before);
  after.type = "kubernetes.io/basic-auth";
  expectOne(validateUpdate(KINDS.Secret, after, before), "type", 'Invalid value: "kubernetes.io/basic-auth": field is immutable');
});

test("Secret update: immutable freezes data (stringData counts, being merged)", () => {
  const before = secret();
  before.immutable = true;
  expectNone(validateUpdate(KINDS.Secret, structuredClone(before), before));
  const after = structuredClone(before);
  after.stringData.password = "n3w";
  expectOne(validateUpdate(KINDS.Secret, after, before), "data", "field is immutable when `immutable` is set");
  const thawed = structuredClone(before);
  delete thawed.immutable;
  expectOne(validateUpdate(KINDS.Secret, thawed, before), "immutable", "field is immutable when `immutable` is set");
});
