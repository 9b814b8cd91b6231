// The nft text of a node's table, from the planned service ports (reconcile.ts). Pure.
//
//   table ip navarch-<node>                    applied as "add table; delete table; table {...}"
//     map service-ips      clusterIP . l4 . port : goto svc_...     one lookup per new connection
//     map node-ports       l4 . nodePort        : goto svc_...
//     set no-endpoint-ips / no-endpoint-node-ports                  refused, not dropped
//     set hairpin          endpoint . endpoint                      a pod reaching itself
//     chain nat-prerouting (dstnat)   pod traffic: only what enters from this cluster's pod bridge;
//                                     NodePorts on a non-loopback node address from anywhere
//     chain nat-output     (dstnat)   the host's own traffic: clusterIPs, and NodePorts on
//                                     127.0.0.1 and the node address
//     chain nat-postrouting (srcnat)  masquerade hairpin traffic, and 127.0.0.0/8 sources that
//                                     NodePorts on loopback send into the pod bridge
//     chain filter-*       reject new connections to ports without ready endpoints: the pods' in
//                          prerouting (-150, before routing), the host's in output/input (filter - 5)
//     chain svc_<ns>_<name>_<port>_<l4>  dnat to numgen random mod N map { i : ip . port }
//                                        (ClientIP affinity: jhash ip saddr, see affinity.ts)
//
// NAT rules run for the first packet of a connection only; conntrack carries the rest, so the
// per-packet cost of a service is the same as a direct connection once it is established.
import { AFFINITY_SEED, dealSlots } from "./affinity.js";
import type { ServicePortRule } from "./reconcile.js";

export interface RulesetInput {
  table: string;
  podBridge: string;
  /** 127.0.0.1 first, then the node's address when it is another one. */
  nodeAddresses: string[];
  rules: ServicePortRule[];
}

/** Before Docker's filter chains (priority filter, policy drop on forward). */
const FILTER_PRIORITY = -5;

export function renderRuleset({ table, podBridge, nodeAddresses, rules }: RulesetInput): string {
  const served = rules.filter((r) => r.backends.length > 0);
  const unserved = rules.filter((r) => r.backends.length === 0);
  const bridge = JSON.stringify(podBridge);
  const allAddresses = `{ ${nodeAddresses.join(", ")} }`;
  const external = nodeAddresses.filter((a) => !a.startsWith("127."));
  const externalSet = `{ ${external.join(", ")} }`;
  const hairpin = [...new Set(served.flatMap((r) => r.backends.map((b) => b.ip)))].map((ip) => `${ip} . ${ip}`);

  const out: string[] = [];
  const line = (depth: number, text: string) => out.push(`${"\t".repeat(depth)}${text}`);
  const elements = (items: string[]) => {
    if (items.length) line(2, `elements = { ${items.join(",\n\t\t\t     ")} }`);
  };

  // "table" first: delete must find a table to delete, also on the very first sync.
  line(0, `table ip ${table}`);
  line(0, `delete table ip ${table}`);
  line(0, `table ip ${table} {`);

  line(1, "map service-ips {");
  line(2, "type ipv4_addr . inet_proto . inet_service : verdict");
  elements(served.map((r) => `${r.clusterIP} . ${r.protocol} . ${r.port} : goto ${r.chain}`));
  line(1, "}");
  line(1, "map node-ports {");
  line(2, "type inet_proto . inet_service : verdict");
  elements(served.filter((r) => r.nodePort !== undefined).map((r) => `${r.protocol} . ${r.nodePort} : goto ${r.chain}`));
  line(1, "}");
  line(1, "set no-endpoint-ips {");
  line(2, "type ipv4_addr . inet_proto . inet_service");
  elements(unserved.map((r) => `${r.clusterIP} . ${r.protocol} . ${r.port}`));
  line(1, "}");
  line(1, "set no-endpoint-node-ports {");
  line(2, "type inet_proto . inet_service");
  elements(unserved.filter((r) => r.nodePort !== undefined).map((r) => `${r.protocol} . ${r.nodePort}`));
  line(1, "}");
  line(1, "set hairpin {");
  line(2, "type ipv4_addr . ipv4_addr");
  elements(hairpin);
  line(1, "}");

  line(1, "chain nat-prerouting {");
  line(2, "type nat hook prerouting priority dstnat; policy accept;");
  line(2, `iifname ${bridge} ip daddr . meta l4proto . th dport vmap @service-ips`);
  if (external.length) line(2, `ip daddr ${externalSet} meta l4proto . th dport vmap @node-ports`);
  line(1, "}");
  line(1, "chain nat-output {");
  line(2, "type nat hook output priority -100; policy accept;");
  line(2, "ip daddr . meta l4proto . th dport vmap @service-ips");
  line(2, `ip daddr ${allAddresses} meta l4proto . th dport vmap @node-ports`);
  line(1, "}");
  line(1, "chain nat-postrouting {");
  line(2, "type nat hook postrouting priority srcnat; policy accept;");
  line(2, `oifname ${bridge} ct status dnat ip saddr . ip daddr @hairpin masquerade`);
  line(2, `oifname ${bridge} ip saddr 127.0.0.0/8 masquerade`);
  line(1, "}");

  // Pods' connections to a port without endpoints are refused in prerouting, before the routing
  // decision: the service range's guard would otherwise answer "no route" (docs/adr/0016).
  line(1, "chain filter-prerouting {");
  line(2, "type filter hook prerouting priority -150; policy accept;");
  line(2, `iifname ${bridge} ct state new ip daddr . meta l4proto . th dport @no-endpoint-ips goto no-endpoints`);
  line(1, "}");
  line(1, "chain filter-output {");
  line(2, `type filter hook output priority ${FILTER_PRIORITY}; policy accept;`);
  line(2, "ct state new ip daddr . meta l4proto . th dport @no-endpoint-ips goto no-endpoints");
  line(2, `ct state new ip daddr ${allAddresses} meta l4proto . th dport @no-endpoint-node-ports goto no-endpoints`);
  line(1, "}");
  if (external.length) {
    line(1, "chain filter-input {");
    line(2, `type filter hook input priority ${FILTER_PRIORITY}; policy accept;`);
    line(2, `ct state new ip daddr ${externalSet} meta l4proto . th dport @no-endpoint-node-ports goto no-endpoints`);
    line(1, "}");
  }
  line(1, "chain no-endpoints {");
  line(2, "meta l4proto tcp reject with tcp reset");
  line(2, "reject");
  line(1, "}");

  for (const r of served) {
    line(1, `chain ${r.chain} {`);
    line(2, `meta l4proto ${r.protocol} ${dnat(r)}`);
    line(1, "}");
  }
  line(0, "}");
  return out.join("\n") + "\n";
}

function dnat(r: ServicePortRule): string {
  const target = (i: number) => `${r.backends[i]!.ip} . ${r.backends[i]!.port}`;
  if (r.backends.length === 1 && !r.affinity) return `dnat ip to ${r.backends[0]!.ip}:${r.backends[0]!.port}`;
  if (r.affinity) {
    const slots = dealSlots(r.backends);
    const map = slots.map((b, slot) => `${slot} : ${target(b)}`).join(", ");
    return `dnat ip to jhash ip saddr mod ${slots.length} seed 0x${AFFINITY_SEED.toString(16)} map { ${map} }`;
  }
  const map = r.backends.map((_, i) => `${i} : ${target(i)}`).join(", ");
  return `dnat ip to numgen random mod ${r.backends.length} map { ${map} }`;
}
