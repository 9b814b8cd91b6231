// sessionAffinity ClientIP without per-client state: the kernel hashes the client address into one
// of a fixed number of slots (nft `jhash ip saddr mod SLOTS`), and each slot maps to an endpoint.
// Slots are dealt to endpoints by rendezvous hashing (each slot takes the endpoint with the highest
// hash of slot and endpoint), so the same endpoints always give the same map on every node, and
// when an endpoint comes or goes only the slots that were or become its own move: the other
// clients keep their endpoint.
//
// kube-proxy instead remembers each client's endpoint for timeoutSeconds (iptables `recent`, IPVS
// persistence): a client stays on its endpoint even while others are added, and is rebalanced only
// after it was idle that long. Here there is no timeout (spec.sessionAffinityConfig does not exist
// in Navarch's API) and stickiness holds as long as the set of ready endpoints does; a scale-up
// moves about 1/N of the clients to the new endpoint.
import type { Backend } from "./reconcile.js";

/** Seed of the kernel's jhash: the same on every node, so every node picks the same slot. */
export const AFFINITY_SEED = 0x6e617661;

/** At least 256 slots, and 4 per endpoint, so the shares stay even. */
export function slotCount(endpoints: number): number {
  let n = 256;
  while (n < endpoints * 4) n *= 2;
  return n;
}

/** slot -> index into `backends`, for `slotCount(backends.length)` slots. */
export function dealSlots(backends: readonly Backend[]): number[] {
  const n = slotCount(backends.length);
  const keys = backends.map((b) => `${b.ip}:${b.port}`);
  const out = new Array<number>(n);
  for (let slot = 0; slot < n; slot++) {
    let best = 0;
    let bestWeight = -1;
    for (let i = 0; i < keys.length; i++) {
      const w = weight(slot, keys[i]!);
      if (w > bestWeight) {
        bestWeight = w;
        best = i;
      }
    }
    out[slot] = best;
  }
  return out;
}

/** FNV-1a of "slot/key", then murmur3's finalizer to spread near-identical inputs. */
function weight(slot: number, key: string): number {
  let h = 0x811c9dc5;
  const s = `${slot}/${key}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
