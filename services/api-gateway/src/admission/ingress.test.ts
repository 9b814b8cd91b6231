import assert from "node:assert/strict";
import { test } from "node:test";
import { KINDS, type Ingress } from "@navarch/api";
import { decode, expectNone, invalidCases, validate, validateUpdate, type Manifest } from "./testing.js";

const INGRESS = KINDS.Ingress;

/** The manifest of the Kubernetes docs' "simple fanout" example, with a TLS entry and a wildcard host. */
function ingress(): Manifest {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "web", namespace: "default" },
    spec: {
      ingressClassName: "navarch",
      tls: [{ hosts: ["foo.example.com", "*.example.org"], secretName: "foo-tls" }],
      rules: [
        {
          host: "foo.example.com",
          http: {
            paths: [
              { path: "/foo", pathType: "Prefix", backend: { service: { name: "service1", port: { number: 4200 } } } },
              { path: "/bar", pathType: "Exact", backend: { service: { name: "service2", port: { name: "http" } } } },
            ],
          },
        },
        { host: "*.example.org", http: { paths: [{ path: "/", pathType: "ImplementationSpecific", backend: { service: { name: "wild", port: { number: 80 } } } }] } },
      ],
    },
  };
}

test("Ingress: a valid ingress passes", () => {
  expectNone(validate(INGRESS, ingress()));
});

test("Ingress: only a defaultBackend is enough; no rule needs a host", () => {
  expectNone(validate(INGRESS, { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "d", namespace: "default" }, spec: { defaultBackend: { service: { name: "web", port: { number: 80 } } } } }));
  const m = ingress();
  delete m.spec.rules[0].host;
  expectNone(validate(INGRESS, m));
});

test("Ingress: ImplementationSpecific may leave the path empty", () => {
  const m = ingress();
  delete m.spec.rules[1].http.paths[0].path;
  expectNone(validate(INGRESS, m));
});

test("Ingress: nothing is defaulted (pathType stays empty and is refused)", () => {
  const m = ingress();
  delete m.spec.rules[0].http.paths[0].pathType;
  const ing = decode(KINDS.Ingress, m) as Ingress;
  assert.equal(ing.spec!.rules[0]!.http!.paths[0]!.pathType, "");
  assert.equal(ing.spec!.ingressClassName, "navarch");
});

