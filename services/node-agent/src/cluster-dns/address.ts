// Where pods reach this node's DNS server: this process's own address on the pod network.
//
// - The agent on the host (all-in-one): the host's side of the pod bridge holds the network's
//   gateway IP, and pods route to it directly.
// - The agent in a container attached to the pod network (the e2e cluster's nodes): that
//   container's IP on it.
// Both are "the local interface address inside the pod network's subnet". But Node lists only
// interfaces that are up and running, and a bridge without a pod attached is down: so on the host
// the gateway is also tried by binding to it (an address of this machine binds, down or not). An
// agent with neither (in a container not attached to the pod network, or driving a remote Docker
// engine) cannot serve pods: then no cluster DNS, unless NAVARCH_CLUSTER_DNS_ADDRESS names one.
import dgram from "node:dgram";
import { isIPv6 } from "node:net";
import type { NetworkInterfaceInfo } from "node:os";
import { numberToIp } from "@navarch/runtime";

/** The first IPv4 address of a local interface inside `subnet` (a.b.c.d/n), if any. */
export function localAddressIn(subnet: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  const range = parseCidr(subnet);
  if (!range) return undefined;
  for (const name of Object.keys(interfaces).sort()) {
    for (const info of interfaces[name] ?? []) {
      if (info.family !== "IPv4" || info.internal) continue;
      const ip = ipv4ToInt(info.address);
      if (ip !== undefined && (ip & range.mask) >>> 0 === range.network) return info.address;
    }
  }
  return undefined;
}

/**
 * Docker's gateway of a network whose IPAM config names none (networks made with a configured
 * subnet): the subnet's first host address, which the bridge holds even while it is down.
 */
export function firstHostAddress(subnet: string): string | undefined {
  const range = parseCidr(subnet);
  if (!range || range.mask === 0xffffffff) return undefined;
  return numberToIp((range.network + 1) >>> 0);
}

/** Whether `ip` is an address of this machine (of this network namespace): it can be bound. */
export function isLocalAddress(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(isIPv6(ip) ? "udp6" : "udp4");
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind(0, ip, () => {
      socket.close();
      resolve(true);
    });
  });
}

function parseCidr(cidr: string): { network: number; mask: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  if (!m) return undefined;
  const base = ipv4ToInt(m[1]!);
  const bits = Number(m[2]);
  if (base === undefined || bits > 32) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { network: (base & mask) >>> 0, mask };
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}
