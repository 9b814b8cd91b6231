// The Node conditions a node agent writes about its own parts (Ready is the node lifecycle
// controller's). Shared by the agent that writes them and the CLI that shows them (docs/adr/0016).
//
//   True                                  the part works
//   False, reason Disabled | NotSupported off on purpose (an option; a hollow node): not broken
//   False, any other reason               broken or not ready yet: the node's new pods wait for it

export const SERVICE_PROXY_READY = "ServiceProxyReady";
export const CLUSTER_DNS_READY = "ClusterDNSReady";
/** Reasons of a False condition that mean "off on purpose", not "broken". */
export const NOT_WANTED_REASONS: readonly string[] = ["Disabled", "NotSupported"];

/** The word `get nodes` adds to STATUS for a broken part, as kubectl adds SchedulingDisabled. */
export const NODE_PART_PROBLEMS: Readonly<Record<string, string>> = {
  [SERVICE_PROXY_READY]: "ServiceProxyNotReady",
  [CLUSTER_DNS_READY]: "ClusterDNSNotReady",
};

/** Whether an agent-owned condition says its part is broken (or not ready yet). */
export function nodePartBroken(c: { type: string; status: string; reason: string }): boolean {
  return c.type in NODE_PART_PROBLEMS && c.status !== "True" && !NOT_WANTED_REASONS.includes(c.reason);
}
