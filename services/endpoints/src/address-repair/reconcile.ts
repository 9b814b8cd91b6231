// The address repair loop's decisions (pure), as Kubernetes' ClusterIP/NodePort repair
// controllers make them. The gateway claims an address (navarch-ip-allocations) before it writes
// the Service and releases it after a delete, so a crash, a failed release or a Service deleted
// outside the gateway (the namespace controller) can leave:
//
// - a claim no Service holds: released, but only once it is older than a grace period, because
//   a claim made a moment ago may belong to a Service the gateway is about to write;
// - a Service address without a claim (a claim lost, or a Service restored from a copy of the
//   store): claimed again for that Service;
// - a claim held by another Service than the one using the address: reported (two Services
//   with one address need one of them recreated, as Kubernetes says too).
import type { Service } from "@navarch/api";
import { claimKeysOf, type Claim } from "@navarch/store";

export type ClaimPlan =
  | { type: "keep" }
  | { type: "recheck"; afterMs: number }
  | { type: "release"; revision: number; why: string };

export function reconcileClaim(claim: Claim, owner: Service | undefined, now: Date, graceMs: number): ClaimPlan {
  const uid = owner?.metadata?.uid;
  if (owner && uid === claim.owner.uid && claimKeysOf(owner).includes(claim.key)) return { type: "keep" };
  const claimedAt = Date.parse(claim.claimedAt);
  const age = Number.isNaN(claimedAt) ? Infinity : now.getTime() - claimedAt;
  if (age < graceMs) return { type: "recheck", afterMs: graceMs - age };
  const why = !owner ? "its Service is gone" : uid !== claim.owner.uid ? "its Service was deleted and created again" : "its Service no longer uses it";
  return { type: "release", revision: claim.revision, why };
}

export interface ServicePlan {
  /** Addresses the Service uses that nobody has claimed. */
  claim: string[];
  /** Addresses the Service uses that another Service (by uid) has claimed. */
  contested: Claim[];
}

export function reconcileService(service: Service, claimOf: (key: string) => Claim | undefined): ServicePlan {
  const plan: ServicePlan = { claim: [], contested: [] };
  for (const key of claimKeysOf(service)) {
    const claim = claimOf(key);
    if (!claim) plan.claim.push(key);
    else if (claim.owner.uid !== service.metadata?.uid) plan.contested.push(claim);
  }
  return plan;
}
