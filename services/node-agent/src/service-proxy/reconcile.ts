// The service proxy's plan, pure: Services + Endpoints + this node -> one nftables table (as nft
// script text, see ruleset.ts) that DNATs traffic for each service port to its ready endpoints.
//
// What gets rules, as kube-proxy decides it:
//   - a Service with an IPv4 spec.clusterIP: one rule set per port. Headless services (clusterIP
//     "None"), ExternalName services and services still waiting for an address get none.
//   - type NodePort / LoadBalancer ports with spec.ports[].nodePort: also on the node's addresses.
//   - endpoints: the READY addresses (subsets[].addresses, never notReadyAddresses) with the port
//     of the same name and protocol in that subset. Endpoints already hold numbers: a named
//     targetPort was resolved per pod by the endpoints controller, so one service port may reach
//     different pods on different port numbers.
//   - no ready endpoint: connections are refused (TCP reset / ICMP port unreachable), not dropped.
//
// Anything that would not be valid nft text (a malformed IP, a name outside DNS rules) is left out
// and counted, because nft refuses a whole script for one bad line and every service would stop.
import type { Endpoints, Service } from "@navarch/api";
import { nodeToken } from "@navarch/store";
import { renderRuleset } from "./ruleset.js";

export type L4 = "tcp" | "udp" | "sctp";

export interface Backend {
  ip: string;
  port: number;
}

/** One port of one service, as the data path needs it. */
export interface ServicePortRule {
  /** "namespace/name:port" for logs and messages. */
  id: string;
  /** The nft chain holding this port's DNAT: svc_<ns>_<name>_<port name or number>_<l4>. */
  chain: string;
  clusterIP: string;
  protocol: L4;
  port: number;
  nodePort?: number | undefined;
  /** sessionAffinity ClientIP: a client address always lands on the same endpoint. */
  affinity: boolean;
  /** Ready endpoints, sorted, no duplicates. */
  backends: Backend[];
}

export interface ProxyNode {
  /** The node's name; the table is named after it. */
  name: string;
  /** The pod bridge on the host (rules for pod-originated traffic match it as input interface). */
  podBridge: string;
  /** The node's configured address (NodePorts listen there and on 127.0.0.1). */
  address: string;
}

