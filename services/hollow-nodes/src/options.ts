// The hollow nodes' options, declared once (env var, default, doc). Every other node agent option
// (NAVARCH_RESTART_BACKOFF_BASE_MS, ...) is read as the node agent reads it and applies to every
// hollow node; the ones below replace the node agent's where a simulated node needs other values.
import { asInt, asString, option } from "@navarch/config";

/** A non-negative number of seconds ("0.5" is allowed: tests run faster than a second). */
function asNumber(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a non-negative number, got "${raw}"`);
  return n;
}

export const HOLLOW_NODES_OPTIONS = {
  count: option("NAVARCH_HOLLOW_NODES", 10, asInt, "how many hollow nodes this process runs"),
  prefix: option("NAVARCH_HOLLOW_NODE_PREFIX", "hollow-", asString, "node names are <prefix><index>, index from 0"),
  firstIndex: option("NAVARCH_HOLLOW_NODE_FIRST_INDEX", 0, asInt, "index of the first node (several processes can share a prefix)"),
  cpu: option("NAVARCH_HOLLOW_NODE_CPU", "4", asString, "CPU capacity of each hollow node"),
  memory: option("NAVARCH_HOLLOW_NODE_MEMORY", "16Gi", asString, "memory capacity of each hollow node"),
  pods: option("NAVARCH_HOLLOW_NODE_PODS", "110", asString, "pod capacity of each hollow node"),
  // Heartbeats are the steady cost of a node: 5,000 nodes at 1 s would be 5,000 lease writes a
  // second. The control plane's NAVARCH_NODE_MONITOR_GRACE_SECONDS must be a few periods longer.
  heartbeatSeconds: option("NAVARCH_HOLLOW_HEARTBEAT_SECONDS", 10, asNumber, "how often each hollow node renews its Lease"),
  // A fake runtime loses no events, so the periodic comparison with its list only costs CPU.
  resyncSeconds: option("NAVARCH_HOLLOW_RESYNC_SECONDS", 120, asNumber, "how often each hollow node compares its pods with the fake runtime's list"),
  // A fake runtime has nothing a fence protects, and each fencing agent polls its lease every
  // 250 ms: measured at 5,000 nodes, 4.6% of this process's CPU.
  fenceSeconds: option("NAVARCH_HOLLOW_FENCE_SECONDS", 0, asNumber, "fence (stop a node's pods) after this long without a lease renewal; 0: never"),
  startPerSecond: option("NAVARCH_HOLLOW_START_PER_SECOND", 200, asNumber, "hollow nodes started per second (a stampede of registrations helps nobody)"),
  statsSeconds: option("NAVARCH_HOLLOW_STATS_SECONDS", 10, asNumber, "print a status line this often (0: never)"),
};

export type HollowNodesOptions = {
  [K in keyof typeof HOLLOW_NODES_OPTIONS]: (typeof HOLLOW_NODES_OPTIONS)[K]["default"];
};

export function defaultOptions(): HollowNodesOptions {
  return Object.fromEntries(Object.entries(HOLLOW_NODES_OPTIONS).map(([k, spec]) => [k, spec.default])) as HollowNodesOptions;
}
