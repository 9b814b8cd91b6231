// A pod's resolv.conf, as the kubelet writes it: pods of dnsPolicy ClusterFirst (the default) ask
// the cluster DNS first, with the search path that makes `web` and `web.other` resolve from a pod
// of namespace `default`, and ndots:5 so that such short names try the search path before being
// sent as they are. Pure.
//
// On Docker the pod's sandbox gets these as --dns/--dns-search/--dns-opt; on a user-defined
// network Docker writes `nameserver 127.0.0.11` (its embedded DNS, which forwards what it does
// not know to our server, from the pod's own network namespace) and the search and options lines
// as given.
import type { Pod } from "@navarch/api";
import type { SandboxSpec } from "@navarch/runtime";

export type PodDns = NonNullable<SandboxSpec["dns"]>;

export interface ClusterDnsSettings {
  /** Where pods reach this node's DNS server. */
  server: string;
  /** The cluster domain, e.g. cluster.local. */
  domain: string;
}

/**
 * The DNS settings of the pod's sandbox; undefined keeps the runtime's default (the node's own
 * resolvers): dnsPolicy Default, ClusterFirst on the host network (as in Kubernetes), and None
 * (which in Kubernetes takes everything from spec.dnsConfig, a field Navarch's PodSpec lacks).
 */
export function podDns(pod: Pod, dns: ClusterDnsSettings): PodDns | undefined {
  const policy = pod.spec?.dnsPolicy || "ClusterFirst";
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (policy !== "ClusterFirstWithHostNet" && !(policy === "ClusterFirst" && !hostNetwork)) return undefined;
  const domain = dns.domain.replace(/\.$/, "");
  const namespace = pod.metadata?.namespace || "default";
  return { servers: [dns.server], searches: [`${namespace}.svc.${domain}`, `svc.${domain}`, domain], options: ["ndots:5"] };
}
