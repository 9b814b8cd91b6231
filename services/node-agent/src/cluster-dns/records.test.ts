import type { Answer, Question } from "dns-packet";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolve, TTL_SECONDS } from "./records.js";
import { endpoints, service, viewOf } from "./testing.js";

const view = viewOf(
  [
    service("default", "web", { clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80 }, { name: "dns", port: 53, protocol: "UDP" }] }),
    service("default", "db", { clusterIP: "None", ports: [{ name: "pg", port: 5432 }] }),
    service("default", "empty", { clusterIP: "None" }),
    service("default", "pending", { clusterIP: "" }),
    service("default", "outside", { type: "ExternalName", externalName: "db.example.com." }),
    service("shop", "web", { clusterIP: "10.96.7.7", ports: [{ port: 8080 }] }),
    service("dual", "web", { clusterIP: "10.96.0.20", clusterIPs: ["10.96.0.20", "fd00::20"] }),
  ],
  [
    endpoints("default", "db", [
      { ready: [{ ip: "172.25.0.5", hostname: "db-0" }, "172.25.0.6"], notReady: ["172.25.0.7"], ports: [{ name: "pg", port: 15432 }] },
      // The same pod in a second subset (other ports) is one address.
      { ready: ["172.25.0.6"], ports: [{ name: "metrics", port: 9187 }] },
    ]),
    endpoints("default", "empty", [{ notReady: ["172.25.0.9"], ports: [{ port: 80 }] }]),
    endpoints("default", "web", [{ ready: ["172.25.0.2", "172.25.0.3"], ports: [{ name: "http", port: 8080 }] }]),
  ],
);

/** An answer in a line: "A 10.96.0.10", "SRV 0 100 80 web.default.svc.cluster.local". */
function line(a: Answer): string {
  const data = (a as { data?: unknown }).data;
  if (a.type === "SRV") {
    const d = data as { priority: number; weight: number; port: number; target: string };
    return `SRV ${d.priority} ${d.weight} ${d.port} ${d.target}`;
  }
  if (a.type === "SOA") return `SOA ${(data as { mname: string }).mname}`;
  return `${a.type} ${String(data)}`;
}

interface Case {
  name: string;
  q: string;
  type?: Question["type"];
  rcode: "NOERROR" | "NXDOMAIN";
  answers?: string[];
  additionals?: string[];
}

