// Writes an Ingress's new load balancer status straight to the store, compare-and-swap on the
// revision the plan was computed from: a lost race is a ConflictError, which the controller
// retries from fresh state. Then the informer is given a moment to catch up with our write.
import { KINDS, type Ingress } from "@navarch/api";
import type { Informer } from "@navarch/store";
import type { Plan } from "./reconcile.js";

export async function apply(plan: Plan, ingresses: Informer<Ingress>): Promise<boolean> {
  if (plan.type === "none") return false;
  const next = KINDS.Ingress.codec.fromPartial({ ...plan.ingress, status: { loadBalancer: { ingress: plan.loadBalancer } } });
  const written = await ingresses.store.update(next);
  const revision = Number(written?.metadata?.resourceVersion ?? 0);
  if (revision > 0) await ingresses.waitForRevision(revision, 2_000);
  return true;
}
