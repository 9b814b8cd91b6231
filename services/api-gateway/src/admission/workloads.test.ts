import assert from "node:assert/strict";
import { test } from "node:test";
import { KINDS, type DaemonSet, type Deployment, type Job, type ReplicaSet } from "@navarch/api";
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

// ---- DaemonSet ----

function daemonSet(): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "fluentd", namespace: "kube-logging" },
    spec: {
      selector: { matchLabels: { name: "fluentd" } },
      template: {
        metadata: { labels: { name: "fluentd" } },
        spec: {
          tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
          containers: [{ name: "fluentd", image: "fluentd:v1", resources: { limits: { memory: "200Mi" } } }],
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  };
}

test("DaemonSet: a valid daemon set passes", () => {
  expectNone(validate(KINDS.DaemonSet, daemonSet()));
});

test("DaemonSet: defaults (RollingUpdate, maxUnavailable 1, maxSurge 0, history 10, template defaulted)", () => {
  const ds = decode(KINDS.DaemonSet, daemonSet()) as DaemonSet;
  assert.deepEqual(ds.spec!.updateStrategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "1", maxSurge: "0" } });
  assert.equal(ds.spec!.revisionHistoryLimit, 10);
  assert.equal(ds.spec!.template!.spec!.restartPolicy, "Always");
  assert.equal(ds.spec!.template!.spec!.tolerations[0]!.operator, "Exists");
  const onDelete = daemonSet();
  onDelete.spec.updateStrategy = { type: "OnDelete" };
  const od = decode(KINDS.DaemonSet, onDelete) as DaemonSet;
  assert.deepEqual(od.spec!.updateStrategy, { type: "OnDelete", rollingUpdate: undefined });
  expectNone(validate(KINDS.DaemonSet, onDelete));
  const pct = daemonSet();
  pct.spec.updateStrategy = { rollingUpdate: { maxUnavailable: "20%" } };
  expectNone(validate(KINDS.DaemonSet, pct));
});

const ds = "spec.updateStrategy.rollingUpdate";
invalidCases(KINDS.DaemonSet, daemonSet, [
  { name: "selector missing", edit: (m) => delete m.spec.selector, path: "spec.selector", phrase: "Required value" },
  { name: "selector empty", edit: (m) => (m.spec.selector = {}), path: "spec.selector", phrase: "empty selector is invalid for daemonset" },
  { name: "selector does not match the template", edit: (m) => (m.spec.template.metadata.labels.name = "other"), path: "spec.template.metadata.labels", phrase: "`selector` does not match template `labels`" },
  { name: "template missing", edit: (m) => delete m.spec.template, path: "spec.template", phrase: "Required value" },
  { name: "restartPolicy OnFailure", edit: (m) => (m.spec.template.spec.restartPolicy = "OnFailure"), path: "spec.template.spec.restartPolicy", phrase: 'supported values: "Always"' },
  {
    name: "activeDeadlineSeconds in the template",
    edit: (m) => (m.spec.template.spec.activeDeadlineSeconds = 30),
    path: "spec.template.spec.activeDeadlineSeconds",
    phrase: "activeDeadlineSeconds in DaemonSet is not Supported",
  },
  { name: "updateStrategy type unknown", edit: (m) => (m.spec.updateStrategy = { type: "Surge" }), path: "spec.updateStrategy.type", phrase: 'supported values: "RollingUpdate", "OnDelete"' },
  { name: "maxUnavailable not a number", edit: (m) => (m.spec.updateStrategy = { rollingUpdate: { maxUnavailable: "some" } }), path: `${ds}.maxUnavailable`, phrase: "integer or a percentage" },
  { name: "maxUnavailable above 100%", edit: (m) => (m.spec.updateStrategy = { rollingUpdate: { maxUnavailable: "101%" } }), path: `${ds}.maxUnavailable`, phrase: "must not be greater than 100%" },
  { name: "maxUnavailable 0", edit: (m) => (m.spec.updateStrategy = { rollingUpdate: { maxUnavailable: 0 } }), path: `${ds}.maxUnavailable`, phrase: "may not be 0 when `maxSurge` is 0" },
  { name: "maxSurge above 0", edit: (m) => (m.spec.updateStrategy = { rollingUpdate: { maxSurge: 1 } }), path: `${ds}.maxSurge`, phrase: "only 0 is supported" },
  { name: "negative minReadySeconds", edit: (m) => (m.spec.minReadySeconds = -1), path: "spec.minReadySeconds", phrase: "greater than or equal to 0" },
  { name: "toleration with an empty key and Equal", edit: (m) => (m.spec.template.spec.tolerations[0] = { operator: "Equal", value: "x" }), path: "spec.template.spec.tolerations[0].operator", phrase: "operator must be Exists" },
]);

