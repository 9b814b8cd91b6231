// The node's pod CIDR (Kubernetes' node.spec.podCIDR): a /24 of the pod network's subnet outside
// the range Docker allocates from itself, from which the agent gives pods without a sandbox their
// fixed IPs (pods/pod-ips.ts). Only runtimes that can give fixed IPs get one (podNetwork() with a
// dynamicRange); hollow nodes never claim any.
//
// At registration the agent claims one with a create-only key in navarch-ip-allocations
// (`podcidr.10_244_16_0_24`, owner = the node's name): two agents racing for the same /24 cannot
// both win. The Node's spec.podCIDR is the lasting record: an agent restarting re-uses its own
// claim, else the podCIDR its Node has (claiming it again), and a new node skips every /24 that
// is claimed or written in another Node's spec - so a claim removed by someone (by hand with the
// nats CLI, say) does not hand a used CIDR out twice.
import type { Node } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import { cidrContains, nodeCidrs, parseCidr } from "@navarch/runtime";
import type { AddressClaims, Claim } from "@navarch/store";

const KEY_PREFIX = "podcidr.";

/** "10.244.16.0/24" -> "podcidr.10_244_16_0_24" ("." separates KV key tokens, "/" is best avoided). */
export function podCidrClaimKey(cidr: string): string {
  return KEY_PREFIX + cidr.replace(/[./]/g, "_");
}

/** The CIDR a claim key names, or undefined for other keys. */
export function cidrOfClaimKey(key: string): string | undefined {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const m = /^(\d+)_(\d+)_(\d+)_(\d+)_(\d+)$/.exec(key.slice(KEY_PREFIX.length));
  return m ? `${m[1]}.${m[2]}.${m[3]}.${m[4]}/${m[5]}` : undefined;
}

export interface PodCidrChoice {
  /** This node's claim, still held: use it, nothing to write. */
  reuse?: string | undefined;
  /** Otherwise: claim these in order, the first that succeeds is ours. */
  candidates: string[];
}

/**
 * Which /24 this node takes. `claims`: every pod CIDR claim (cidr and owning node); `assigned`:
 * the podCIDR of every Node (this one included); `candidates`: the subnet's node CIDRs in order.
 */
export function choosePodCidr(opts: {
  node: string;
  candidates: string[];
  claims: { cidr: string; owner: string }[];
  assigned: { node: string; cidr: string }[];
  /** Addresses on the network now, by node label: a CIDR with another node's container in it is taken (another cluster on the same host). */
  inUse?: { ip: string; node: string }[];
}): PodCidrChoice {
  const { node, candidates } = opts;
  const usable = new Set(candidates);
  const busy = new Set(
    candidates.filter((c) => {
      const cidr = parseCidr(c);
      return (opts.inUse ?? []).some((u) => u.node !== node && cidrContains(cidr, u.ip));
    }),
  );
  const mine = opts.claims.find((c) => c.owner === node && usable.has(c.cidr) && !busy.has(c.cidr));
  if (mine) return { reuse: mine.cidr, candidates: [] };
  const taken = new Set([...opts.claims.map((c) => c.cidr), ...opts.assigned.filter((a) => a.node !== node).map((a) => a.cidr), ...busy]);
  const own = opts.assigned.find((a) => a.node === node && usable.has(a.cidr) && !taken.has(a.cidr))?.cidr;
  const free = candidates.filter((c) => !taken.has(c) && c !== own);
  return { candidates: own ? [own, ...free] : free };
}

/** The pod CIDR claims among every address claim. */
export function podCidrClaims(claims: Iterable<Claim>): { cidr: string; owner: string }[] {
  const out: { cidr: string; owner: string }[] = [];
  for (const c of claims) {
    const cidr = cidrOfClaimKey(c.key);
    if (cidr) out.push({ cidr, owner: c.owner.name });
  }
  return out;
}

/**
 * Claims this node's pod CIDR (see the top of the file); undefined when the subnet has none left
 * (then every pod of this node gets a sandbox). `claims` must be synced; `nodes` are every Node.
 */
export async function claimPodCidr(opts: {
  node: string;
  subnet: string;
  dynamicRange: string;
  inUse?: { ip: string; node: string }[] | undefined;
  claims: AddressClaims;
  nodes: Node[];
  logger: Logger;
  now?: () => Date;
}): Promise<string | undefined> {
  const { node, claims, logger } = opts;
  const now = opts.now ?? (() => new Date());
  const choice = choosePodCidr({
    node,
    candidates: nodeCidrs(opts.subnet, opts.dynamicRange),
    claims: podCidrClaims(claims.all()),
    assigned: opts.nodes.flatMap((n) => (n.spec?.podCIDR ? [{ node: n.metadata!.name, cidr: n.spec.podCIDR }] : [])),
    inUse: opts.inUse ?? [],
  });
  if (choice.reuse) return choice.reuse;
  for (const cidr of choice.candidates) {
    // The owner record names the node (uid: its name, stable across re-registrations).
    if (await claims.claim(podCidrClaimKey(cidr), { namespace: "", name: node, uid: node }, now())) {
      logger.info({ node, podCIDR: cidr }, "claimed the node's pod CIDR");
      return cidr;
    }
  }
  logger.warn({ node, subnet: opts.subnet }, "no free pod CIDR left in the pod subnet: every pod of this node gets a sandbox");
  return undefined;
}
