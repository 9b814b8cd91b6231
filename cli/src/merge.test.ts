import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, toManifest, type KindInfo, type KubeObject } from "@navarch/api";
import { ANNOTATIONS_LIMIT_BYTES, LAST_APPLIED_ANNOTATION, planApply, planCreate } from "./merge.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const k = (name: keyof typeof KINDS) => KINDS[name] as unknown as KindInfo;
const obj = (info: KindInfo, o: unknown) => info.codec.fromJSON({ apiVersion: info.apiVersion, kind: info.kind, ...(o as object) }) as KubeObject;
const LIVE_META = { uid: "u1", resourceVersion: "7", creationTimestamp: "2024-01-01T00:00:00Z", generation: 1 };
const json = (info: KindInfo, o: KubeObject) => toManifest(info, o) as Json;

/**
 * The live object after `apply` created `manifest`: what apply sent, plus what the server and the
 * controllers did to it afterwards (`server` edits the Kubernetes JSON).
 */
function created(info: KindInfo, manifest: unknown, server: (live: Json) => void = () => undefined): KubeObject {
  const live = json(info, planCreate(info, obj(info, manifest)).object);
  live.metadata = { ...live.metadata, ...LIVE_META };
  server(live);
  return info.codec.fromJSON(live);
}

const md = (extra: Json = {}) => ({ name: "x", namespace: "default", ...extra });

describe("planCreate", () => {
  it("records the manifest in kubectl's last-applied annotation, without status or an older annotation", () => {
    const cm = k("ConfigMap");
    const { object: sent, warning } = planCreate(cm, obj(cm, { metadata: md({ annotations: { [LAST_APPLIED_ANNOTATION]: "{}\n", a: "1" } }), data: { k: "v" } }));
    assert.equal(warning, undefined);
    const annotations = sent.metadata!.annotations as Record<string, string>;
    assert.equal(annotations.a, "1");
    assert.deepEqual(JSON.parse(annotations[LAST_APPLIED_ANNOTATION]!), {
      apiVersion: "v1",
      data: { k: "v" },
      kind: "ConfigMap",
      metadata: { annotations: { a: "1" }, name: "x", namespace: "default" },
    });
  });
});

