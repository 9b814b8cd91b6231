// For tests and benchmarks that send packets to a ClusterIP: first make sure they cannot leave
// this host (docs/adr/0016). Reads the host's routing rules with iproute2 (`ip`), and the service
// proxy's nftables table with `nft` when asked to. Throws, saying what is missing, otherwise.
import { spawnSync } from "node:child_process";
import { GUARD_LOCAL_TABLE, GUARD_PROHIBIT_TABLE } from "./docker-netfilter.js";

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

/** The host's routing rules keep `cidr` local: its own packets to loopback, any other refused. */
export function serviceRangeGuarded(cidr: string): boolean {
  const rules = run("ip", ["rule", "show"]).out;
  return rules.includes(`to ${cidr} iif lo lookup ${GUARD_LOCAL_TABLE}`) && rules.includes(`to ${cidr} lookup ${GUARD_PROHIBIT_TABLE}`);
}

/**
 * Throws unless a packet to `clusterIP` stays on this host: the range's guard is in place, the
 * host's own route to it is the loopback one, and - when `table` is given - the service proxy's
 * nftables table exists and names the address.
 */
export function assertServiceTrafficStaysLocal(p: { clusterIP: string; cidr: string; table?: string }): void {
  if (!serviceRangeGuarded(p.cidr)) throw new Error(`the service range ${p.cidr} is not guarded on this host (no ip rules to tables ${GUARD_LOCAL_TABLE}/${GUARD_PROHIBIT_TABLE}): a packet to ${p.clusterIP} could leave it`);
  const route = run("ip", ["route", "get", p.clusterIP]);
  if (!route.ok || !/^local /m.test(route.out)) throw new Error(`the host's route to ${p.clusterIP} is not the loopback one: ${route.out.trim()}`);
  if (p.table === undefined) return;
  const nft = ["/usr/sbin/nft", "/sbin/nft", "nft"].find((b) => b === "nft" || run("test", ["-x", b]).ok)!;
  const table = run(nft, ["list", "table", "ip", p.table]);
  if (!table.ok) throw new Error(`the service proxy's table ${p.table} is not in place: ${table.out.trim()}`);
  if (!table.out.includes(p.clusterIP)) throw new Error(`the service proxy's table ${p.table} has no rule for ${p.clusterIP}`);
}
