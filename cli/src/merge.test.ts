import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, type KindInfo, type KubeObject } from "@navarch/api";
import { planApply } from "./merge.js";

const k = (name: keyof typeof KINDS) => KINDS[name] as unknown as KindInfo;
const obj = (info: KindInfo, o: unknown) => info.codec.fromJSON({ apiVersion: info.apiVersion, kind: info.kind, ...(o as object) }) as KubeObject;
const LIVE_META = { name: "x", namespace: "default", uid: "u1", resourceVersion: "7", creationTimestamp: "2024-01-01T00:00:00Z", generation: 1 };

describe("planApply", () => {
  const cm = k("ConfigMap");

  it("is unchanged when the live object has every applied field", () => {
    const live = obj(cm, { metadata: { ...LIVE_META, labels: { app: "web" } }, data: { a: "1" } });
    const applied = obj(cm, { metadata: { name: "x", namespace: "default", labels: { app: "web" } }, data: { a: "1" } });
    assert.equal(planApply(cm, live, applied).unchanged, true);
  });

  it("sees changed and removed data keys, and sends the live resourceVersion", () => {
    const live = obj(cm, { metadata: LIVE_META, data: { a: "1", b: "2" } });
    const plan = planApply(cm, live, obj(cm, { metadata: { name: "x", namespace: "default" }, data: { a: "1" } }));
    assert.equal(plan.unchanged, false);
    const sent = plan.object as unknown as { data: Record<string, string>; metadata: { resourceVersion: string; uid: string; creationTimestamp: string } };
    assert.deepEqual(sent.data, { a: "1" });
    assert.equal(sent.metadata.resourceVersion, "7");
    assert.equal(sent.metadata.uid, "u1");
    assert.equal(sent.metadata.creationTimestamp, "2024-01-01T00:00:00Z");
  });

  it("compares labels and annotations exactly", () => {
    const live = obj(cm, { metadata: { ...LIVE_META, labels: { app: "web", extra: "1" } } });
    assert.equal(planApply(cm, live, obj(cm, { metadata: { name: "x", namespace: "default", labels: { app: "web" } } })).unchanged, false);
    const live2 = obj(cm, { metadata: { ...LIVE_META, annotations: { a: "1" } } });
    const plan = planApply(cm, live2, obj(cm, { metadata: { name: "x", namespace: "default" } }));
    assert.equal(plan.unchanged, false);
    assert.deepEqual(plan.object.metadata!.annotations, {});
  });

  it("keeps server defaults the manifest does not set (no spurious configured)", () => {
    const svc = k("Service");
    const live = obj(svc, {
      metadata: LIVE_META,
      spec: { type: "ClusterIP", clusterIP: "10.96.0.10", sessionAffinity: "None", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] },
      status: {},
    });
    const applied = obj(svc, { metadata: { name: "x", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } });
    const plan = planApply(svc, live, applied);
    assert.equal(plan.unchanged, true);
    const changed = planApply(svc, live, obj(svc, { metadata: { name: "x", namespace: "default" }, spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] } }));
    assert.equal(changed.unchanged, false);
    const spec = (changed.object as unknown as { spec: { clusterIP: string; selector: Record<string, string>; ports: { protocol: string }[] } }).spec;
    assert.equal(spec.clusterIP, "10.96.0.10");
    assert.deepEqual(spec.selector, { app: "api" });
    assert.equal(spec.ports[0]!.protocol, "TCP");
  });

  it("merges containers item by item and keeps the live status", () => {
    const dep = k("Deployment");
    const tpl = (image: string, live: boolean) => ({
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image, ...(live ? { imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log" } : {}) }] },
    });
    const live = obj(dep, { metadata: LIVE_META, spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: tpl("nginx:1", true) }, status: { replicas: 2, readyReplicas: 2 } });
    const same = obj(dep, { metadata: { name: "x", namespace: "default" }, spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: tpl("nginx:1", false) } });
    assert.equal(planApply(dep, live, same).unchanged, true);
    const newer = obj(dep, { metadata: { name: "x", namespace: "default" }, spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: tpl("nginx:2", false) } });
    const plan = planApply(dep, live, newer);
    assert.equal(plan.unchanged, false);
    const sent = plan.object as unknown as { spec: { template: { spec: { containers: { image: string; imagePullPolicy: string }[] } } }; status: { readyReplicas: number } };
    assert.equal(sent.spec.template.spec.containers[0]!.image, "nginx:2");
    assert.equal(sent.spec.template.spec.containers[0]!.imagePullPolicy, "IfNotPresent");
    assert.equal(sent.status.readyReplicas, 2);
  });

  it("compares a Secret's stringData as data", () => {
    const secret = k("Secret");
    const live = obj(secret, { metadata: LIVE_META, type: "Opaque", data: { user: Buffer.from("admin").toString("base64") } });
    assert.equal(planApply(secret, live, obj(secret, { metadata: { name: "x", namespace: "default" }, stringData: { user: "admin" } })).unchanged, true);
    assert.equal(planApply(secret, live, obj(secret, { metadata: { name: "x", namespace: "default" }, stringData: { user: "root" } })).unchanged, false);
  });
});
