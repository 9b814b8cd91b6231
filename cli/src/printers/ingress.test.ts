import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, type Endpoints, type Ingress, type KindInfo, type KubeObject, type Service } from "@navarch/api";
import { tableHeaders, tableRow } from "./columns.js";
import { describeObject } from "./describe.js";
import { ingressHosts, ingressServiceNames, type IngressBackends } from "./ingress.js";
import { renderTable } from "./table.js";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const INFO = KINDS.Ingress as unknown as KindInfo;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ing(spec: Record<string, any>, lb: { ip?: string; hostname?: string }[] = [], name = "web"): Ingress {
  return KINDS.Ingress.codec.fromPartial({ metadata: { name, namespace: "default", creationTimestamp: "2024-05-01T11:00:00Z" }, spec, status: { loadBalancer: { ingress: lb } } });
}

const path = (p: string, service: string, port: { number?: number; name?: string }) => ({ path: p, pathType: "Prefix", backend: { service: { name: service, port } } });

const FANOUT = ing(
  {
    ingressClassName: "navarch",
    rules: [
      { host: "one.example", http: { paths: [path("/", "one", { number: 80 })] } },
      { host: "two.example", http: { paths: [path("/", "two", { name: "http" }), path("/api", "api", { number: 8080 })] } },
    ],
  },
  [{ ip: "127.0.0.1" }],
);

describe("navctl get ingress", () => {
  it("prints NAME CLASS HOSTS ADDRESS PORTS AGE as kubectl does", () => {
    const rows = [FANOUT, ing({ defaultBackend: { service: { name: "x", port: { number: 80 } } }, tls: [{ hosts: ["a.example"] }] }, [], "bare")].map((o) => tableRow(INFO, o as KubeObject, {}, NOW));
    assert.equal(
      renderTable(tableHeaders(INFO, {}), rows),
      [
        "NAME   CLASS     HOSTS                     ADDRESS     PORTS     AGE",
        "web    navarch   one.example,two.example   127.0.0.1   80        60m",
        "bare   <none>    *                                     80, 443   60m",
        "",
      ].join("\n"),
    );
  });

  it("HOSTS: at most three, then how many more; a rule without a host counts but does not show", () => {
    const rules = ["a", "", "b", "c", "d", "e"].map((h) => ({ host: h ? `${h}.example` : "" }));
    assert.equal(ingressHosts(ing({ rules })), "a.example,b.example,c.example + 3 more...");
    assert.equal(ingressHosts(ing({ rules: [{ host: "" }] })), "*");
  });

  it("ADDRESS: sorted, hostnames when there is no IP, cut to 16 characters", () => {
    const row = tableRow(INFO, ing({}, [{ ip: "10.0.0.12" }, { hostname: "lb.example.com" }, { ip: "10.0.0.1" }]) as KubeObject, {}, NOW);
    assert.equal(row[3], "10.0.0.1,10.0...");
  });
});

describe("navctl describe ingress", () => {
  it("lists the rules with each backend's endpoints, as kubectl does", () => {
    const svc = (name: string, ports: { name?: string; port: number }[]) => KINDS.Service.codec.fromPartial({ metadata: { name, namespace: "default" }, spec: { ports } }) as Service;
    const eps = (name: string, subsets: unknown[]) => KINDS.Endpoints.codec.fromPartial({ metadata: { name, namespace: "default" }, subsets: subsets as never }) as Endpoints;
    const known: IngressBackends = {
      services: new Map<string, Service | Error>([
        ["one", svc("one", [{ port: 80 }])],
        ["two", svc("two", [{ name: "http", port: 80 }, { name: "metrics", port: 9090 }])],
        ["api", new Error('services "api" not found')],
      ]),
      endpoints: new Map<string, Endpoints | Error>([
        ["one", eps("one", [{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }], ports: [{ port: 8080 }] }])],
        ["two", eps("two", [{ addresses: [{ ip: "10.0.0.3" }], ports: [{ name: "http", port: 8080 }, { name: "metrics", port: 9090 }] }])],
        ["api", new Error('endpoints "api" not found')],
      ]),
    };
    assert.deepEqual(ingressServiceNames(FANOUT), ["api", "one", "two"]);
    const text = describeObject(INFO, FANOUT as KubeObject, { ingressBackends: known }, NOW);
    const body = text.split("\n").slice(text.split("\n").findIndex((l) => l.startsWith("Address:")));
    assert.deepEqual(body, [
      // Aligned as Go's tabwriter aligns kubectl's: a host line ends the path column's block.
      "Address:            127.0.0.1",
      "Ingress Class:      navarch",
      "Default backend:    <default>",
      "Rules:",
      "  Host         Path  Backends",
      "  ----         ----  --------",
      "  one.example",
      "               /   one:80 (10.0.0.1:8080,10.0.0.2:8080)",
      "  two.example",
      "               /      two:http (10.0.0.3:8080)",
      "               /api   api:8080 (<error: endpoints \"api\" not found>)",
      "",
    ]);
  });

  it("shows TLS and, without rules, the default backend for every host and path", () => {
    const only = ing({ defaultBackend: { service: { name: "one", port: { number: 80 } } }, tls: [{ hosts: ["a.example", "b.example"], secretName: "tls" }] });
    const text = describeObject(INFO, only as KubeObject, {}, NOW);
    assert.match(text, /\nDefault backend: +one:80 \(<error: endpoints "one" not found>\)\n/);
    assert.match(text, /\nTLS:\n {2}tls terminates a\.example,b\.example\n/);
    assert.match(text, /\n {2}\* +\* +one:80 \(<error: endpoints "one" not found>\)\n/);
  });
});
