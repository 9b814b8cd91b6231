// The ReplicaSet controller: pod-ownership/owner-controller.ts runs its pass - the pure plan
// (reconcile.ts), the pod writes (apply.ts), then the status.
import type { Namespace } from "@navarch/api";
import type { Controller } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { podOwnerController, type PodOwnerControllerOptions } from "../pod-ownership/owner-controller.js";
import { writeStatus } from "../pod-ownership/pod-writes.js";
import { applyPods } from "./apply.js";
import { computeStatus, reconcile, REPLICA_SET, statusChanged } from "./reconcile.js";
import { replicaSetWatches, type ReplicaSetInformers } from "./watches.js";

export interface ReplicaSetControllerOptions extends PodOwnerControllerOptions {
  informers: ReplicaSetInformers & { namespaces: Informer<Namespace> };
}

export function replicaSetController(opts: ReplicaSetControllerOptions): Controller {
  const { informers } = opts;
  return podOwnerController(opts, {
    kind: REPLICA_SET,
    owners: informers.replicaSets,
    watches: replicaSetWatches(informers),
    workers: 5,
    sync: async (rs, pass, deps) => {
      const plan = reconcile({
        rs,
        owned: pass.owned(),
        orphans: pass.orphans(),
        expectationsSatisfied: pass.expectationsSatisfied(),
        namespaceTerminating: pass.namespaceTerminating(),
      });
      const result = await applyPods(rs, plan, deps);
      const { status, recheckMs } = computeStatus(rs, plan.pods, deps.now(), result.failure);
      if (statusChanged(rs.status, status)) await writeStatus(informers.replicaSets, rs, status);
      if (plan.create || plan.delete.length || plan.adopt.length || plan.release.length) {
        deps.logger.debug(
          { replicaset: pass.key, created: result.created, deleted: result.deleted, adopted: plan.adopt.length, released: plan.release.length },
          "replicaset reconciled",
        );
      }
      // A pod becomes available minReadySeconds after it became ready: look again then.
      return recheckMs;
    },
  });
}
