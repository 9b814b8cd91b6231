// IPv4 CIDR arithmetic for the pod network: its subnet, the range the runtime hands out on its
// own, the /24 pod CIDRs of nodes carved from the rest, and the addresses inside one. Pure.

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function ipToNumber(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new Error(`"${ip}" is not an IPv4 address`);
  let n = 0;
  for (const p of parts) {
    const octet = Number(p);
    if (!/^\d{1,3}$/.test(p) || octet > 255) throw new Error(`"${ip}" is not an IPv4 address`);
    n = n * 256 + octet;
  }
  return n;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** "10.244.0.0/16" -> its network address and prefix; throws on anything else (host bits set too). */
export function parseCidr(text: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not an IPv4 CIDR (like 10.244.0.0/16)`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new Error(`"${text}": the prefix length must be 0-32`);
  const base = ipToNumber(m[1]!);
  if (base % size({ base: 0, prefix }) !== 0) throw new Error(`"${text}" has host bits set (the network address of /${prefix} is ${numberToIp(base - (base % size({ base: 0, prefix })))})`);
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${numberToIp(c.base)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= c.base && n < c.base + size(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** Node pod CIDRs are /24s: 253 pod addresses each, far more than a node's pod capacity (110). */
export const NODE_CIDR_PREFIX = 24;

/**
 * The part of a pod subnet the runtime allocates from on its own (sandboxes, containers joined to
 * the network by hand): its first sixteenth, so a /16 keeps 240 node CIDRs of /24. A subnet must
 * be /20 or larger to leave room for node CIDRs.
 */
export function dynamicRangeOf(subnet: string): string {
  const c = parseCidr(subnet);
  if (c.prefix > NODE_CIDR_PREFIX - 4) throw new Error(`pod subnet ${subnet} is too small: /${NODE_CIDR_PREFIX - 4} or larger is needed for node pod CIDRs (/${NODE_CIDR_PREFIX})`);
  return formatCidr({ base: c.base, prefix: c.prefix + 4 });
}

/** The node pod CIDRs (/24) of `subnet` outside the runtime's dynamic range, in address order. */
export function nodeCidrs(subnet: string, dynamicRange: string): string[] {
  const s = parseCidr(subnet);
  const dynamic = parseCidr(dynamicRange);
  const out: string[] = [];
  if (s.prefix > NODE_CIDR_PREFIX) return out;
  const step = size({ base: 0, prefix: NODE_CIDR_PREFIX });
  for (let base = s.base; base < s.base + size(s); base += step) {
    const c = { base, prefix: NODE_CIDR_PREFIX };
    if (!overlaps(c, dynamic)) out.push(formatCidr(c));
  }
  return out;
}

/** The addresses of `cidr` a pod can have: without the network, the first (a gateway's by habit) and the broadcast address. */
export function podAddresses(cidr: string): string[] {
  const c = parseCidr(cidr);
  const out: string[] = [];
  for (let n = c.base + 2; n < c.base + size(c) - 1; n++) out.push(numberToIp(n));
  return out;
}
