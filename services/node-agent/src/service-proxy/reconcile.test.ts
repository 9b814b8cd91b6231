import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { reconcile, removalScript, tableName, type ProxyNode } from "./reconcile.js";
import { endpoints, lookup, service } from "./testing.js";

const node: ProxyNode = { name: "node-1", podBridge: "br-0123456789ab", address: "127.0.0.1" };

/** The lines of the script that contain every given fragment. */
function linesWith(script: string, ...fragments: string[]): string[] {
  return script.split("\n").filter((l) => fragments.every((f) => l.includes(f)));
}

/** The body lines of one block (chain, map or set) of the script. */
function block(script: string, header: string): string[] {
  const lines = script.split("\n");
  const start = lines.findIndex((l) => l.trim() === `${header} {`);
  assert.notEqual(start, -1, `no block "${header}" in:\n${script}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === "}");
  return lines.slice(start + 1, end).map((l) => l.trim());
}

const web = service("default", "web", { clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80, targetPort: "8080" }] });
const webEndpoints = endpoints("default", "web", [{ ready: ["172.25.0.4", "172.25.0.2", "172.25.0.3"], ports: [{ name: "http", port: 8080 }] }]);

describe("service proxy reconcile", () => {
  test("ClusterIP: the address maps to a chain that picks one of the ready endpoints at random", () => {
    const plan = reconcile([web], lookup([webEndpoints]), node);
    assert.deepEqual(plan.skipped, []);
    assert.deepEqual(block(plan.script, "map service-ips").slice(1), ["elements = { 10.96.0.10 . tcp . 80 : goto svc_default_web_http_tcp }"]);
    assert.deepEqual(block(plan.script, "chain svc_default_web_http_tcp"), [
      "meta l4proto tcp dnat ip to numgen random mod 3 map { 0 : 172.25.0.2 . 8080, 1 : 172.25.0.3 . 8080, 2 : 172.25.0.4 . 8080 }",
    ]);
    assert.deepEqual(block(plan.script, "map node-ports"), ["type inet_proto . inet_service : verdict"], "a ClusterIP service has no node port");
    assert.deepEqual(plan.rules.map((r) => r.id), ["default/web:http"]);
  });

  test("the table is replaced as a whole in one script, and pod traffic is matched on this cluster's bridge only", () => {
    const plan = reconcile([web], lookup([webEndpoints]), node);
    const lines = plan.script.split("\n");
    assert.deepEqual(lines.slice(0, 3), ["table ip navarch-node-1", "delete table ip navarch-node-1", "table ip navarch-node-1 {"]);
    assert.deepEqual(block(plan.script, "chain nat-prerouting"), [
      "type nat hook prerouting priority dstnat; policy accept;",
      'iifname "br-0123456789ab" ip daddr . meta l4proto . th dport vmap @service-ips',
    ]);
    assert.deepEqual(block(plan.script, "chain nat-output").slice(1), [
      "ip daddr . meta l4proto . th dport vmap @service-ips",
      "ip daddr { 127.0.0.1 } meta l4proto . th dport vmap @node-ports",
    ]);
    assert.deepEqual(block(plan.script, "set hairpin").slice(1), ["elements = { 172.25.0.2 . 172.25.0.2,", "172.25.0.3 . 172.25.0.3,", "172.25.0.4 . 172.25.0.4 }"]);
    assert.deepEqual(block(plan.script, "chain nat-postrouting").slice(1), [
      'oifname "br-0123456789ab" ct status dnat ip saddr . ip daddr @hairpin masquerade',
      'oifname "br-0123456789ab" ip saddr 127.0.0.0/8 masquerade',
    ]);
  });

  test("a single endpoint is a plain dnat", () => {
    const one = endpoints("default", "web", [{ ready: ["172.25.0.9"], ports: [{ name: "http", port: 8080 }] }]);
    const plan = reconcile([web], lookup([one]), node);
    assert.deepEqual(block(plan.script, "chain svc_default_web_http_tcp"), ["meta l4proto tcp dnat ip to 172.25.0.9:8080"]);
  });

  test("NodePort: the node port maps to the same chain, on 127.0.0.1 and on a non-loopback node address from anywhere", () => {
    const svc = service("shop", "front", { clusterIP: "10.96.3.4", type: "NodePort", ports: [{ port: 80, targetPort: "8080", nodePort: 30080 }] });
    const eps = endpoints("shop", "front", [{ ready: ["172.25.0.7"], ports: [{ port: 8080 }] }]);
    const loopback = reconcile([svc], lookup([eps]), node);
    assert.deepEqual(block(loopback.script, "map node-ports").slice(1), ["elements = { tcp . 30080 : goto svc_shop_front_80_tcp }"]);
    assert.deepEqual(linesWith(loopback.script, "@node-ports"), ["\t\tip daddr { 127.0.0.1 } meta l4proto . th dport vmap @node-ports"], "loopback: the output hook only");
    assert.equal(linesWith(loopback.script, "filter-input").length, 0);

    const addressed = reconcile([svc], lookup([eps]), { ...node, address: "10.0.0.5" });
    assert.deepEqual(linesWith(addressed.script, "@node-ports"), [
      "\t\tip daddr { 10.0.0.5 } meta l4proto . th dport vmap @node-ports",
      "\t\tip daddr { 127.0.0.1, 10.0.0.5 } meta l4proto . th dport vmap @node-ports",
    ]);
    assert.match(addressed.script, /chain filter-input \{/);
  });

  test("LoadBalancer ports get node ports too; a ClusterIP service's nodePort is ignored", () => {
    const lb = service("default", "lb", { clusterIP: "10.96.0.20", type: "LoadBalancer", ports: [{ port: 443, nodePort: 31443 }] });
    const cip = service("default", "cip", { clusterIP: "10.96.0.21", ports: [{ port: 443, nodePort: 31444 }] });
    const eps = [lb, cip].map((s) => endpoints("default", s.metadata!.name, [{ ready: ["172.25.0.2"], ports: [{ port: 443 }] }]));
    const plan = reconcile([lb, cip], lookup(eps), node);
    assert.deepEqual(block(plan.script, "map node-ports").slice(1), ["elements = { tcp . 31443 : goto svc_default_lb_443_tcp }"]);
  });

  test("sessionAffinity ClientIP: the client address is hashed into 256 slots dealt over the endpoints", () => {
    const sticky = service("default", "web", { clusterIP: "10.96.0.10", sessionAffinity: "ClientIP", ports: [{ name: "http", port: 80 }] });
    const plan = reconcile([sticky], lookup([webEndpoints]), node);
    const [rule] = block(plan.script, "chain svc_default_web_http_tcp");
    assert.match(rule!, /^meta l4proto tcp dnat ip to jhash ip saddr mod 256 seed 0x6e617661 map \{ 0 : 172\.25\.0\.\d . 8080, /);
    const targets = [...rule!.matchAll(/(\d+) : (172\.25\.0\.\d) \. 8080/g)];
    assert.deepEqual(targets.map((m) => Number(m[1])), Array.from({ length: 256 }, (_, i) => i), "every slot once, in order");
    const perEndpoint = new Map<string, number>();
    for (const m of targets) perEndpoint.set(m[2]!, (perEndpoint.get(m[2]!) ?? 0) + 1);
    assert.deepEqual([...perEndpoint.keys()].sort(), ["172.25.0.2", "172.25.0.3", "172.25.0.4"]);
    for (const [ip, n] of perEndpoint) assert.ok(n > 256 / 3 / 2, `${ip} has ${n} of 256 slots`);
  });

  test("no ready endpoint: the service's address and node port are refused, and no chain is made", () => {
    const svc = service("default", "web", { clusterIP: "10.96.0.10", type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30001 }] });
    const cases = [
      { why: "no Endpoints object", list: [] },
      { why: "only not-ready addresses", list: [endpoints("default", "web", [{ notReady: ["172.25.0.2"], ports: [{ name: "http", port: 8080 }] }])] },
      { why: "no subset with this port name", list: [endpoints("default", "web", [{ ready: ["172.25.0.2"], ports: [{ name: "metrics", port: 9090 }] }])] },
      { why: "the port has another protocol", list: [endpoints("default", "web", [{ ready: ["172.25.0.2"], ports: [{ name: "http", port: 8080, protocol: "UDP" }] }])] },
    ];
    for (const { why, list } of cases) {
      const plan = reconcile([svc], lookup(list), node);
      assert.deepEqual(block(plan.script, "set no-endpoint-ips").slice(1), ["elements = { 10.96.0.10 . tcp . 80 }"], why);
      assert.deepEqual(block(plan.script, "set no-endpoint-node-ports").slice(1), ["elements = { tcp . 30001 }"], why);
      assert.deepEqual(block(plan.script, "map service-ips").slice(1), [], why);
      assert.equal(linesWith(plan.script, "chain svc_").length, 0, why);
    }
    const plan = reconcile([svc], lookup([]), node);
    assert.deepEqual(block(plan.script, "chain no-endpoints"), ["meta l4proto tcp reject with tcp reset", "reject"]);
    assert.deepEqual(linesWith(plan.script, "@no-endpoint-ips"), [
      '\t\tiifname "br-0123456789ab" ct state new ip daddr . meta l4proto . th dport @no-endpoint-ips goto no-endpoints',
      "\t\tct state new ip daddr . meta l4proto . th dport @no-endpoint-ips goto no-endpoints",
    ]);
  });

  test("headless, ExternalName and not yet allocated services get no rules at all", () => {
    const services = [
      service("default", "peers", { clusterIP: "None", ports: [{ port: 80 }] }),
      service("default", "pending", { clusterIP: "", ports: [{ port: 80 }] }),
      service("default", "alias", { clusterIP: "", type: "ExternalName", ports: [] }),
    ];
    const eps = services.map((s) => endpoints("default", s.metadata!.name, [{ ready: ["172.25.0.2"], ports: [{ port: 80 }] }]));
    const plan = reconcile(services, lookup(eps), node);
    assert.deepEqual(plan.rules, []);
    assert.deepEqual(plan.skipped, []);
    assert.equal(linesWith(plan.script, "elements").length, 0);
  });

  test("several ports: each goes to the endpoints' port of its name, named target ports resolved per pod", () => {
    const svc = service("default", "app", {
      clusterIP: "10.96.1.1",
      ports: [
        { name: "http", port: 80, targetPort: "web" },
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "metrics", port: 9090 },
      ],
    });
    // Two pods whose container port named "web" has different numbers: two subsets.
    const eps = endpoints("default", "app", [
      { ready: ["172.25.0.2"], ports: [{ name: "http", port: 8080 }, { name: "dns", port: 5353, protocol: "UDP" }, { name: "metrics", port: 9090 }] },
      { ready: ["172.25.0.3"], ports: [{ name: "http", port: 8081 }, { name: "dns", port: 5353, protocol: "UDP" }, { name: "metrics", port: 9090 }] },
    ]);
    const plan = reconcile([svc], lookup([eps]), node);
    assert.deepEqual(block(plan.script, "map service-ips").slice(1), [
      "elements = { 10.96.1.1 . tcp . 80 : goto svc_default_app_http_tcp,",
      "10.96.1.1 . udp . 53 : goto svc_default_app_dns_udp,",
      "10.96.1.1 . tcp . 9090 : goto svc_default_app_metrics_tcp }",
    ]);
    assert.deepEqual(block(plan.script, "chain svc_default_app_http_tcp"), [
      "meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 172.25.0.2 . 8080, 1 : 172.25.0.3 . 8081 }",
    ]);
    assert.deepEqual(block(plan.script, "chain svc_default_app_dns_udp"), [
      "meta l4proto udp dnat ip to numgen random mod 2 map { 0 : 172.25.0.2 . 5353, 1 : 172.25.0.3 . 5353 }",
    ]);
  });

  test("an address listed twice (two subsets, or ready and repeated) is one endpoint", () => {
    const eps = endpoints("default", "web", [
      { ready: ["172.25.0.2", "172.25.0.2"], ports: [{ name: "http", port: 8080 }] },
      { ready: ["172.25.0.2"], notReady: ["172.25.0.3"], ports: [{ name: "http", port: 8080 }] },
    ]);
    const plan = reconcile([web], lookup([eps]), node);
    assert.deepEqual(plan.rules[0]!.backends, [{ ip: "172.25.0.2", port: 8080 }]);
  });

  test("the same state gives the same text whatever the order of services and addresses", () => {
    const other = service("apps", "api", { clusterIP: "10.96.0.11", ports: [{ port: 8080 }] });
    const otherEps = endpoints("apps", "api", [{ ready: ["172.25.0.9"], ports: [{ port: 8080 }] }]);
    const shuffled = endpoints("default", "web", [{ ready: ["172.25.0.3", "172.25.0.4", "172.25.0.2"], ports: [{ name: "http", port: 8080 }] }]);
    const a = reconcile([web, other], lookup([webEndpoints, otherEps]), node).script;
    const b = reconcile([other, web], lookup([otherEps, shuffled]), node).script;
    assert.equal(a, b);
  });

  test("data nft would refuse is left out and reported, so the other services keep working", () => {
    const bad = [
      service("default", "badip", { clusterIP: "10.96.0.300", ports: [{ port: 80 }] }),
      service("default", "zdup", { clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80 }] }),
      service("default", "np", { clusterIP: "10.96.0.12", type: "NodePort", ports: [{ port: 80, nodePort: 30001 }] }),
      service("default", "np2", { clusterIP: "10.96.0.13", type: "NodePort", ports: [{ port: 80, nodePort: 30001 }] }),
      service("default", "icmp", { clusterIP: "10.96.0.14", ports: [{ port: 80, protocol: "ICMP" }] }),
    ];
    const weird = endpoints("default", "np", [{ ready: ["172.25.0.2", "not-an-ip"], ports: [{ port: 80 }] }]);
    const plan = reconcile([web, ...bad], lookup([webEndpoints, weird]), node);
    assert.deepEqual(plan.skipped, [
      'default/badip: clusterIP "10.96.0.300" is not an IPv4 address',
      "default/icmp:80: unsupported port 80/ICMP",
      'default/np:80: endpoint address "not-an-ip" is not an IPv4 address',
      "default/np2:80: nodePort 30001/tcp is already default/np:80",
      "default/zdup:http: 10.96.0.10:80/tcp is already default/web:http",
    ]);
    assert.deepEqual(plan.rules.map((r) => `${r.id} ${r.nodePort ?? "-"}`), ["default/np:80 30001", "default/np2:80 -", "default/web:http -"]);
  });

  test("table names: navarch-<node>, dots of node names as underscores; removal is idempotent", () => {
    assert.equal(tableName("node-1"), "navarch-node-1");
    assert.equal(tableName("worker.example.com"), "navarch-worker_example_com");
    assert.equal(removalScript("svc-1"), "table ip navarch-svc-1\ndelete table ip navarch-svc-1\n");
  });
});
