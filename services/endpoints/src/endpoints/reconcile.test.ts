import { KINDS, type Endpoints, type Pod, type Service } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { desiredSubsets, HEADLESS_LABEL, MANAGED_BY, MANAGED_BY_ANNOTATION, reconcile, targetPortOf } from "./reconcile.js";

interface PodOpts {
  ip?: string;
  ready?: boolean;
  labels?: Record<string, string>;
  ports?: { name: string; containerPort: number; protocol?: string }[];
  phase?: string;
  deleting?: boolean;
  node?: string;
  hostname?: string;
  subdomain?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, labels: o.labels ?? { app: "web" }, deletionTimestamp: o.deleting ? "2026-01-01T00:00:00Z" : "" },
    spec: {
      nodeName: o.node ?? "n1",
      hostname: o.hostname ?? "",
      subdomain: o.subdomain ?? "",
      containers: [{ name: "app", image: "demo", ports: o.ports ?? [{ name: "http", containerPort: 8080, protocol: "TCP" }] }],
    },
    status: {
      phase: o.phase ?? "Running",
      podIP: o.ip ?? "",
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  });
}

function service(spec: Record<string, unknown> = {}, labels: Record<string, string> = { tier: "front" }): Service {
  return KINDS.Service.codec.fromPartial({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default", uid: "svc-uid", labels },
    spec: { type: "ClusterIP", clusterIP: "10.96.1.2", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }], ...spec },
  });
}

const ref = (name: string) => ({ kind: "Pod", namespace: "default", name, uid: `uid-${name}`, apiVersion: "", resourceVersion: "", fieldPath: "" });
const addr = (ip: string, name: string, nodeName = "n1", hostname = "") => ({ ip, hostname, nodeName, targetRef: ref(name) });
const port = (name: string, p: number, protocol = "TCP") => ({ name, port: p, protocol, appProtocol: "" });

