// The ranges Service addresses come from (NAVARCH_SERVICE_CLUSTER_IP_RANGE,
// NAVARCH_SERVICE_NODE_PORT_RANGE) and the order in which free ones are tried. Pure: the allocator
// (service-addresses.ts) walks these candidates and claims the first free one.
//
// As in Kubernetes (KEP-3070, KEP-3668), the bottom of each range is a "static band" that
// automatic allocation uses only once the rest is full, so addresses people pick by hand (the DNS
// service's 10.96.0.10, a well-known node port) are rarely taken by chance. Automatic allocation
// starts at a random point of the upper band and walks forward, so concurrent gateways seldom
// race for the same address (and when they do, the create-only claim decides).

/** Positions 0..size-1 of a range; `staticBand` of them (from 0) are used last. */
export interface AddressRange {
  /** How the operator wrote it, for messages: "10.96.0.0/16", "30000-32767". */
  text: string;
  size: number;
  staticBand: number;
}

export interface ClusterIPRange extends AddressRange {
  /** The first usable address (the network address + 1) as a 32-bit number. */
  first: number;
}

export interface NodePortRange extends AddressRange {
  first: number;
}

/**
 * An IPv4 CIDR. Usable addresses exclude the network and broadcast addresses (10.96.0.0/16 gives
 * 10.96.0.1 - 10.96.255.254); a /31 or /32 has no room for services and is refused.
 */
export function parseClusterIPRange(cidr: string): ClusterIPRange {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits < 0 || bits > 30) {
    throw new Error(`service cluster IP range "${cidr}" is not an IPv4 CIDR with room for services (e.g. 10.96.0.0/16)`);
  }
  const total = 2 ** (32 - bits);
  const base = octets.reduce((n, o) => n * 256 + o, 0);
  const network = base - (base % total);
  if (network !== base) throw new Error(`service cluster IP range "${cidr}" has host bits set (the network is ${ipv4(network)}/${bits})`);
  return { text: cidr.trim(), first: network + 1, size: total - 2, staticBand: staticBand(total, 16, 256, 16) };
}

/** "30000-32767": first and last port, inclusive. */
export function parseNodePortRange(text: string): NodePortRange {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const first = m ? Number(m[1]) : 0;
  const last = m ? Number(m[2]) : 0;
  if (!m || first < 1 || last > 65535 || last < first) {
    throw new Error(`service node port range "${text}" is not a port range such as 30000-32767`);
  }
  const size = last - first + 1;
  return { text: text.trim(), first, size, staticBand: staticBand(size, 16, 128, 32) };
}

/** Kubernetes' calculateRangeOffset: size/step, clamped to [min, max]; none for tiny ranges. */
function staticBand(size: number, min: number, max: number, step: number): number {
  if (size <= min) return 0;
  return Math.min(max, Math.max(min, Math.floor(size / step)));
}

export function ipv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The 32-bit number of a dotted IPv4 address, or undefined when it is not one. */
export function ipv4Number(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** The address at a position of the range. */
export function clusterIPAt(range: ClusterIPRange, position: number): string {
  return ipv4(range.first + position);
}

export function nodePortAt(range: NodePortRange, position: number): number {
  return range.first + position;
}

export function clusterIPInRange(range: ClusterIPRange, ip: string): boolean {
  const n = ipv4Number(ip);
  return n !== undefined && n >= range.first && n < range.first + range.size;
}

export function nodePortInRange(range: NodePortRange, port: number): boolean {
  return port >= range.first && port < range.first + range.size;
}

/**
 * Every position once: the upper band from `random` onwards (wrapping), then the static band
 * likewise. `random` is in [0, 1).
 */
export function* candidatePositions(range: AddressRange, random: () => number): Generator<number> {
  const upper = range.size - range.staticBand;
  yield* walk(range.staticBand, upper, random());
  yield* walk(0, range.staticBand, random());
}

function* walk(start: number, length: number, r: number): Generator<number> {
  if (length <= 0) return;
  const offset = Math.floor(r * length) % length;
  for (let i = 0; i < length; i++) yield start + ((offset + i) % length);
}
