// The node agent's options, declared once (env var, default, doc). main.ts reads them from the
// environment; the all-in-one passes them to run() directly.
import { asBool, asInt, asString, option } from "@navarch/config";
import { dynamicRangeOf, parseCidr } from "@navarch/runtime";
import { hostname } from "node:os";

/** A non-negative number ("0.5" is allowed: tests run heartbeats faster than a second). */
export function asNumber(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a non-negative number, got "${raw}"`);
  return n;
}

/** A non-negative number of seconds, or -1 for "derive it from the lease duration". */
export function asFenceSeconds(raw: string): number {
  return raw.trim() === "-1" ? -1 : asNumber(raw);
}

/** "none", or a CIDR large enough for node pod CIDRs (checked here, so a typo fails the start, naming the variable). */
export function asPodSubnet(raw: string): string {
  const v = raw.trim();
  if (v === "none") return v;
  dynamicRangeOf(v);
  return v;
}

/** An IPv4 network in CIDR form (10.96.0.0/16): checked here, so a typo fails the start, naming the variable. */
export function asIPv4Cidr(raw: string): string {
  const v = raw.trim();
  parseCidr(v);
  return v;
}

/** Node names are DNS subdomains: lower case. */
export function defaultNodeName(): string {
  return hostname().toLowerCase();
}

export const NODE_AGENT_OPTIONS = {
  nodeName: option("NAVARCH_NODE_NAME", defaultNodeName(), asString, "this node's name (the host name, lower case, when unset)"),
  nodeLabels: option("NAVARCH_NODE_LABELS", "", asString, 'extra node labels, "k=v,k2=v2"'),
  nodeTaints: option("NAVARCH_NODE_TAINTS", "", asString, 'taints set when the node registers, "key=value:NoSchedule,key2:NoExecute"'),
  nodeAddress: option("NAVARCH_NODE_ADDRESS", "127.0.0.1", asString, "the node's InternalIP (pods' hostIP; hostPorts are published on 127.0.0.1)"),
  nodeCpu: option("NAVARCH_NODE_CPU", "", asString, "CPU capacity as a quantity; empty: the runtime's CPU count"),
  nodeMemory: option("NAVARCH_NODE_MEMORY", "", asString, "memory capacity as a quantity; empty: the runtime's memory"),
  nodePods: option("NAVARCH_NODE_PODS", "110", asString, "how many pods this node takes"),
  reservedCpu: option("NAVARCH_NODE_RESERVED_CPU", "0", asString, "CPU kept back from pods (allocatable = capacity - reserved)"),
  reservedMemory: option("NAVARCH_NODE_RESERVED_MEMORY", "0", asString, "memory kept back from pods"),
  // Node failure timings (docs/adr/0006-fencing-and-eviction.md): heartbeat < fence < lease duration.
  heartbeatSeconds: option("NAVARCH_NODE_HEARTBEAT_SECONDS", 1, asNumber, "how often the node's Lease is renewed"),
  leaseDurationSeconds: option(
    "NAVARCH_NODE_LEASE_DURATION_SECONDS",
    4,
    asNumber,
    "leaseDurationSeconds written into the node's Lease: the control plane counts the node lost after max(this, NAVARCH_NODE_MONITOR_GRACE_SECONDS) without a renewal",
  ),
  fenceSeconds: option(
    "NAVARCH_NODE_FENCE_SECONDS",
    -1,
    asFenceSeconds,
    "stop this node's pods when its Lease could not be renewed for this long; 0: never; default (-1): 3/4 of the lease duration (3 s); must be longer than the heartbeat and shorter than the lease duration",
  ),
  nodeStatusSeconds: option("NAVARCH_NODE_STATUS_SECONDS", 60, asNumber, "how often the Node object's registration (capacity, labels) is checked"),
  resyncSeconds: option("NAVARCH_RESYNC_SECONDS", 10, asNumber, "how often the runtime's container list is compared with what the pods expect"),
  restartBackoffBaseMs: option("NAVARCH_RESTART_BACKOFF_BASE_MS", 10_000, asInt, "wait before the second restart of a crashing container; doubles per crash"),
  restartBackoffMaxMs: option("NAVARCH_RESTART_BACKOFF_MAX_MS", 300_000, asInt, "longest wait between restarts of a crashing container"),
  restartBackoffResetMs: option("NAVARCH_RESTART_BACKOFF_RESET_MS", 600_000, asInt, "a container that ran this long forgets its crash backoff"),
  imagePullBackoffBaseMs: option("NAVARCH_IMAGE_PULL_BACKOFF_BASE_MS", 10_000, asInt, "wait after a failed image pull; doubles per failure"),
  imagePullBackoffMaxMs: option("NAVARCH_IMAGE_PULL_BACKOFF_MAX_MS", 300_000, asInt, "longest wait between image pulls"),
  statusCoalesceMs: option("NAVARCH_STATUS_COALESCE_MS", 20, asInt, "a pod's status changes within this window are written as one report"),
  dockerSocket: option("NAVARCH_DOCKER_SOCKET", "/var/run/docker.sock", asString, "the Docker engine's socket"),
  podNetwork: option("NAVARCH_POD_NETWORK", "navarch", asString, "the Docker bridge network of this node's pods (created when missing)"),
  podSubnet: option(
    "NAVARCH_POD_SUBNET",
    "10.244.0.0/16",
    asPodSubnet,
    'IPv4 subnet (/20 or larger) the pod network gets when this agent creates it: Docker allocates from its first sixteenth (pod sandboxes), each node claims a /24 of the rest as its pod CIDR and gives single-container pods fixed IPs from it (no sandbox). An existing network keeps its own settings; one without a configured subnet (made by an older version or by hand), or a subnet Docker refuses (overlap), means every pod gets a sandbox; "none": the network is made without a subnet (every pod gets a sandbox)',
  ),

  serviceProxy: option("NAVARCH_SERVICE_PROXY", true, asBool, "program Services into the host's netfilter (one nftables table per node, through a helper container of the runtime); off for hollow nodes"),
  serviceClusterIPRange: option(
    "NAVARCH_SERVICE_CLUSTER_IP_RANGE",
    "10.96.0.0/16",
    asIPv4Cidr,
    "the Service cluster IP range (as the API gateway's): the service proxy keeps all of it on this host - a packet for it that no Service rule catches is refused here, never routed out (docs/adr/0016)",
  ),
  serviceProxyResyncSeconds: option("NAVARCH_SERVICE_PROXY_RESYNC_SECONDS", 30, asNumber, "an idle service proxy re-applies its table this often (in case something removed it)"),
  clusterDns: option("NAVARCH_CLUSTER_DNS", true, asBool, "serve cluster DNS to this node's pods (Service names, from a DNS server in the agent, port 53); off or impossible on hollow nodes"),
  clusterDomain: option("NAVARCH_CLUSTER_DOMAIN", "cluster.local", asString, "the cluster's DNS domain: SERVICE.NAMESPACE.svc.<domain>"),
  clusterDnsAddress: option(
    "NAVARCH_CLUSTER_DNS_ADDRESS",
    "",
    asString,
    "the IP the cluster DNS listens on and pods are given; empty: this process's address on the pod network (the bridge's gateway on the host, the container's IP when the agent runs in a container attached to it)",
  ),
  clusterDnsUpstreams: option(
    "NAVARCH_CLUSTER_DNS_UPSTREAMS",
    "",
    asString,
    'where names outside the cluster domain are forwarded, "ip[:port],..."; empty: the nameservers of /etc/resolv.conf; "none": refuse them',
  ),
};

export type NodeAgentOptions = {
  [K in keyof typeof NODE_AGENT_OPTIONS]: (typeof NODE_AGENT_OPTIONS)[K]["default"];
};

export function defaultOptions(): NodeAgentOptions {
  return Object.fromEntries(Object.entries(NODE_AGENT_OPTIONS).map(([k, spec]) => [k, spec.default])) as NodeAgentOptions;
}
