// The DaemonSet controller: pod-ownership/owner-controller.ts runs its pass - the pure plan over
// the nodes and the daemon set's pods (reconcile.ts), the pod writes (apply.ts), then the status.
import type { Namespace } from "@navarch/api";
import type { Controller } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { podOwnerController, type PodOwnerControllerOptions } from "../pod-ownership/owner-controller.js";
import { writeStatus } from "../pod-ownership/pod-writes.js";
import { applyPlan } from "./apply.js";
import { DAEMON_SET, reconcile, statusChanged } from "./reconcile.js";
import { daemonSetWatches, type DaemonSetInformers } from "./watches.js";

export interface DaemonSetControllerOptions extends PodOwnerControllerOptions {
  informers: DaemonSetInformers & { namespaces: Informer<Namespace> };
}

export function daemonSetController(opts: DaemonSetControllerOptions): Controller {
  const { informers } = opts;
  return podOwnerController(opts, {
    kind: DAEMON_SET,
    owners: informers.daemonSets,
    watches: daemonSetWatches(informers),
    workers: 2,
    sync: async (ds, pass, deps) => {
      // Being deleted: the garbage collector deals with its pods (or orphans them).
      if (ds.metadata!.deletionTimestamp) return undefined;
      const plan = reconcile({
        ds,
        nodes: informers.nodes.list(),
        owned: pass.owned(),
        orphans: pass.orphans(),
        expectationsSatisfied: pass.expectationsSatisfied(),
        namespaceTerminating: pass.namespaceTerminating(),
        now: deps.now(),
      });
      const busy = plan.create.length + plan.delete.length + plan.adopt.length + plan.release.length > 0;
      if (busy) {
        const { created, deleted } = await applyPlan(ds, plan, deps);
        deps.logger.debug({ daemonset: pass.key, created, deleted, adopted: plan.adopt.length, released: plan.release.length }, "daemonset reconciled");
      }
      if (statusChanged(ds.status, plan.status)) await writeStatus(informers.daemonSets, ds, plan.status);
      // A pod becomes available minReadySeconds after it became ready: look again then.
      return plan.recheckMs;
    },
  });
}
