import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, type Endpoints, type Ingress, type Service } from "@navarch/api";
import { lookup } from "./match.js";
import { buildRouteTable, isServed, type TableInputs } from "./table.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

function svc(name: string, ports: Loose[], extra: Loose = {}): Service {
  return KINDS.Service.codec.fromPartial({ metadata: { name, namespace: "shop" }, spec: { ports, ...extra } });
}

function eps(name: string, subsets: Loose[]): Endpoints {
  return KINDS.Endpoints.codec.fromPartial({ metadata: { name, namespace: "shop" }, subsets });
}

function ing(name: string, spec: Loose, meta: Loose = {}): Ingress {
  return KINDS.Ingress.codec.fromPartial({ metadata: { name, namespace: "shop", creationTimestamp: "2024-01-01T00:00:00Z", ...meta }, spec });
}

function rule(host: string, path: string, service: string, port: Loose, pathType = "Prefix"): Loose {
  return { host, http: { paths: [{ path, pathType, backend: { service: { name: service, port } } }] } };
}

function inputs(ingresses: Ingress[], services: Service[], endpoints: Endpoints[]): TableInputs {
  return {
    ingresses,
    service: (ns, name) => services.find((s) => s.metadata!.namespace === ns && s.metadata!.name === name),
    endpoints: (ns, name) => endpoints.find((e) => e.metadata!.namespace === ns && e.metadata!.name === name),
    ingressClass: "navarch",
  };
}