invalidCases(INGRESS, ingress, [
  { name: "no rules and no defaultBackend", edit: (m) => (m.spec.rules = []), path: "spec", phrase: "either `defaultBackend` or `rules` must be specified" },
  { name: "host not a DNS name", edit: (m) => (m.spec.rules[0].host = "Foo.example.com"), path: "spec.rules[0].host", phrase: "DNS-1123 subdomain" },
  { name: "host an IP address", edit: (m) => (m.spec.rules[0].host = "10.0.0.1"), path: "spec.rules[0].host", phrase: "must be a DNS name, not an IP address" },
  { name: "wildcard not leading", edit: (m) => (m.spec.rules[1].host = "foo.*.example.org"), path: "spec.rules[1].host", phrase: "must start with '*.'" },
  { name: "bare wildcard", edit: (m) => (m.spec.rules[1].host = "*"), path: "spec.rules[1].host", phrase: "wildcard DNS-1123 subdomain" },
  { name: "http without paths", edit: (m) => (m.spec.rules[0].http.paths = []), path: "spec.rules[0].http.paths", phrase: "Required value" },
  { name: "pathType missing", edit: (m) => delete m.spec.rules[0].http.paths[0].pathType, path: "spec.rules[0].http.paths[0].pathType", phrase: "Required value: pathType must be specified" },
  { name: "pathType unknown", edit: (m) => (m.spec.rules[0].http.paths[0].pathType = "Regex"), path: "spec.rules[0].http.paths[0].pathType", phrase: 'Unsupported value: "Regex"' },
  { name: "Prefix path not absolute", edit: (m) => (m.spec.rules[0].http.paths[0].path = "foo"), path: "spec.rules[0].http.paths[0].path", phrase: "must be an absolute path" },
  { name: "Exact path empty", edit: (m) => (m.spec.rules[0].http.paths[1].path = ""), path: "spec.rules[0].http.paths[1].path", phrase: "must be an absolute path" },
  { name: "ImplementationSpecific path not absolute", edit: (m) => (m.spec.rules[1].http.paths[0].path = "x"), path: "spec.rules[1].http.paths[0].path", phrase: "must be an absolute path" },
  { name: "path with //", edit: (m) => (m.spec.rules[0].http.paths[0].path = "/a//b"), path: "spec.rules[0].http.paths[0].path", phrase: "must not contain '//'" },
  { name: "path ending in /..", edit: (m) => (m.spec.rules[0].http.paths[0].path = "/a/.."), path: "spec.rules[0].http.paths[0].path", phrase: "cannot end with '/..'" },
  { name: "backend without service", edit: (m) => (m.spec.rules[0].http.paths[0].backend = {}), path: "spec.rules[0].http.paths[0].backend", phrase: "resource or service backend is required" },
  { name: "service name missing", edit: (m) => delete m.spec.rules[0].http.paths[0].backend.service.name, path: "spec.rules[0].http.paths[0].backend.service.name", phrase: "Required value" },
  { name: "service name not a DNS-1035 label", edit: (m) => (m.spec.rules[0].http.paths[0].backend.service.name = "1web"), path: "spec.rules[0].http.paths[0].backend.service.name", phrase: "DNS-1035" },
  { name: "service port missing", edit: (m) => delete m.spec.rules[0].http.paths[0].backend.service.port, path: "spec.rules[0].http.paths[0].backend", phrase: "port name or number is required" },
  { name: "service port name and number", edit: (m) => (m.spec.rules[0].http.paths[0].backend.service.port = { name: "http", number: 80 }), path: "spec.rules[0].http.paths[0].backend", phrase: "cannot set both port name & port number" },
  { name: "service port number out of range", edit: (m) => (m.spec.rules[0].http.paths[0].backend.service.port = { number: 70000 }), path: "spec.rules[0].http.paths[0].backend.service.port.number", phrase: "between 1 and 65535" },
  { name: "service port name invalid", edit: (m) => (m.spec.rules[0].http.paths[1].backend.service.port = { name: "HTTP" }), path: "spec.rules[0].http.paths[1].backend.service.port.name", phrase: "alpha-numeric" },
  { name: "defaultBackend without port", edit: (m) => (m.spec.defaultBackend = { service: { name: "web" } }), path: "spec.defaultBackend", phrase: "port name or number is required" },
  { name: "tls host invalid", edit: (m) => (m.spec.tls[0].hosts[0] = "foo_bar.com"), path: "spec.tls[0].hosts[0]", phrase: "DNS-1123 subdomain" },
  { name: "tls wildcard host invalid", edit: (m) => (m.spec.tls[0].hosts[1] = "*.*.example.org"), path: "spec.tls[0].hosts[1]", phrase: "wildcard DNS-1123 subdomain" },
  { name: "tls secretName invalid", edit: (m) => (m.spec.tls[0].secretName = "Foo"), path: "spec.tls[0].secretName", phrase: "DNS-1123 subdomain" },
  { name: "ingressClassName invalid", edit: (m) => (m.spec.ingressClassName = "Navarch"), path: "spec.ingressClassName", phrase: "DNS-1123 subdomain" },
]);

test("Ingress update: the same rules apply, nothing is immutable", () => {
  const before = ingress();
  const after = structuredClone(before);
  after.spec.rules[0].host = "bar.example.com";
  after.spec.ingressClassName = "other";
  expectNone(validateUpdate(INGRESS, after, before));
  after.spec.rules[0].http.paths[0].pathType = "";
  assert.deepEqual(validateUpdate(INGRESS, after, before).map((e) => e.path), ["spec.rules[0].http.paths[0].pathType"]);
});
