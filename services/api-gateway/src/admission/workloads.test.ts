import assert from "node:assert/strict";
import { test } from "node:test";
import { KINDS, type Deployment, type ReplicaSet } from "@navarch/api";
import { decode, expectNone, expectOne, invalidCases, validate, validateUpdate, type Manifest } from "./testing.js";

function template(): Manifest {
  return {
    metadata: { labels: { app: "web", tier: "frontend" } },
    spec: {
      containers: [
        { name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80 }] },
        { name: "exporter", image: "nginx/exporter:1.1", ports: [{ name: "metrics", containerPort: 9113 }] },
      ],
    },
  };
}

function replicaSet(): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "web-7d4b9", namespace: "default" },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["frontend"] }] },
      template: template(),
    },
  };
}

function deployment(): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: { selector: { matchLabels: { app: "web" } }, template: template() },
  };
}

test("ReplicaSet: a valid replica set passes", () => {
  expectNone(validate(KINDS.ReplicaSet, replicaSet()));
});

test("ReplicaSet: replicas default to 1 (0 is kept) and the template is defaulted", () => {
  const m = replicaSet();
  delete m.spec.replicas;
  const rs = decode(KINDS.ReplicaSet, m) as ReplicaSet;
  assert.equal(rs.spec!.replicas, 1);
  assert.equal(rs.spec!.template!.spec!.restartPolicy, "Always");
  assert.equal(rs.spec!.template!.spec!.containers[0]!.imagePullPolicy, "IfNotPresent");
  const zero = replicaSet();
  zero.spec.replicas = 0;
  assert.equal((decode(KINDS.ReplicaSet, zero) as ReplicaSet).spec!.replicas, 0);
});

const t = "spec.template.spec";
invalidCases(KINDS.ReplicaSet, replicaSet, [
  { name: "negative replicas", edit: (m) => (m.spec.replicas = -1), path: "spec.replicas", phrase: "greater than or equal to 0" },
  { name: "negative minReadySeconds", edit: (m) => (m.spec.minReadySeconds = -1), path: "spec.minReadySeconds", phrase: "greater than or equal to 0" },
  { name: "selector missing", edit: (m) => delete m.spec.selector, path: "spec.selector", phrase: "Required value" },
  { name: "selector empty", edit: (m) => (m.spec.selector = { matchLabels: {} }), path: "spec.selector", phrase: "empty selector is invalid" },
  {
    name: "selector does not match the template",
    edit: (m) => (m.spec.template.metadata.labels.app = "api"),
    path: "spec.template.metadata.labels",
    phrase: "`selector` does not match template `labels`",
  },
  {
    name: "selector expression operator unknown",
    edit: (m) => (m.spec.selector.matchExpressions[0].operator = "Has"),
    path: "spec.selector.matchExpressions[0].operator",
    phrase: "Unsupported value",
  },
  { name: "selector label key invalid", edit: (m) => (m.spec.selector.matchLabels["bad key"] = "x"), path: 'spec.selector.matchLabels["bad key"]', phrase: "name part" },
  { name: "template missing", edit: (m) => delete m.spec.template, path: "spec.template", phrase: "Required value" },
  { name: "template restartPolicy not Always", edit: (m) => (m.spec.template.spec.restartPolicy = "OnFailure"), path: `${t}.restartPolicy`, phrase: 'supported values: "Always"' },
  { name: "template container image missing", edit: (m) => (m.spec.template.spec.containers[0].image = ""), path: `${t}.containers[0].image`, phrase: "Required value" },
  { name: "template container port invalid", edit: (m) => (m.spec.template.spec.containers[1].ports[0].containerPort = 0), path: `${t}.containers[1].ports[0].containerPort`, phrase: "Required value" },
  { name: "template label value invalid", edit: (m) => (m.spec.template.metadata.labels.track = "canary release"), path: 'spec.template.metadata.labels["track"]', phrase: "label value" },
]);

test("ReplicaSet update: selector is immutable, replicas and template are not", () => {
  const before = replicaSet();
  const scaled = structuredClone(before);
  scaled.spec.replicas = 5;
  scaled.spec.template.spec.containers[0].image = "nginx:1.26";
  expectNone(validateUpdate(KINDS.ReplicaSet, scaled, before));
  const moved = structuredClone(before);
  moved.spec.selector.matchLabels.track = "stable";
  moved.spec.template.metadata.labels.track = "stable";
  expectOne(validateUpdate(KINDS.ReplicaSet, moved, before), "spec.selector", "field is immutable");
});

test("Deployment: a valid deployment passes", () => {
  expectNone(validate(KINDS.Deployment, deployment()));
});