const WEB = svc("web", [
  { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
  { name: "admin", port: 9000, targetPort: "9001", protocol: "TCP" },
]);
// Two subsets: pods whose "http" container port differs (the endpoints controller resolved the
// named target port per pod), plus a pod that is not ready.
const WEB_EPS = eps("web", [
  {
    addresses: [{ ip: "10.0.0.2" }, { ip: "10.0.0.1" }],
    notReadyAddresses: [{ ip: "10.0.0.9" }],
    ports: [{ name: "http", port: 8080, protocol: "TCP" }, { name: "admin", port: 9001, protocol: "TCP" }],
  },
  { addresses: [{ ip: "10.0.0.3" }], ports: [{ name: "http", port: 8081, protocol: "TCP" }, { name: "admin", port: 9001, protocol: "TCP" }] },
]);

describe("buildRouteTable: backends", () => {
  it("resolves a port by number to the Endpoints' target ports, ready addresses only, sorted", () => {
    const t = buildRouteTable(inputs([ing("a", { rules: [rule("shop.example", "/", "web", { number: 80 })] })], [WEB], [WEB_EPS]));
    const b = lookup(t, "shop.example", "/")!.backend;
    assert.equal(b.id, "shop/web:80");
    assert.deepEqual(b.addresses, [
      { ip: "10.0.0.1", port: 8080 },
      { ip: "10.0.0.2", port: 8080 },
      { ip: "10.0.0.3", port: 8081 },
    ]);
    assert.equal(b.unavailable, undefined);
  });

  it("resolves a port by name", () => {
    const t = buildRouteTable(inputs([ing("a", { rules: [rule("shop.example", "/", "web", { name: "admin" })] })], [WEB], [WEB_EPS]));
    const b = lookup(t, "shop.example", "/")!.backend;
    assert.equal(b.id, "shop/web:admin");
    assert.deepEqual(b.addresses.map((a) => `${a.ip}:${a.port}`), ["10.0.0.1:9001", "10.0.0.2:9001", "10.0.0.3:9001"]);
  });

  it("matches the Endpoints port of a Service's single unnamed port", () => {
    const one = svc("one", [{ port: 80, targetPort: "8080", protocol: "TCP" }]);
    const oneEps = eps("one", [{ addresses: [{ ip: "10.0.1.1" }], ports: [{ port: 8080, protocol: "TCP" }] }]);
    const t = buildRouteTable(inputs([ing("a", { defaultBackend: { service: { name: "one", port: { number: 80 } } } })], [one], [oneEps]));
    assert.deepEqual(t.defaultBackend?.addresses, [{ ip: "10.0.1.1", port: 8080 }]);
  });

  const unavailable: [string, Service[], Endpoints[], Loose, string][] = [
    ["no Service", [], [], { number: 80 }, "service shop/web does not exist"],
    ["no such port number", [WEB], [WEB_EPS], { number: 81 }, "service shop/web has no port 81"],
    ["no such port name", [WEB], [WEB_EPS], { name: "grpc" }, "service shop/web has no port grpc"],
    ["no Endpoints", [WEB], [], { number: 80 }, "service shop/web has no ready endpoints"],
    ["only not-ready addresses", [WEB], [eps("web", [{ notReadyAddresses: [{ ip: "10.0.0.9" }], ports: [{ name: "http", port: 8080 }] }])], { number: 80 }, "no ready endpoints"],
    ["ExternalName", [svc("web", [], { type: "ExternalName", externalName: "example.org" })], [], { number: 80 }, "is an ExternalName service"],
    ["a UDP port", [svc("web", [{ name: "dns", port: 53, protocol: "UDP" }])], [], { number: 53 }, "is not TCP"],
  ];
  for (const [name, services, endpoints, port, why] of unavailable) {
    it(`${name}: a backend without addresses, saying why (the proxy answers 503)`, () => {
      const t = buildRouteTable(inputs([ing("a", { rules: [rule("shop.example", "/", "web", port)] })], services, endpoints));
      const b = lookup(t, "shop.example", "/")!.backend;
      assert.deepEqual(b.addresses, []);
      assert.ok(b.unavailable?.includes(why), b.unavailable);
    });
  }

  it("lists the Services it read, also missing ones (their creation must rebuild the table)", () => {
    const t = buildRouteTable(
      inputs([ing("a", { defaultBackend: { service: { name: "gone", port: { number: 1 } } }, rules: [rule("x.example", "/", "web", { number: 80 }), rule("y.example", "/", "web", { name: "admin" })] })], [WEB], [WEB_EPS]),
    );
    assert.deepEqual([...t.services].sort(), ["shop/gone", "shop/web"]);
  });
});

describe("buildRouteTable: which Ingresses and how they merge", () => {
  it("serves Ingresses of its class or of none, honouring the legacy class annotation", () => {
    const cases: [Loose, Loose, boolean][] = [
      [{}, {}, true],
      [{ ingressClassName: "navarch" }, {}, true],
      [{ ingressClassName: "nginx" }, {}, false],
      [{}, { "kubernetes.io/ingress.class": "nginx" }, false],
      [{}, { "kubernetes.io/ingress.class": "navarch" }, true],
      [{ ingressClassName: "navarch" }, { "kubernetes.io/ingress.class": "nginx" }, true],
    ];
    for (const [spec, annotations, want] of cases) {
      assert.equal(isServed(ing("x", { ...spec, rules: [rule("a.example", "/", "web", { number: 80 })] }, { annotations }), "navarch"), want, JSON.stringify([spec, annotations]));
    }
    const t = buildRouteTable(
      inputs(
        [ing("mine", { rules: [rule("a.example", "/", "web", { number: 80 })] }), ing("theirs", { ingressClassName: "nginx", rules: [rule("b.example", "/", "web", { number: 80 })] })],
        [WEB],
        [WEB_EPS],
      ),
    );
    assert.deepEqual(t.ingresses, ["shop/mine"]);
    assert.equal(lookup(t, "b.example", "/"), undefined);
  });

  it("merges rules of several Ingresses by host; the older Ingress wins a path both name", () => {
    const api = svc("api", [{ port: 80, protocol: "TCP" }]);
    const apiEps = eps("api", [{ addresses: [{ ip: "10.0.2.1" }], ports: [{ port: 80 }] }]);
    const newer = ing("newer", { rules: [rule("shop.example", "/", "api", { number: 80 }), rule("shop.example", "/api", "api", { number: 80 })] }, { creationTimestamp: "2024-02-01T00:00:00Z" });
    const older = ing("older", { rules: [rule("shop.example", "/", "web", { number: 80 })] }, { creationTimestamp: "2024-01-01T00:00:00Z" });
    const t = buildRouteTable(inputs([newer, older], [WEB, api], [WEB_EPS, apiEps]));
    assert.equal(lookup(t, "shop.example", "/")!.backend.service, "web");
    assert.equal(lookup(t, "shop.example", "/")!.route!.ingress, "shop/older");
    assert.equal(lookup(t, "shop.example", "/api/v1")!.backend.service, "api");
    assert.deepEqual(t.ingresses, ["shop/older", "shop/newer"]);
  });

  it("the oldest rule-less Ingress's defaultBackend is the default for every request no rule takes", () => {
    const api = svc("api", [{ port: 80, protocol: "TCP" }]);
    const t = buildRouteTable(
      inputs(
        [
          ing("b", { defaultBackend: { service: { name: "api", port: { number: 80 } } } }, { creationTimestamp: "2024-03-01T00:00:00Z" }),
          ing("a", { defaultBackend: { service: { name: "web", port: { number: 80 } } } }, { creationTimestamp: "2024-02-01T00:00:00Z" }),
          ing("rules", { rules: [rule("shop.example", "/exact", "api", { number: 80 }, "Exact")] }),
        ],
        [WEB, api],
        [WEB_EPS],
      ),
    );
    assert.equal(lookup(t, "elsewhere.example", "/")!.backend.service, "web");
    assert.equal(lookup(t, "shop.example", "/other")!.backend.service, "web");
    assert.equal(lookup(t, "shop.example", "/exact")!.backend.service, "api");
  });

  it("a rule without http, or a path without a service backend, adds no route", () => {
    const t = buildRouteTable(inputs([ing("a", { rules: [{ host: "bare.example" }, { host: "odd.example", http: { paths: [{ path: "/", pathType: "Prefix", backend: {} }] } }] })], [WEB], [WEB_EPS]));
    assert.equal(lookup(t, "bare.example", "/"), undefined);
    assert.equal(lookup(t, "odd.example", "/"), undefined);
  });

  it("host rules are case-insensitive and wildcards are keyed by their suffix", () => {
    const t = buildRouteTable(inputs([ing("a", { rules: [rule("*.Shop.Example", "/", "web", { number: 80 })] })], [WEB], [WEB_EPS]));
    assert.deepEqual([...t.wildcard.keys()], ["shop.example"]);
    assert.equal(lookup(t, "eu.shop.example", "/")!.backend.service, "web");
  });
});