export interface ProxyPlan {
  table: string;
  /** The whole nft script: delete and re-add of the table, applied as one transaction. */
  script: string;
  rules: ServicePortRule[];
  /** What was left out and why (bad data, a clusterIP:port or nodePort used twice). */
  skipped: string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const L4_OF: Record<string, L4> = { TCP: "tcp", UDP: "udp", SCTP: "sctp", "": "tcp" };

/** The nft table of a node: navarch-<node token> (letters, digits, "-", "_": valid nft names). */
export function tableName(node: string): string {
  return `navarch-${nodeToken(node).replace(/[^a-zA-Z0-9_-]/g, "-")}`;
}

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** An nft script that removes the node's table if it exists (and does nothing otherwise). */
export function removalScript(node: string): string {
  const table = tableName(node);
  return `table ip ${table}\ndelete table ip ${table}\n`;
}

export function reconcile(services: Iterable<Service>, endpointsOf: (namespace: string, name: string) => Endpoints | undefined, node: ProxyNode): ProxyPlan {
  const skipped: string[] = [];
  const rules: ServicePortRule[] = [];
  const usedFrontends = new Map<string, string>();
  const usedNodePorts = new Map<string, string>();
  // Sorted, so the same state always gives the same text (and an unchanged state applies nothing).
  const sorted = [...services].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  for (const svc of sorted) {
    for (const rule of servicePortRules(svc, endpointsOf, skipped)) {
      const frontend = `${rule.clusterIP}:${rule.port}/${rule.protocol}`;
      const owner = usedFrontends.get(frontend);
      if (owner) {
        skipped.push(`${rule.id}: ${frontend} is already ${owner}`);
        continue;
      }
      usedFrontends.set(frontend, rule.id);
      if (rule.nodePort !== undefined) {
        const np = `${rule.nodePort}/${rule.protocol}`;
        const npOwner = usedNodePorts.get(np);
        if (npOwner) {
          skipped.push(`${rule.id}: nodePort ${np} is already ${npOwner}`);
          rule.nodePort = undefined;
        } else {
          usedNodePorts.set(np, rule.id);
        }
      }
      rules.push(rule);
    }
  }
  const table = tableName(node.name);
  if (!/^[A-Za-z0-9_.-]+$/.test(node.podBridge)) throw new Error(`pod bridge "${node.podBridge}" is not a network device name`);
  const addresses = ["127.0.0.1"];
  if (isIPv4(node.address) && node.address !== "127.0.0.1") addresses.push(node.address);
  const script = renderRuleset({ table, podBridge: node.podBridge, nodeAddresses: addresses, rules });
  return { table, script, rules, skipped };
}

function keyOf(svc: Service): string {
  return `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
}

function servicePortRules(svc: Service, endpointsOf: (namespace: string, name: string) => Endpoints | undefined, skipped: string[]): ServicePortRule[] {
  const spec = svc.spec;
  const namespace = svc.metadata?.namespace ?? "";
  const name = svc.metadata?.name ?? "";
  if (!spec || spec.type === "ExternalName") return [];
  // Headless ("None") or not allocated yet (""): nothing to proxy.
  if (spec.clusterIP === "None" || spec.clusterIP === "") return [];
  if (!DNS_LABEL.test(namespace) || !DNS_LABEL.test(name)) {
    skipped.push(`${namespace}/${name}: not a valid namespace/name`);
    return [];
  }
  if (!isIPv4(spec.clusterIP)) {
    skipped.push(`${namespace}/${name}: clusterIP "${spec.clusterIP}" is not an IPv4 address`);
    return [];
  }
  const withNodePorts = spec.type === "NodePort" || spec.type === "LoadBalancer";
  const endpoints = endpointsOf(namespace, name);
  const out: ServicePortRule[] = [];
  for (const sp of spec.ports) {
    const portName = sp.name || String(sp.port);
    const id = `${namespace}/${name}:${portName}`;
    const protocol = L4_OF[sp.protocol];
    if (!protocol || !validPort(sp.port) || (sp.name !== "" && !DNS_LABEL.test(sp.name))) {
      skipped.push(`${id}: unsupported port ${sp.port}/${sp.protocol}`);
      continue;
    }
    const nodePort = withNodePorts && sp.nodePort !== undefined && validPort(sp.nodePort) ? sp.nodePort : undefined;
    out.push({
      id,
      chain: `svc_${namespace}_${name}_${portName}_${protocol}`,
      clusterIP: spec.clusterIP,
      protocol,
      port: sp.port,
      nodePort,
      affinity: spec.sessionAffinity === "ClientIP",
      backends: readyBackends(endpoints, sp.name, protocol, id, skipped),
    });
  }
  return out;
}

/** The ready addresses with the subset's port of this name and protocol; sorted, deduplicated. */
function readyBackends(endpoints: Endpoints | undefined, portName: string, protocol: L4, id: string, skipped: string[]): Backend[] {
  const seen = new Map<string, Backend>();
  for (const subset of endpoints?.subsets ?? []) {
    const port = subset.ports.find((p) => p.name === portName && L4_OF[p.protocol] === protocol);
    if (!port) continue;
    if (!validPort(port.port)) {
      skipped.push(`${id}: endpoint port ${port.port} is not a port`);
      continue;
    }
    for (const addr of subset.addresses) {
      if (!isIPv4(addr.ip)) {
        skipped.push(`${id}: endpoint address "${addr.ip}" is not an IPv4 address`);
        continue;
      }
      seen.set(`${addr.ip}:${port.port}`, { ip: addr.ip, port: port.port });
    }
  }
  return [...seen.values()].sort((a, b) => ipNumber(a.ip) - ipNumber(b.ip) || a.port - b.port);
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

export function ipNumber(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}
