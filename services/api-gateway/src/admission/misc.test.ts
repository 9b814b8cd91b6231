import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL_KINDS, KINDS, type Event, type Namespace } from "@navarch/api";
import { admissionFor } from "./index.js";
import { decode, expectNone, expectOne, invalidCases, validate, type Manifest } from "./testing.js";

test("Namespace: finalizers default to [kubernetes]; given ones are kept", () => {
  const ns = decode(KINDS.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } }) as Namespace;
  assert.deepEqual(ns.spec!.finalizers, ["kubernetes"]);
  const own = decode(KINDS.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" }, spec: { finalizers: ["example.com/x"] } }) as Namespace;
  assert.deepEqual(own.spec!.finalizers, ["example.com/x"]);
  expectNone(validate(KINDS.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } }));
});

invalidCases(KINDS.Namespace, () => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } }), [
  { name: "name too long", edit: (m) => (m.metadata.name = "a".repeat(64)), path: "metadata.name", phrase: "no more than 63 characters" },
  { name: "finalizer invalid", edit: (m) => (m.spec = { finalizers: ["not valid"] }), path: "spec.finalizers[0]", phrase: "name part" },
]);

function node(): Manifest {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "worker-1", labels: { "kubernetes.io/hostname": "worker-1" } },
    spec: {
      podCIDR: "10.244.1.0/24",
      taints: [
        { key: "dedicated", value: "gpu", effect: "NoSchedule" },
        { key: "dedicated", value: "gpu", effect: "NoExecute" },
      ],
    },
  };
}

test("Node: a valid node passes", () => expectNone(validate(KINDS.Node, node())));

invalidCases(KINDS.Node, node, [
  { name: "taint effect unknown", edit: (m) => (m.spec.taints[0].effect = "NoRun"), path: "spec.taints[0].effect", phrase: "Unsupported value" },
  { name: "taint effect missing", edit: (m) => (m.spec.taints[0].effect = ""), path: "spec.taints[0].effect", phrase: "Required value" },
  { name: "taint key invalid", edit: (m) => (m.spec.taints[0].key = "dedicated!"), path: "spec.taints[0].key", phrase: "name part" },
  { name: "taint key and effect repeated", edit: (m) => (m.spec.taints[1].effect = "NoSchedule"), path: "spec.taints[1]", phrase: 'Duplicate value: "dedicated:NoSchedule"' },
  { name: "podCIDR invalid", edit: (m) => (m.spec.podCIDR = "10.244.1.0"), path: "spec.podCIDR", phrase: "valid CIDR" },
]);

function endpoints(): Manifest {
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "web", namespace: "default" },
    subsets: [
      {
        addresses: [{ ip: "10.244.1.5", nodeName: "worker-1", targetRef: { kind: "Pod", name: "web-0", namespace: "default" } }],
        notReadyAddresses: [{ ip: "10.244.2.7" }],
        ports: [
          { name: "http", port: 80 },
          { name: "metrics", port: 9090, protocol: "TCP" },
        ],
      },
    ],
  };
}

test("Endpoints: a valid object passes", () => expectNone(validate(KINDS.Endpoints, endpoints())));

invalidCases(KINDS.Endpoints, endpoints, [
  { name: "address not IPv4", edit: (m) => (m.subsets[0].addresses[0].ip = "10.244.1"), path: "subsets[0].addresses[0].ip", phrase: "valid IPv4 address" },
  { name: "not-ready address missing ip", edit: (m) => (m.subsets[0].notReadyAddresses[0].ip = ""), path: "subsets[0].notReadyAddresses[0].ip", phrase: "Required value" },
  { name: "port out of range", edit: (m) => (m.subsets[0].ports[1].port = 65536), path: "subsets[0].ports[1].port", phrase: "between 1 and 65535" },
  { name: "port protocol unknown", edit: (m) => (m.subsets[0].ports[0].protocol = "QUIC"), path: "subsets[0].ports[0].protocol", phrase: "Unsupported value" },
]);

function event(): Manifest {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "web-0.17a2b3c4d5e6f", namespace: "default" },
    involvedObject: { kind: "Pod", name: "web-0", namespace: "default" },
    reason: "Pulled",
    message: 'Container image "nginx:1.25" already present on machine',
    source: { component: "node-agent", host: "worker-1" },
  };
}

test("Event: type defaults to Normal; a valid event passes", () => {
  assert.equal((decode(KINDS.Event, event()) as Event).type, "Normal");
  expectNone(validate(KINDS.Event, event()));
});

invalidCases(KINDS.Event, event, [
  { name: "involvedObject.kind missing", edit: (m) => delete m.involvedObject.kind, path: "involvedObject.kind", phrase: "Required value" },
  { name: "involvedObject.name missing", edit: (m) => (m.involvedObject.name = ""), path: "involvedObject.name", phrase: "Required value" },
  { name: "reason missing", edit: (m) => delete m.reason, path: "reason", phrase: "Required value" },
  { name: "type unknown", edit: (m) => (m.type = "Error"), path: "type", phrase: 'Unsupported value: "Error"' },
]);

function lease(): Manifest {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "scheduler", namespace: "navarch-system" },
    spec: { holderIdentity: "scheduler-1", leaseDurationSeconds: 15, leaseTransitions: 2 },
  };
}

test("Lease: a valid lease passes, with or without a duration", () => {
  expectNone(validate(KINDS.Lease, lease()));
  const m = lease();
  delete m.spec.leaseDurationSeconds;
  expectNone(validate(KINDS.Lease, m));
});

invalidCases(KINDS.Lease, lease, [
  { name: "zero duration", edit: (m) => (m.spec.leaseDurationSeconds = 0), path: "spec.leaseDurationSeconds", phrase: "must be greater than 0" },
  { name: "negative transitions", edit: (m) => (m.spec.leaseTransitions = -1), path: "spec.leaseTransitions", phrase: "greater than or equal to 0" },
]);

test("admissionFor: every registered kind has an admission whose validate and validateUpdate return lists", () => {
  for (const info of ALL_KINDS) {
    const adm = admissionFor(info);
    const obj = info.codec.fromJSON({ apiVersion: info.apiVersion, kind: info.kind, metadata: { name: "x", namespace: info.namespaced ? "default" : "" } });
    adm.default(obj);
    assert.ok(Array.isArray(adm.validate(obj)), info.kind);
    assert.ok(Array.isArray(adm.validateUpdate(obj, obj)), info.kind);
  }
});

test("admissionFor: validate does not throw on objects that were never defaulted", () => {
  for (const info of ALL_KINDS) {
    const obj = info.codec.fromJSON({});
    assert.ok(admissionFor(info).validate(obj).some((e) => e.path === "metadata.name"), info.kind);
  }
});
