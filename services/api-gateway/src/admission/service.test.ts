import assert from "node:assert/strict";
import { test } from "node:test";
import { KINDS, type Service } from "@navarch/api";
import { decode, expectNone, expectOne, invalidCases, validate, validateUpdate, type Manifest } from "./testing.js";

function service(): Manifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default" },
    spec: {
      selector: { app: "web" },
      ports: [
        { name: "http", port: 80, targetPort: "http" },
        { name: "metrics", port: 9090, protocol: "TCP" },
      ],
    },
  };
}

test("Service: a valid service passes", () => {
  expectNone(validate(KINDS.Service, service()));
});

test("Service: defaults", () => {
  const svc = decode(KINDS.Service, service()) as Service;
  const spec = svc.spec!;
  assert.equal(spec.type, "ClusterIP");
  assert.equal(spec.sessionAffinity, "None");
  assert.equal(spec.ports[0]!.protocol, "TCP");
  assert.equal(spec.ports[0]!.targetPort, "http", "a given targetPort is kept");
  assert.equal(spec.ports[1]!.targetPort, "9090", "targetPort defaults to port, as a string");
  assert.equal(spec.internalTrafficPolicy, "Cluster");
});

test("Service: ExternalName needs no ports, headless needs none either", () => {
  expectNone(validate(KINDS.Service, { apiVersion: "v1", kind: "Service", metadata: { name: "db", namespace: "default" }, spec: { type: "ExternalName", externalName: "db.example.com" } }));
  expectNone(validate(KINDS.Service, { apiVersion: "v1", kind: "Service", metadata: { name: "peers", namespace: "default" }, spec: { clusterIP: "None" } }));
});

test("Service: NodePort with a port in range passes", () => {
  const m = service();
  m.spec.type = "NodePort";
  m.spec.ports[0].nodePort = 30080;
  expectNone(validate(KINDS.Service, m));
});

invalidCases(KINDS.Service, service, [
  { name: "type unknown", edit: (m) => (m.spec.type = "Internal"), path: "spec.type", phrase: "Unsupported value" },
  { name: "sessionAffinity unknown", edit: (m) => (m.spec.sessionAffinity = "Sticky"), path: "spec.sessionAffinity", phrase: "Unsupported value" },
  { name: "no ports", edit: (m) => (m.spec.ports = []), path: "spec.ports", phrase: "Required value" },
  { name: "ExternalName without externalName", edit: (m) => ((m.spec.type = "ExternalName"), (m.spec.ports = [])), path: "spec.externalName", phrase: "Required value" },
  { name: "port out of range", edit: (m) => (m.spec.ports[0].port = 0), path: "spec.ports[0].port", phrase: "between 1 and 65535" },
  { name: "protocol unknown", edit: (m) => (m.spec.ports[0].protocol = "ICMP"), path: "spec.ports[0].protocol", phrase: "Unsupported value" },
  { name: "targetPort number out of range", edit: (m) => (m.spec.ports[0].targetPort = 70000), path: "spec.ports[0].targetPort", phrase: "between 1 and 65535" },
  { name: "targetPort name invalid", edit: (m) => (m.spec.ports[0].targetPort = "HTTP"), path: "spec.ports[0].targetPort", phrase: "alpha-numeric" },
  { name: "port name missing with several ports", edit: (m) => delete m.spec.ports[1].name, path: "spec.ports[1].name", phrase: "Required value" },
  { name: "port names repeated", edit: (m) => (m.spec.ports[1].name = "http"), path: "spec.ports[1].name", phrase: "Duplicate value" },
  { name: "port and protocol repeated", edit: (m) => (m.spec.ports[1].port = 80), path: "spec.ports[1]", phrase: 'Duplicate value: "80/TCP"' },
  { name: "nodePort on a ClusterIP service", edit: (m) => (m.spec.ports[0].nodePort = 30080), path: "spec.ports[0].nodePort", phrase: "may not be used when `type` is 'ClusterIP'" },
  { name: "nodePort not a port number", edit: (m) => ((m.spec.type = "NodePort"), (m.spec.ports[0].nodePort = 70000)), path: "spec.ports[0].nodePort", phrase: "between 1 and 65535" },
  { name: "clusterIP not an IPv4", edit: (m) => (m.spec.clusterIP = "10.0.0.300"), path: "spec.clusterIP", phrase: "valid IPv4 address" },
  { name: "selector label invalid", edit: (m) => (m.spec.selector.app = "web app"), path: 'spec.selector["app"]', phrase: "label value" },
]);

test("Service: a single port may be unnamed", () => {
  const m = service();
  m.spec.ports = [{ port: 80 }];
  expectNone(validate(KINDS.Service, m));
});

test("Service update: clusterIP is immutable once set", () => {
  const before = service();
  before.spec.clusterIP = "10.96.0.10";
  const same = structuredClone(before);
  expectNone(validateUpdate(KINDS.Service, same, before));
  const moved = structuredClone(before);
  moved.spec.clusterIP = "10.96.0.11";
  expectOne(validateUpdate(KINDS.Service, moved, before), "spec.clusterIP", 'Invalid value: "10.96.0.11": field is immutable');
  const cleared = structuredClone(before);
  delete cleared.spec.clusterIP;
  expectOne(validateUpdate(KINDS.Service, cleared, before), "spec.clusterIP", "field is immutable");
});

test("Service update: an unset clusterIP may be set", () => {
  const before = service();
  const after = structuredClone(before);
  after.spec.clusterIP = "10.96.0.12";
  expectNone(validateUpdate(KINDS.Service, after, before));
});

test("Service: clusterIPs alone sets clusterIP (headless too)", () => {
  const m = service();
  m.spec.clusterIPs = ["10.96.0.20"];
  assert.equal((decode(KINDS.Service, m) as Service).spec!.clusterIP, "10.96.0.20");
  const headless = service();
  headless.spec.clusterIPs = ["None"];
  assert.equal((decode(KINDS.Service, headless) as Service).spec!.clusterIP, "None");
});
