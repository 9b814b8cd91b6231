// What an Ingress's status.loadBalancer.ingress should say (pure): where this controller serves
// it, [{ip}] (or [{hostname}] when the address is a name), for the Ingresses it serves. An Ingress
// it stopped serving (its class changed) loses our address, and only ours: another controller's
// entry is its own to keep. Deleting Ingresses are left alone.
import { isIP } from "node:net";
import type { Ingress, IngressLoadBalancerIngress } from "@navarch/api";
import { isServed } from "../routes/table.js";

export type Plan = { type: "none" } | { type: "update"; ingress: Ingress; loadBalancer: IngressLoadBalancerIngress[] };

export function statusEntry(address: string): IngressLoadBalancerIngress {
  return isIP(address) ? { ip: address, hostname: "" } : { ip: "", hostname: address };
}

export function reconcile(ing: Ingress | undefined, ingressClass: string, address: string): Plan {
  if (!ing || ing.metadata?.deletionTimestamp) return { type: "none" };
  const current = ing.status?.loadBalancer?.ingress ?? [];
  const ours = [statusEntry(address)];
  let want: IngressLoadBalancerIngress[];
  if (isServed(ing, ingressClass)) want = ours;
  else if (same(current, ours)) want = [];
  else return { type: "none" };
  return same(current, want) ? { type: "none" } : { type: "update", ingress: ing, loadBalancer: want };
}

function same(a: readonly IngressLoadBalancerIngress[], b: readonly IngressLoadBalancerIngress[]): boolean {
  const text = (l: readonly IngressLoadBalancerIngress[]) => l.map((e) => `${e.ip}|${e.hostname}`).join(",");
  return text(a) === text(b);
}
