// Writes a replica set's plan with pod-ownership/pod-writes.ts, every write compare-and-swap:
// adoptions and releases first (any refused fails the pass before pods are created or deleted),
// then creations in slow-start batches or deletions as the gateway deletes a pod (a stale
// revision is retried once from the stored pod when that is still the same live pod), all
// remembered in the expectations before the pass ends. The controller writes the status last.
import type { Pod, ReplicaSet } from "@navarch/api";
import { podFromTemplate, podName, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import { ownerReference } from "../pod-ownership/owner-kind.js";
import { writePods, type PodOwnerDeps, type PodWritesResult } from "../pod-ownership/pod-writes.js";
import { REPLICA_SET, type Plan } from "./reconcile.js";

/** A new pod of the replica set, from its template. */
export function replicaSetPod(rs: ReplicaSet, name: string, now: Date, defaults: PodDefaults): Pod {
  return podFromTemplate({ namespace: rs.metadata!.namespace, name, template: rs.spec?.template, owner: ownerReference(REPLICA_SET, rs), now, defaults });
}

/** Claims, creates and deletes pods as planned. Throws ConflictError when a claim could not be made. */
export function applyPods(rs: ReplicaSet, plan: Plan, deps: PodOwnerDeps<ReplicaSet>): Promise<PodWritesResult> {
  return writePods(rs, deps, async (w) => {
    await w.claim(plan.adopt, plan.release);
    if (plan.create > 0) {
      const now = deps.now();
      await w.create(Array.from({ length: plan.create }, () => replicaSetPod(rs, podName(rs.metadata!.name, deps.suffix), now, deps.podDefaults)));
    }
    // A pod found finished on a retry is not deleted: it no longer counts as a replica anyway.
    if (plan.delete.length > 0) await w.delete(plan.delete.map((pod) => ({ pod })), { leaveFinished: true });
  });
}
