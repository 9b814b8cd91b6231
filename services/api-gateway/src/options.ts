import { asInt, asString, option } from "@navarch/config";
import { LIMIT_OPTIONS, type LimitOptions } from "./limits.js";

export const GATEWAY_OPTIONS = {
  apiAddr: option("NAVARCH_API_ADDR", "127.0.0.1:7443", asString, "address the gRPC API listens on (port 0 picks a free port)"),
  bookmarkSeconds: option("NAVARCH_WATCH_BOOKMARK_SECONDS", 30, asInt, "how often watches with allowWatchBookmarks get a BOOKMARK"),
  watchHistory: option("NAVARCH_WATCH_HISTORY", 10_000, asInt, "recent events kept per kind so watches can resume without a relist"),
  maxObjectBytes: option("NAVARCH_MAX_OBJECT_BYTES", 1_000_000, asInt, "largest object the API accepts, in bytes of stored JSON"),
  serviceClusterIPRange: option("NAVARCH_SERVICE_CLUSTER_IP_RANGE", "10.96.0.0/16", asString, "IPv4 CIDR Service cluster IPs are allocated from (not its network and broadcast addresses; automatic picks avoid its first 256 addresses while others are free)"),
  serviceNodePortRange: option("NAVARCH_SERVICE_NODE_PORT_RANGE", "30000-32767", asString, "ports NodePort Services are allocated from, first-last inclusive"),
  defaultNotReadyTolerationSeconds: option("NAVARCH_DEFAULT_NOT_READY_TOLERATION_SECONDS", 2, asInt, "tolerationSeconds of the node.kubernetes.io/not-ready:NoExecute toleration added to pods without one"),
  defaultUnreachableTolerationSeconds: option("NAVARCH_DEFAULT_UNREACHABLE_TOLERATION_SECONDS", 2, asInt, "tolerationSeconds of the node.kubernetes.io/unreachable:NoExecute toleration added to pods without one: how long a lost node's pods wait before they are evicted"),
  /** Per-client limits (limits.ts, docs/api-limits.md). */
  ...LIMIT_OPTIONS,
};

export type GatewayOptions = {
  apiAddr: string;
  bookmarkSeconds: number;
  watchHistory: number;
  maxObjectBytes: number;
  /** Default 10.96.0.0/16. */
  serviceClusterIPRange?: string;
  /** Default 30000-32767. */
  serviceNodePortRange?: string;
  /** Default 2 (see admission/pod.ts). */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
} & Partial<LimitOptions>;
