import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, type Endpoints, type Ingress, type Service } from "@navarch/api";
import { lookup, normalizeHost, normalizePath, pathMatches } from "./match.js";
import { buildRouteTable, type PathType } from "./table.js";

describe("pathMatches (the Kubernetes documentation's examples table)", () => {
  const cases: [PathType, string, string, boolean][] = [
    ["Prefix", "/", "/", true],
    ["Prefix", "/", "/anything/at/all", true],
    ["Exact", "/foo", "/foo", true],
    ["Exact", "/foo", "/bar", false],
    ["Exact", "/foo", "/foo/", false],
    ["Exact", "/foo/", "/foo", false],
    ["Prefix", "/foo", "/foo", true],
    ["Prefix", "/foo", "/foo/", true],
    ["Prefix", "/foo/", "/foo", true],
    ["Prefix", "/foo/", "/foo/", true],
    ["Prefix", "/aaa/bb", "/aaa/bbb", false],
    ["Prefix", "/aaa/bbb", "/aaa/bbb", true],
    ["Prefix", "/aaa/bbb/", "/aaa/bbb", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbb/", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbb/ccc", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbbxyz", false],
    ["Prefix", "/foo", "/foobar", false],
    ["Prefix", "/aaa", "/ccc", false],
  ];
  for (const [type, rule, path, want] of cases) {
    it(`${type} ${rule} ${want ? "matches" : "does not match"} ${path}`, () => assert.equal(pathMatches(type, rule, path), want));
  }
});

// A table from host -> [pathType, path] rules; each path's backend is a Service named after the
// rule ("<host or any>-<index>"), so the test can read which rule won.
function table(rules: Record<string, [string, string][]>, extra: { hostDefault?: string; globalDefault?: string } = {}) {
  const services = new Map<string, Service>();
  const endpoints = new Map<string, Endpoints>();
  const backend = (name: string) => {
    services.set(name, KINDS.Service.codec.fromPartial({ metadata: { name, namespace: "default" }, spec: { ports: [{ port: 80, targetPort: "8080", protocol: "TCP" }] } }));
    endpoints.set(name, KINDS.Endpoints.codec.fromPartial({ metadata: { name, namespace: "default" }, subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 8080, protocol: "TCP" }] }] }));
    return { service: { name, port: { number: 80 } } };
  };
  const ingresses: Ingress[] = [
    KINDS.Ingress.codec.fromPartial({
      metadata: { name: "main", namespace: "default", creationTimestamp: "2024-01-01T00:00:00Z" },
      spec: {
        defaultBackend: extra.hostDefault ? backend(extra.hostDefault) : undefined,
        rules: Object.entries(rules).map(([host, paths]) => ({
          host: host === "*" ? "" : host,
          http: { paths: paths.map(([pathType, path], i) => ({ pathType, path, backend: backend(`${host === "*" ? "any" : host.replace("*", "star")}-${i}`) })) },
        })),
      },
    }),
  ];
  if (extra.globalDefault) {
    ingresses.push(KINDS.Ingress.codec.fromPartial({ metadata: { name: "fallback", namespace: "default" }, spec: { defaultBackend: backend(extra.globalDefault) } }));
  }
  return buildRouteTable({
    ingresses,
    service: (_ns, name) => services.get(name),
    endpoints: (_ns, name) => endpoints.get(name),
    ingressClass: "navarch",
  });
}

describe("lookup", () => {
  const t = table(
    {
      "foo.com": [["Prefix", "/"], ["Prefix", "/aaa"], ["Prefix", "/aaa/bbb"], ["Exact", "/exact"], ["Prefix", "/exact"], ["ImplementationSpecific", "/impl"]],
      "*.foo.com": [["Prefix", "/"]],
      "bar.com": [["Exact", "/only"]],
      "*": [["Prefix", "/any"]],
    },
    { hostDefault: "host-default", globalDefault: "global-default" },
  );
  const cases: [string, string, string, string | undefined][] = [
    // host, path, why, backend service (undefined: 404)
    ["foo.com", "/aaa/bbb", "the longest prefix wins", "foo.com-2"],
    ["foo.com", "/aaa/ccc", "a shorter prefix when the longer does not match", "foo.com-1"],
    ["foo.com", "/ccc", "/ matches everything", "foo.com-0"],
    ["foo.com", "/exact", "Exact beats Prefix of the same length", "foo.com-3"],
    ["foo.com", "/exact/sub", "the Prefix of the same path takes subpaths", "foo.com-4"],
    ["foo.com", "/impl/x", "ImplementationSpecific is a Prefix", "foo.com-5"],
    ["foo.com", "/aaa/bbbxyz", "a prefix matches by elements, not characters", "foo.com-1"],
    ["a.foo.com", "/x", "a wildcard covers one label", "star.foo.com-0"],
    ["b.a.foo.com", "/any", "but not two: the host-less rules take it", "any-0"],
    ["foo.com", "/any", "an exact host entry does not fall through to host-less rules", "foo.com-0"],
    ["bar.com", "/other", "a host without a matching path gets its Ingress's defaultBackend", "host-default"],
    ["other.com", "/any/thing", "a host no rule names: the host-less rules", "any-0"],
    ["other.com", "/else", "then the host-less rules' default (the same Ingress's)", "host-default"],
  ];
  for (const [host, path, why, want] of cases) {
    it(`${host}${path}: ${why}`, () => assert.equal(lookup(t, host, path)?.backend.service, want));
  }

  it("without host-less rules, an unknown host goes to the default backend, else nothing (404)", () => {
    const withDefault = table({ "foo.com": [["Exact", "/"]] }, { globalDefault: "global-default" });
    assert.equal(lookup(withDefault, "x.com", "/")?.backend.service, "global-default");
    assert.equal(lookup(withDefault, "foo.com", "/nope")?.backend.service, "global-default");
    const bare = table({ "foo.com": [["Exact", "/"]] });
    assert.equal(lookup(bare, "x.com", "/"), undefined);
    assert.equal(lookup(bare, "foo.com", "/nope"), undefined);
  });

  it("reports the rule that matched, and none for a default backend", () => {
    const route = lookup(t, "foo.com", "/aaa")?.route;
    assert.deepEqual(route && { path: route.path, pathType: route.pathType, ingress: route.ingress }, { path: "/aaa", pathType: "Prefix", ingress: "default/main" });
    assert.equal(lookup(t, "bar.com", "/x")?.route, undefined);
  });
});

describe("normalizeHost", () => {
  const cases: [string | undefined, string][] = [
    ["Foo.Example.COM", "foo.example.com"],
    ["foo.com:8080", "foo.com"],
    ["foo.com.", "foo.com"],
    ["[::1]:8080", "[::1]"],
    ["127.0.0.1:80", "127.0.0.1"],
    [undefined, ""],
  ];
  for (const [header, want] of cases) it(`${header} -> ${want}`, () => assert.equal(normalizeHost(header), want));
});

describe("normalizePath", () => {
  const cases: [string, string][] = [
    ["/", "/"],
    ["/foo?x=/bar", "/foo"],
    ["/foo/#frag", "/foo/"],
    ["/a//b", "/a/b"],
    ["/public/../admin", "/admin"],
    ["/a/./b/.", "/a/b/"],
    ["/../..", "/"],
    ["/caf%C3%A9/x", "/café/x"],
    ["/%zz", "/%zz"],
    ["http://foo.com/abs/path?q", "/abs/path"],
    ["", "/"],
  ];
  for (const [target, want] of cases) it(`${JSON.stringify(target)} -> ${want}`, () => assert.equal(normalizePath(target), want));
});