describe("planApply", () => {
  const cm = k("ConfigMap");

  it("is unchanged when the same manifest is applied again, and sends the live object", () => {
    const manifest = { metadata: md({ labels: { app: "web" } }), data: { a: "1" } };
    const live = created(cm, manifest);
    const plan = planApply(cm, live, obj(cm, manifest));
    assert.equal(plan.unchanged, true);
    assert.deepEqual(json(cm, plan.object), json(cm, live));
  });

  it("changes and removes the data keys the manifest changed and removed, keeps keys others added", () => {
    const live = created(cm, { metadata: md(), data: { a: "1", b: "2" } }, (l) => (l.data.byOthers = "3"));
    const plan = planApply(cm, live, obj(cm, { metadata: md(), data: { a: "10" } }));
    assert.equal(plan.unchanged, false);
    const sent = json(cm, plan.object);
    assert.deepEqual(sent.data, { a: "10", byOthers: "3" });
    assert.equal(sent.metadata.resourceVersion, "7");
    assert.equal(sent.metadata.uid, "u1");
    assert.equal(sent.metadata.creationTimestamp, "2024-01-01T00:00:00Z");
    assert.deepEqual(JSON.parse(sent.metadata.annotations[LAST_APPLIED_ANNOTATION]).data, { a: "10" });
  });

  it("on an object apply did not create, records the annotation and removes nothing (like kubectl)", () => {
    const live = obj(cm, { metadata: md({ ...LIVE_META, labels: { app: "web", extra: "1" } }), data: { a: "1", b: "2" } });
    const plan = planApply(cm, live, obj(cm, { metadata: md({ labels: { app: "web" } }), data: { a: "1" } }));
    assert.equal(plan.unchanged, false);
    const sent = json(cm, plan.object);
    assert.deepEqual(sent.data, { a: "1", b: "2" });
    assert.deepEqual(sent.metadata.labels, { app: "web", extra: "1" });
    assert.ok(sent.metadata.annotations[LAST_APPLIED_ANNOTATION]);
  });

  it("keeps labels and annotations controllers add; removes the ones the manifest no longer has", () => {
    const dep = k("Deployment");
    const manifest = (labels: Json, annotations: Json) => ({
      metadata: md({ labels, annotations }),
      spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "demo:1" }] } } },
    });
    // The Deployment controller writes its revision after every rollout: the cause of issue 10's
    // "configured, resourceVersion +2" on every re-apply (apply removed it, the controller put it back).
    const live = created(dep, manifest({ app: "web", tier: "front" }, { note: "n" }), (l) => {
      l.metadata.annotations["deployment.kubernetes.io/revision"] = "1";
      l.status = { replicas: 2, readyReplicas: 2, observedGeneration: 1 };
    });
    assert.equal(planApply(dep, live, obj(dep, manifest({ app: "web", tier: "front" }, { note: "n" }))).unchanged, true);
    const plan = planApply(dep, live, obj(dep, manifest({ app: "web" }, {})));
    assert.equal(plan.unchanged, false);
    const sent = json(dep, plan.object);
    assert.deepEqual(sent.metadata.labels, { app: "web" });
    assert.equal(sent.metadata.annotations.note, undefined);
    assert.equal(sent.metadata.annotations["deployment.kubernetes.io/revision"], "1");
    assert.equal(sent.status.readyReplicas, 2);
  });

  it("keeps server defaults the manifest does not set (no spurious configured)", () => {
    const svc = k("Service");
    const manifest = { metadata: md(), spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } };
    const live = created(svc, manifest, (l) => {
      Object.assign(l.spec, { type: "ClusterIP", clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], sessionAffinity: "None" });
      l.spec.ports[0].protocol = "TCP";
    });
    assert.equal(planApply(svc, live, obj(svc, manifest)).unchanged, true);
    const changed = planApply(svc, live, obj(svc, { ...manifest, spec: { ...manifest.spec, selector: { app: "api" } } }));
    assert.equal(changed.unchanged, false);
    const spec = json(svc, changed.object).spec;
    assert.equal(spec.clusterIP, "10.96.0.10");
    assert.deepEqual(spec.selector, { app: "api" });
    assert.equal(spec.ports[0].protocol, "TCP");
  });

  it("merges containers by name: a new one is added, the others keep their defaults, a removed field goes", () => {
    const dep = k("Deployment");
    const tpl = (containers: Json[]) => ({
      metadata: md(),
      spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers } } },
    });
    const web = { name: "web", image: "demo:1", resources: { limits: { memory: "64Mi" } } };
    const live = created(dep, tpl([web]), (l) => {
      Object.assign(l.spec.template.spec.containers[0], { imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log" });
    });
    assert.equal(planApply(dep, live, obj(dep, tpl([web]))).unchanged, true);
    const plan = planApply(dep, live, obj(dep, tpl([{ name: "sidecar", image: "busybox:1" }, { name: "web", image: "demo:2" }])));
    assert.equal(plan.unchanged, false);
    const containers = json(dep, plan.object).spec.template.spec.containers;
    assert.deepEqual(containers.map((c: Json) => c.name), ["sidecar", "web"]);
    assert.equal(containers[1].image, "demo:2");
    assert.equal(containers[1].imagePullPolicy, "IfNotPresent");
    assert.equal(containers[1].resources, undefined, "resources were removed from the manifest");
    assert.equal(containers[0].imagePullPolicy, undefined);
  });

  it("keeps the labels and selector a Job's controller adds to its template", () => {
    const job = k("Job");
    const manifest = { metadata: md(), spec: { template: { metadata: { labels: { app: "batch" } }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: "exit:1" }] } } } };
    const live = created(job, manifest, (l) => {
      l.spec.selector = { matchLabels: { "controller-uid": "u1" } };
      Object.assign(l.spec.template.metadata.labels, { "controller-uid": "u1", "job-name": "x" });
      l.status = { succeeded: 1 };
    });
    assert.equal(planApply(job, live, obj(job, manifest)).unchanged, true);
  });

  it("compares a Secret's stringData as data", () => {
    const secret = k("Secret");
    const live = created(secret, { metadata: md(), type: "Opaque", stringData: { user: "admin" } });
    assert.equal(json(secret, live).data.user, Buffer.from("admin").toString("base64"));
    assert.equal(planApply(secret, live, obj(secret, { metadata: md(), type: "Opaque", stringData: { user: "admin" } })).unchanged, true);
    assert.equal(planApply(secret, live, obj(secret, { metadata: md(), type: "Opaque", stringData: { user: "root" } })).unchanged, false);
  });

  it("ignores a last-applied annotation copied into the manifest (from get -o yaml)", () => {
    const manifest = { metadata: md(), data: { a: "1" } };
    const live = created(cm, manifest);
    const copied = json(cm, live);
    delete copied.metadata.uid;
    delete copied.metadata.resourceVersion;
    delete copied.metadata.creationTimestamp;
    assert.equal(planApply(cm, live, cm.codec.fromJSON(copied)).unchanged, true);
  });

  it("applies a manifest too large to record without the record, says so, and is unchanged the next time", () => {
    const big = { metadata: md(), data: { blob: "x".repeat(ANNOTATIONS_LIMIT_BYTES) } };
    const create = planCreate(cm, obj(cm, big));
    assert.match(create.warning ?? "", /too large to keep in the annotation kubectl\.kubernetes\.io\/last-applied-configuration/);
    assert.equal(create.object.metadata!.annotations?.[LAST_APPLIED_ANNOTATION], undefined);
    const live = json(cm, create.object);
    live.metadata = { ...live.metadata, ...LIVE_META };
    const plan = planApply(cm, cm.codec.fromJSON(live), obj(cm, big));
    assert.equal(plan.unchanged, true);
    assert.ok(plan.warning);
  });
});
