// Writes an endpoints plan straight to the Endpoints store, compare-and-swap: an update names the
// revision the plan was computed from, a delete too, and a create fails if someone created the
// Endpoints meanwhile. A lost race is a ConflictError, which the runtime retries from fresh state.
// Afterwards the informer is given a moment to catch up with our own write, so the next pass of
// this key (our write comes back as an event) starts from it rather than conflicting with it.
import { AlreadyExistsError, ConflictError, type Endpoints } from "@navarch/api";
import { timestamp, type Informer } from "@navarch/store";
import { randomUUID } from "node:crypto";
import type { Plan } from "./reconcile.js";

export interface ApplyDeps {
  endpoints: Informer<Endpoints>;
  now: () => Date;
}

/** Returns what was done, for logs and tests. */
export async function apply(plan: Plan, deps: ApplyDeps): Promise<Plan["type"]> {
  const store = deps.endpoints.store;
  let revision = 0;
  switch (plan.type) {
    case "none":
      return "none";
    case "create": {
      const ep = plan.endpoints;
      const fresh: Endpoints = { ...ep, metadata: { ...ep.metadata!, uid: randomUUID(), creationTimestamp: timestamp(deps.now()) } };
      try {
        revision = Number((await store.create(fresh)).metadata!.resourceVersion);
      } catch (err) {
        if (err instanceof AlreadyExistsError) throw new ConflictError(err.message);
        throw err;
      }
      break;
    }
    case "update":
      revision = Number((await store.update(plan.endpoints))?.metadata?.resourceVersion ?? 0);
      break;
    case "delete":
      await store.delete(plan.namespace, plan.name, Number(plan.resourceVersion));
      break;
  }
  if (revision > 0) await deps.endpoints.waitForRevision(revision, 2_000);
  return plan.type;
}