describe("desiredSubsets", () => {
  const cases: { name: string; service: Service; pods: Pod[]; want: unknown }[] = [
    {
      name: "ready pods in addresses, not-ready ones apart, sorted by IP",
      service: service(),
      pods: [pod("b", { ip: "10.0.0.12" }), pod("a", { ip: "10.0.0.9" }), pod("c", { ip: "10.0.0.10", ready: false })],
      want: [{ addresses: [addr("10.0.0.9", "a"), addr("10.0.0.12", "b")], notReadyAddresses: [addr("10.0.0.10", "c")], ports: [port("http", 8080)] }],
    },
    {
      name: "pods without an IP, terminal pods, terminating pods and unselected pods are left out",
      service: service(),
      pods: [
        pod("no-ip"),
        pod("done", { ip: "10.0.0.2", phase: "Succeeded" }),
        pod("failed", { ip: "10.0.0.3", phase: "Failed" }),
        pod("going", { ip: "10.0.0.4", deleting: true }),
        pod("other", { ip: "10.0.0.5", labels: { app: "db" } }),
        pod("ok", { ip: "10.0.0.6" }),
      ],
      want: [{ addresses: [addr("10.0.0.6", "ok")], notReadyAddresses: [], ports: [port("http", 8080)] }],
    },
    {
      name: "publishNotReadyAddresses: not-ready and terminating pods are addresses",
      service: service({ publishNotReadyAddresses: true }),
      pods: [pod("going", { ip: "10.0.0.4", deleting: true, ready: false }), pod("starting", { ip: "10.0.0.5", ready: false })],
      want: [{ addresses: [addr("10.0.0.4", "going"), addr("10.0.0.5", "starting")], notReadyAddresses: [], ports: [port("http", 8080)] }],
    },
    {
      name: "a named targetPort resolves per pod; pods with another port number get their own subset",
      service: service(),
      pods: [
        pod("v1", { ip: "10.0.0.1", ports: [{ name: "http", containerPort: 8080 }] }),
        pod("v2", { ip: "10.0.0.2", ports: [{ name: "http", containerPort: 9090 }] }),
        pod("v1b", { ip: "10.0.0.3", ports: [{ name: "http", containerPort: 8080 }] }),
      ],
      want: [
        { addresses: [addr("10.0.0.1", "v1"), addr("10.0.0.3", "v1b")], notReadyAddresses: [], ports: [port("http", 8080)] },
        { addresses: [addr("10.0.0.2", "v2")], notReadyAddresses: [], ports: [port("http", 9090)] },
      ],
    },
    {
      name: "a pod without the named port is left out of that port; one without any port is no endpoint",
      service: service({
        ports: [
          { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
          { name: "metrics", port: 9100, targetPort: "metrics", protocol: "TCP" },
        ],
      }),
      pods: [
        pod("full", { ip: "10.0.0.1", ports: [{ name: "http", containerPort: 8080 }, { name: "metrics", containerPort: 9100 }] }),
        pod("web-only", { ip: "10.0.0.2", ports: [{ name: "http", containerPort: 8080 }] }),
        pod("none", { ip: "10.0.0.3", ports: [] }),
      ],
      want: [
        { addresses: [addr("10.0.0.2", "web-only")], notReadyAddresses: [], ports: [port("http", 8080)] },
        { addresses: [addr("10.0.0.1", "full")], notReadyAddresses: [], ports: [port("http", 8080), port("metrics", 9100)] },
      ],
    },
    {
      name: "a numeric targetPort needs no declared container port",
      service: service({ ports: [{ name: "", port: 80, targetPort: "8000", protocol: "TCP" }] }),
      pods: [pod("bare", { ip: "10.0.0.7", ports: [] })],
      want: [{ addresses: [addr("10.0.0.7", "bare")], notReadyAddresses: [], ports: [port("", 8000)] }],
    },
    {
      name: "a named port must match the protocol too",
      service: service({ ports: [{ name: "dns", port: 53, targetPort: "dns", protocol: "UDP" }] }),
      pods: [pod("tcp-only", { ip: "10.0.0.8", ports: [{ name: "dns", containerPort: 5353, protocol: "TCP" }] })],
      want: [],
    },
    {
      name: "headless without ports lists pods bare, with hostnames for pods of that subdomain",
      service: service({ clusterIP: "None", ports: [] }),
      pods: [pod("db-0", { ip: "10.0.0.20", hostname: "db-0", subdomain: "web" }), pod("db-1", { ip: "10.0.0.21", hostname: "db-1", subdomain: "other" })],
      want: [{ addresses: [addr("10.0.0.20", "db-0", "n1", "db-0"), addr("10.0.0.21", "db-1")], notReadyAddresses: [], ports: [] }],
    },
    { name: "no pods: no subsets", service: service(), pods: [], want: [] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(desiredSubsets(c.service, c.pods), c.want));
});

describe("targetPortOf", () => {
  test("empty targetPort means the service port", () => {
    assert.equal(targetPortOf({ name: "", port: 80, targetPort: "", protocol: "TCP", appProtocol: "" }, pod("p")), 80);
  });
});

function stored(subsets: unknown, opts: { managed?: boolean; labels?: Record<string, string>; rv?: string } = {}): Endpoints {
  return KINDS.Endpoints.codec.fromPartial({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: "web",
      namespace: "default",
      uid: "ep-uid",
      resourceVersion: opts.rv ?? "7",
      labels: opts.labels ?? { tier: "front" },
      annotations: opts.managed === false ? {} : { [MANAGED_BY_ANNOTATION]: MANAGED_BY },
    },
    subsets,
  });
}

describe("reconcile", () => {
  const ready = [pod("a", { ip: "10.0.0.9" })];
  const subsets = [{ addresses: [addr("10.0.0.9", "a")], notReadyAddresses: [], ports: [port("http", 8080)] }];

  test("no Endpoints yet: create one named like the Service, with its labels and our mark, no owner", () => {
    const plan = reconcile(service(), { current: undefined, pods: ready });
    assert.equal(plan.type, "create");
    const ep = (plan as { endpoints: Endpoints }).endpoints;
    assert.equal(ep.metadata!.name, "web");
    assert.equal(ep.metadata!.namespace, "default");
    assert.deepEqual(ep.metadata!.labels, { tier: "front" });
    assert.deepEqual(ep.metadata!.annotations, { [MANAGED_BY_ANNOTATION]: MANAGED_BY });
    assert.deepEqual(ep.metadata!.ownerReferences, []);
    assert.deepEqual(ep.subsets, subsets);
  });

  test("unchanged: nothing to write (the stored copy went through the codec)", () => {
    const current = KINDS.Endpoints.codec.fromJSON(KINDS.Endpoints.codec.toJSON(stored(subsets)));
    current.metadata!.resourceVersion = "7";
    assert.deepEqual(reconcile(service(), { current, pods: ready }), { type: "none" });
  });

  test("a pod turned not ready: update on the stored revision", () => {
    const plan = reconcile(service(), { current: stored(subsets), pods: [pod("a", { ip: "10.0.0.9", ready: false })] });
    assert.equal(plan.type, "update");
    const ep = (plan as { endpoints: Endpoints }).endpoints;
    assert.equal(ep.metadata!.resourceVersion, "7");
    assert.equal(ep.metadata!.uid, "ep-uid");
    assert.deepEqual(ep.subsets, [{ addresses: [], notReadyAddresses: [addr("10.0.0.9", "a")], ports: [port("http", 8080)] }]);
  });

  test("Service labels changed: the Endpoints follow; headless gets Kubernetes' headless label", () => {
    const plan = reconcile(service({ clusterIP: "None" }, { tier: "back" }), { current: stored(subsets), pods: ready });
    assert.equal(plan.type, "update");
    assert.deepEqual((plan as { endpoints: Endpoints }).endpoints.metadata!.labels, { tier: "back", [HEADLESS_LABEL]: "" });
  });

  test("an unmarked Endpoints of a selecting Service is taken over (marked), even if the subsets match", () => {
    const plan = reconcile(service(), { current: stored(subsets, { managed: false }), pods: ready });
    assert.equal(plan.type, "update");
    assert.equal((plan as { endpoints: Endpoints }).endpoints.metadata!.annotations[MANAGED_BY_ANNOTATION], MANAGED_BY);
  });

  test("a Service without selector: its Endpoints are the user's", () => {
    assert.deepEqual(reconcile(service({ selector: {} }), { current: stored([], { managed: false }), pods: ready }), { type: "none" });
    assert.deepEqual(reconcile(service({ selector: {} }), { current: undefined, pods: ready }), { type: "none" });
  });

  test("Service gone: our Endpoints are deleted on their revision; a user's only when we saw the Service deleted", () => {
    assert.deepEqual(reconcile(undefined, { current: stored(subsets), pods: [] }), { type: "delete", namespace: "default", name: "web", resourceVersion: "7" });
    assert.deepEqual(reconcile(undefined, { current: stored([], { managed: false }), pods: [] }), { type: "none" });
    assert.equal(reconcile(undefined, { current: stored([], { managed: false }), pods: [], serviceDeleted: true }).type, "delete");
    assert.deepEqual(reconcile(undefined, { current: undefined, pods: [] }), { type: "none" });
  });
});
