// A runtime capability the node agent's service proxy needs: programming netfilter in the HOST's
// network namespace (where pod traffic is routed), plus the two per-device knobs a kernel data
// path needs on the pod bridge. A runtime that has no host (the fake one of hollow nodes) does
// not offer it, and the agent then runs without a service proxy.

/** The pod network as the host sees it. */
export interface PodBridge {
  /** The bridge's interface name on the host, e.g. "br-0123456789ab". */
  device: string;
  /** The pods' subnet, e.g. "172.25.0.0/16". */
  subnet: string;
}

export interface HostNetfilter {
  /** The pod network's bridge device (the network is created when missing). */
  podBridge(): Promise<PodBridge>;
  /**
   * Runs `nft -f -` with `script` in the host's network namespace. nft applies one script as one
   * kernel transaction: all of it or nothing. Throws with nft's message when it refuses the script.
   */
  nft(script: string): Promise<void>;
  /**
   * Per-device settings on the pod bridge: route_localnet (traffic DNATed from 127.0.0.1 may leave
   * through it) and hairpin mode on each of its current ports (a pod may reach itself through a
   * virtual IP). Idempotent; call again after ports were added.
   */
  configureBridge(device: string): Promise<void>;
  /**
   * Keeps every packet to `cidr` (the service range) on this host, whatever nft holds: the host's
   * own packets are routed to loopback (from 127.0.0.1, so a DNAT to a pod still works) and any
   * other packet for the range is refused with ICMP (prohibit). Idempotent; never removed by an
   * agent (other agents on the host may rely on it): see docs/adr/0018-node-network-readiness.md.
   */
  guardServiceRange(cidr: string): Promise<void>;
  /** Removes whatever helper the runtime started for this; idempotent. */
  close(): Promise<void>;
}
