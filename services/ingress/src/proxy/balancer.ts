// Round-robin over a backend's ready addresses, as ingress-nginx's default balancer does. The
// position per backend outlives route table swaps (a table rebuilt for an unrelated change does
// not send the next request back to the first pod); positions of backends no table has any more
// are dropped when a table is swapped in.
import type { Address, Backend } from "../routes/table.js";

export class RoundRobin {
  private readonly next = new Map<string, number>();

  /** The next address of the backend that is not in `tried` ("ip:port"), or undefined. */
  pick(backend: Backend, tried: ReadonlySet<string> = new Set()): Address | undefined {
    const all = backend.addresses;
    if (all.length === 0) return undefined;
    const start = this.next.get(backend.id) ?? 0;
    for (let i = 0; i < all.length; i++) {
      const at = (start + i) % all.length;
      const a = all[at]!;
      if (tried.has(addressKey(a))) continue;
      this.next.set(backend.id, (at + 1) % all.length);
      return a;
    }
    return undefined;
  }

  /** Forgets the positions of backends not in `ids`. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.next.keys()) if (!ids.has(id)) this.next.delete(id);
  }
}

export function addressKey(a: Address): string {
  return `${a.ip}:${a.port}`;
}