test("Deployment: defaults", () => {
  const d = decode(KINDS.Deployment, deployment()) as Deployment;
  const spec = d.spec!;
  assert.equal(spec.replicas, 1);
  assert.deepEqual(spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } });
  assert.equal(spec.revisionHistoryLimit, 10);
  assert.equal(spec.progressDeadlineSeconds, 600);
  assert.equal(spec.template!.spec!.dnsPolicy, "ClusterFirst");
});

test("Deployment: a given maxSurge is kept, the other one defaulted; Recreate gets no rollingUpdate", () => {
  const m = deployment();
  m.spec.strategy = { rollingUpdate: { maxSurge: 1 } };
  const d = decode(KINDS.Deployment, m) as Deployment;
  assert.deepEqual(d.spec!.strategy!.rollingUpdate, { maxSurge: "1", maxUnavailable: "25%" });
  const r = deployment();
  r.spec.strategy = { type: "Recreate" };
  const rd = decode(KINDS.Deployment, r) as Deployment;
  assert.equal(rd.spec!.strategy!.rollingUpdate, undefined);
  expectNone(validate(KINDS.Deployment, r));
});

invalidCases(KINDS.Deployment, deployment, [
  { name: "strategy type unknown", edit: (m) => (m.spec.strategy = { type: "BlueGreen" }), path: "spec.strategy.type", phrase: "Unsupported value" },
  {
    name: "rollingUpdate with Recreate",
    edit: (m) => (m.spec.strategy = { type: "Recreate", rollingUpdate: { maxSurge: 1 } }),
    path: "spec.strategy.rollingUpdate",
    phrase: "may not be specified when strategy `type` is 'Recreate'",
  },
  { name: "maxSurge not a number", edit: (m) => (m.spec.strategy = { rollingUpdate: { maxSurge: "lots" } }), path: "spec.strategy.rollingUpdate.maxSurge", phrase: "integer or a percentage" },
  { name: "maxSurge negative", edit: (m) => (m.spec.strategy = { rollingUpdate: { maxSurge: -1 } }), path: "spec.strategy.rollingUpdate.maxSurge", phrase: "greater than or equal to 0" },
  {
    name: "maxUnavailable above 100%",
    edit: (m) => (m.spec.strategy = { rollingUpdate: { maxUnavailable: "150%" } }),
    path: "spec.strategy.rollingUpdate.maxUnavailable",
    phrase: "must not be greater than 100%",
  },
  {
    name: "maxSurge and maxUnavailable both zero",
    edit: (m) => (m.spec.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: "0%" } }),
    path: "spec.strategy.rollingUpdate.maxUnavailable",
    phrase: "may not be 0 when `maxSurge` is 0",
  },
  { name: "negative revisionHistoryLimit", edit: (m) => (m.spec.revisionHistoryLimit = -1), path: "spec.revisionHistoryLimit", phrase: "greater than or equal to 0" },
  {
    name: "progressDeadlineSeconds not above minReadySeconds",
    edit: (m) => ((m.spec.minReadySeconds = 30), (m.spec.progressDeadlineSeconds = 30)),
    path: "spec.progressDeadlineSeconds",
    phrase: "must be greater than minReadySeconds",
  },
  { name: "negative replicas", edit: (m) => (m.spec.replicas = -2), path: "spec.replicas", phrase: "greater than or equal to 0" },
  { name: "selector does not match", edit: (m) => (m.spec.selector.matchLabels.app = "api"), path: "spec.template.metadata.labels", phrase: "`selector` does not match template `labels`" },
  { name: "template restartPolicy Never", edit: (m) => (m.spec.template.spec.restartPolicy = "Never"), path: "spec.template.spec.restartPolicy", phrase: "Unsupported value" },
  {
    name: "template probe uses an unknown named port",
    edit: (m) => (m.spec.template.spec.containers[1].livenessProbe = { httpGet: { port: "http" } }),
    path: "spec.template.spec.containers[1].livenessProbe.httpGet.port",
    phrase: "name of a port of this container",
  },
]);

test("Deployment update: selector is immutable", () => {
  const before = deployment();
  const after = structuredClone(before);
  after.spec.selector = { matchLabels: { app: "web", tier: "frontend" } };
  expectOne(validateUpdate(KINDS.Deployment, after, before), "spec.selector", "field is immutable");
  const rollout = structuredClone(before);
  rollout.spec.template.spec.containers[0].image = "nginx:1.26";
  rollout.spec.replicas = 4;
  expectNone(validateUpdate(KINDS.Deployment, rollout, before));
});