test("DaemonSet update: selector is immutable, the template is not", () => {
  const before = daemonSet();
  const rolled = structuredClone(before);
  rolled.spec.template.spec.containers[0].image = "fluentd:v2";
  expectNone(validateUpdate(KINDS.DaemonSet, rolled, before));
  const moved = structuredClone(before);
  moved.spec.selector.matchLabels.tier = "logs";
  moved.spec.template.metadata.labels.tier = "logs";
  expectOne(validateUpdate(KINDS.DaemonSet, moved, before), "spec.selector", "field is immutable");
});

// ---- Job ----

const JOB_UID = "6f0a4e2c-1b3d-4c5e-8f70-9a1b2c3d4e5f";

/** A Job as the gateway hands it to admission: the server's uid already set. */
function job(): Manifest {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default", uid: JOB_UID },
    spec: {
      template: {
        spec: {
          containers: [{ name: "pi", image: "perl:5.34.0", command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"] }],
          restartPolicy: "Never",
        },
      },
      backoffLimit: 4,
    },
  };
}

test("Job: a valid job passes; defaults as Kubernetes (completions and parallelism 1, backoffLimit 6, NonIndexed)", () => {
  expectNone(validate(KINDS.Job, job()));
  const m = job();
  delete m.spec.backoffLimit;
  const j = decode(KINDS.Job, m) as Job;
  assert.equal(j.spec!.completions, 1);
  assert.equal(j.spec!.parallelism, 1);
  assert.equal(j.spec!.backoffLimit, 6);
  assert.equal(j.spec!.completionMode, "NonIndexed");
  assert.equal(j.spec!.template!.spec!.restartPolicy, "Never", "restartPolicy is not defaulted to Always");
  assert.equal(j.spec!.template!.spec!.terminationGracePeriodSeconds, 30);
});

test("Job: parallelism alone is a work queue (completions stay unset)", () => {
  const m = job();
  m.spec.parallelism = 3;
  const j = decode(KINDS.Job, m) as Job;
  assert.equal(j.spec!.completions, undefined);
  assert.equal(j.spec!.parallelism, 3);
  const both = job();
  both.spec.completions = 5;
  assert.equal((decode(KINDS.Job, both) as Job).spec!.parallelism, 1);
});

test("Job: the selector is generated from the uid; the template and the job get the controller-uid and job-name labels", () => {
  const j = decode(KINDS.Job, job()) as Job;
  assert.deepEqual(j.spec!.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": JOB_UID }, matchExpressions: [] });
  const want = {
    "batch.kubernetes.io/controller-uid": JOB_UID,
    "batch.kubernetes.io/job-name": "pi",
    "controller-uid": JOB_UID,
    "job-name": "pi",
  };
  assert.deepEqual(j.spec!.template!.metadata!.labels, want);
  assert.deepEqual(j.metadata!.labels, want);
  const labelled = job();
  labelled.metadata.labels = { team: "math" };
  labelled.spec.template.metadata = { labels: { app: "pi" } };
  const lj = decode(KINDS.Job, labelled) as Job;
  assert.deepEqual(lj.metadata!.labels, { team: "math" }, "the job's own labels are kept");
  assert.equal(lj.spec!.template!.metadata!.labels.app, "pi");
});

test("Job: manualSelector keeps the user's selector, which must match the template", () => {
  const m = job();
  m.spec.manualSelector = true;
  m.spec.selector = { matchLabels: { app: "pi" } };
  m.spec.template.metadata = { labels: { app: "pi" } };
  const j = decode(KINDS.Job, m) as Job;
  assert.deepEqual(j.spec!.selector!.matchLabels, { app: "pi" });
  assert.equal(j.spec!.template!.metadata!.labels["batch.kubernetes.io/controller-uid"], undefined);
  expectNone(validate(KINDS.Job, m));
  m.spec.template.metadata.labels.app = "e";
  expectOne(validate(KINDS.Job, m), "spec.template.metadata.labels", "`selector` does not match template `labels`");
});

invalidCases(KINDS.Job, job, [
  { name: "restartPolicy missing", edit: (m) => delete m.spec.template.spec.restartPolicy, path: "spec.template.spec.restartPolicy", phrase: 'Required value: valid values: "OnFailure", "Never"' },
  { name: "restartPolicy Always", edit: (m) => (m.spec.template.spec.restartPolicy = "Always"), path: "spec.template.spec.restartPolicy", phrase: 'Unsupported value: "Always": supported values: "OnFailure", "Never"' },
  { name: "a selector without manualSelector", edit: (m) => (m.spec.selector = { matchLabels: { app: "pi" } }), path: "spec.selector", phrase: "`selector` not auto-generated" },
  { name: "negative parallelism", edit: (m) => (m.spec.parallelism = -1), path: "spec.parallelism", phrase: "greater than or equal to 0" },
  { name: "negative completions", edit: (m) => (m.spec.completions = -1), path: "spec.completions", phrase: "greater than or equal to 0" },
  { name: "negative backoffLimit", edit: (m) => (m.spec.backoffLimit = -1), path: "spec.backoffLimit", phrase: "greater than or equal to 0" },
  { name: "negative activeDeadlineSeconds", edit: (m) => (m.spec.activeDeadlineSeconds = -5), path: "spec.activeDeadlineSeconds", phrase: "greater than or equal to 0" },
  { name: "negative ttlSecondsAfterFinished", edit: (m) => (m.spec.ttlSecondsAfterFinished = -1), path: "spec.ttlSecondsAfterFinished", phrase: "greater than or equal to 0" },
  { name: "Indexed completion mode", edit: (m) => (m.spec.completionMode = "Indexed"), path: "spec.completionMode", phrase: 'supported values: "NonIndexed"' },
  { name: "container without image", edit: (m) => (m.spec.template.spec.containers[0].image = ""), path: "spec.template.spec.containers[0].image", phrase: "Required value" },
  { name: "template missing", edit: (m) => delete m.spec.template, path: "spec.template", phrase: "Required value" },
]);

test("Job: without the server's uid (no generated selector) the selector is required", () => {
  const m = job();
  delete m.metadata.uid;
  expectOne(validate(KINDS.Job, m), "spec.selector", "Required value");
});

test("Job update: the template, selector and completions are immutable; parallelism is not", () => {
  const before = job();
  before.spec.completions = 1;
  const scaled = structuredClone(before);
  scaled.spec.parallelism = 4;
  scaled.spec.activeDeadlineSeconds = 600;
  expectNone(validateUpdate(KINDS.Job, scaled, before));
  const image = structuredClone(before);
  image.spec.template.spec.containers[0].image = "perl:5.36";
  expectOne(validateUpdate(KINDS.Job, image, before), "spec.template", "field is immutable");
  const more = structuredClone(before);
  more.spec.completions = 3;
  expectOne(validateUpdate(KINDS.Job, more, before), "spec.completions", "field is immutable");
});

test("Job update: re-applying the manifest (no selector, no generated labels) is no change", () => {
  const live = decode(KINDS.Job, job()) as Job;
  const liveJson = KINDS.Job.codec.toJSON(live) as Manifest;
  // What `navctl apply` sends: the live object with the manifest's template labels (none) laid over.
  const applied = structuredClone(liveJson);
  delete applied.spec.template.metadata;
  delete applied.metadata.labels;
  expectNone(validateUpdate(KINDS.Job, applied, liveJson));
  assert.deepEqual((decode(KINDS.Job, applied) as Job).spec, live.spec);
});
