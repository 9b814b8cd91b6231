// The IPs of this node's sandbox-less pods, from the node's pod CIDR. Local to the agent - no
// write per pod anywhere: the CIDR is this node's alone (node/pod-cidr.ts), so an address is free
// when none of this node's current containers has it (the runtime's own list, as last seen) and
// it is not held by a pod of this agent (handed out, in flight or running). A pod holds its IP
// until its machine is done with it, so a restarted or recreated container gets the same one.
import { podAddresses } from "@navarch/runtime";

export class PodIPs {
  private readonly addresses: string[];
  private readonly byUid = new Map<string, string>();
  private readonly heldIps = new Set<string>();
  /** IPs on containers of the runtime's last list (an orphan being removed still has its IP). */
  private listed = new Set<string>();
  /** Where the next search starts: freed addresses are reused last, not first. */
  private cursor = 0;

  constructor(readonly cidr: string) {
    this.addresses = podAddresses(cidr);
  }

  /** The pod's IP: the one it holds, else a free one (undefined when the CIDR is full). */
  allocate(uid: string): string | undefined {
    const held = this.byUid.get(uid);
    if (held) return held;
    for (let i = 0; i < this.addresses.length; i++) {
      const ip = this.addresses[(this.cursor + i) % this.addresses.length]!;
      if (this.heldIps.has(ip) || this.listed.has(ip)) continue;
      this.cursor = (this.cursor + i + 1) % this.addresses.length;
      this.hold(uid, ip);
      return ip;
    }
    return undefined;
  }

  /** An adopted pod keeps the IP its container has. */
  hold(uid: string, ip: string): void {
    const previous = this.byUid.get(uid);
    if (previous === ip) return;
    if (previous) this.heldIps.delete(previous);
    this.byUid.set(uid, ip);
    this.heldIps.add(ip);
  }

  release(uid: string): void {
    const ip = this.byUid.get(uid);
    if (!ip) return;
    this.byUid.delete(uid);
    this.heldIps.delete(ip);
  }

  /** Forgets every pod's IP (a new pod manager starts over from adoption). */
  clear(): void {
    this.byUid.clear();
    this.heldIps.clear();
  }

  /** The pod IPs of the runtime's latest container list of this node. */
  observe(ips: Iterable<string>): void {
    this.listed = new Set(ips);
  }

  ipOf(uid: string): string | undefined {
    return this.byUid.get(uid);
  }
}