const cases: Case[] = [
  { name: "a service's A record is its ClusterIP", q: "web.default.svc.cluster.local", rcode: "NOERROR", answers: ["A 10.96.0.10"] },
  { name: "the same name in another namespace is another service", q: "web.shop.svc.cluster.local", rcode: "NOERROR", answers: ["A 10.96.7.7"] },
  { name: "names are case-insensitive, and a trailing dot is the same name", q: "Web.DEFAULT.svc.Cluster.Local.", rcode: "NOERROR", answers: ["A 10.96.0.10"] },
  { name: "AAAA of an IPv4-only service: the name exists, no records", q: "web.default.svc.cluster.local", type: "AAAA", rcode: "NOERROR", answers: [] },
  { name: "AAAA of a dual-stack service", q: "web.dual.svc.cluster.local", type: "AAAA", rcode: "NOERROR", answers: ["AAAA fd00::20"] },
  { name: "A of a dual-stack service", q: "web.dual.svc.cluster.local", rcode: "NOERROR", answers: ["A 10.96.0.20"] },
  { name: "a service without an address yet has no records", q: "pending.default.svc.cluster.local", rcode: "NOERROR", answers: [] },
  { name: "unknown service", q: "nope.default.svc.cluster.local", rcode: "NXDOMAIN" },
  { name: "unknown namespace", q: "web.nope.svc.cluster.local", rcode: "NXDOMAIN" },
  { name: "headless: the ready pod IPs, each once, not-ready ones left out", q: "db.default.svc.cluster.local", rcode: "NOERROR", answers: ["A 172.25.0.5", "A 172.25.0.6"] },
  { name: "headless without ready endpoints: no records", q: "empty.default.svc.cluster.local", rcode: "NOERROR", answers: [] },
  { name: "an endpoint's hostname under its headless service", q: "db-0.db.default.svc.cluster.local", rcode: "NOERROR", answers: ["A 172.25.0.5"] },
  { name: "an endpoint without a hostname by its dashed IP", q: "172-25-0-6.db.default.svc.cluster.local", rcode: "NOERROR", answers: ["A 172.25.0.6"] },
  { name: "a not-ready endpoint has no name", q: "172-25-0-7.db.default.svc.cluster.local", rcode: "NXDOMAIN" },
  { name: "an unknown hostname", q: "db-9.db.default.svc.cluster.local", rcode: "NXDOMAIN" },
  { name: "hostnames only under headless services", q: "172-25-0-2.web.default.svc.cluster.local", rcode: "NXDOMAIN" },
  {
    name: "SRV of a named port: the service name, its A record as additional",
    q: "_http._tcp.web.default.svc.cluster.local",
    type: "SRV",
    rcode: "NOERROR",
    answers: ["SRV 0 100 80 web.default.svc.cluster.local"],
    additionals: ["A 10.96.0.10"],
  },
  { name: "SRV of a UDP port", q: "_dns._udp.web.default.svc.cluster.local", type: "SRV", rcode: "NOERROR", answers: ["SRV 0 100 53 web.default.svc.cluster.local"] },
  { name: "SRV with the wrong protocol", q: "_http._udp.web.default.svc.cluster.local", type: "SRV", rcode: "NXDOMAIN" },
  { name: "SRV of an unknown port", q: "_https._tcp.web.default.svc.cluster.local", type: "SRV", rcode: "NXDOMAIN" },
  { name: "A of an SRV name: exists, no records", q: "_http._tcp.web.default.svc.cluster.local", rcode: "NOERROR", answers: [] },
  {
    name: "SRV of a headless service: one per ready endpoint, on the endpoint's port, by hostname or dashed IP",
    q: "_pg._tcp.db.default.svc.cluster.local",
    type: "SRV",
    rcode: "NOERROR",
    answers: ["SRV 0 100 15432 db-0.db.default.svc.cluster.local", "SRV 0 100 15432 172-25-0-6.db.default.svc.cluster.local"],
    additionals: ["A 172.25.0.5", "A 172.25.0.6"],
  },
  { name: "ExternalName: a CNAME", q: "outside.default.svc.cluster.local", rcode: "NOERROR", answers: ["CNAME db.example.com"] },
  { name: "a namespace with services exists, without records", q: "default.svc.cluster.local", rcode: "NOERROR", answers: [] },
  { name: "svc.DOMAIN exists", q: "svc.cluster.local", rcode: "NOERROR", answers: [] },
  { name: "the zone's SOA", q: "cluster.local", type: "SOA", rcode: "NOERROR", answers: ["SOA ns.dns.cluster.local"] },
  { name: "the zone's NS", q: "cluster.local", type: "NS", rcode: "NOERROR", answers: ["NS ns.dns.cluster.local"] },
  { name: "pod records are not served", q: "172-25-0-2.default.pod.cluster.local", rcode: "NXDOMAIN" },
  { name: "too many labels", q: "a.b.c.web.default.svc.cluster.local", rcode: "NXDOMAIN" },
  // What busybox's nslookup and glibc ask on their way through the search path of a pod in default.
  { name: "search path: SERVICE.NAMESPACE tried under the pod's namespace", q: "web.shop.default.svc.cluster.local", rcode: "NXDOMAIN" },
  { name: "search path: SERVICE.NAMESPACE under svc.DOMAIN", q: "web.shop.svc.cluster.local", rcode: "NOERROR", answers: ["A 10.96.7.7"] },
  { name: "search path: a bare name under DOMAIN", q: "web.cluster.local", rcode: "NXDOMAIN" },
];

describe("cluster DNS records", () => {
  for (const c of cases) {
    test(c.name, () => {
      const r = resolve({ name: c.q, type: c.type ?? "A" }, view, "cluster.local");
      assert.equal(r.outside, false);
      if (r.outside) return;
      assert.equal(r.rcode, c.rcode);
      if (c.answers) assert.deepEqual(r.answers.map(line), c.answers);
      if (c.additionals) assert.deepEqual(r.additionals.map(line), c.additionals);
      for (const a of r.answers) {
        // Answers carry the name as asked (resolvers compare it), with the short TTL.
        if (c.type !== "SOA") assert.equal(a.name, c.q.replace(/\.$/, ""));
        assert.equal((a as { ttl?: number }).ttl, TTL_SECONDS);
      }
      // A miss of either kind names the zone's SOA, for negative caching; an answer does not.
      if (r.answers.length === 0) assert.deepEqual(r.authorities.map(line), ["SOA ns.dns.cluster.local"]);
      else assert.deepEqual(r.authorities, []);
    });
  }

  test("names outside the cluster domain are not ours", () => {
    for (const q of ["example.com", "cluster.local.example.com", "notcluster.local", "web.default"]) {
      assert.deepEqual(resolve({ name: q, type: "A" }, view, "cluster.local"), { outside: true }, q);
    }
  });

  test("another cluster domain", () => {
    const r = resolve({ name: "web.default.svc.navarch.test", type: "A" }, view, "navarch.test.");
    assert.equal(r.outside, false);
    if (!r.outside) assert.deepEqual(r.answers.map(line), ["A 10.96.0.10"]);
    assert.deepEqual(resolve({ name: "web.default.svc.cluster.local", type: "A" }, view, "navarch.test"), { outside: true });
  });

  test("a service appears and goes as the view changes", () => {
    const before = resolve({ name: "api.default.svc.cluster.local", type: "A" }, viewOf([]), "cluster.local");
    assert.equal(!before.outside && before.rcode, "NXDOMAIN");
    const after = resolve({ name: "api.default.svc.cluster.local", type: "A" }, viewOf([service("default", "api", { clusterIP: "10.96.1.1" })]), "cluster.local");
    assert.deepEqual(!after.outside && after.answers.map(line), ["A 10.96.1.1"]);
  });
});
