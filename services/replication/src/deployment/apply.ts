// Writes a deployment's plan in order, every write compare-and-swap on the revision the plan was
// made from: claims (re-read and re-checked), replica set creates (uid and creation time filled
// here), updates and deletes; then the events; then the deployment's annotations and status.
// The first failed write ends the pass (a conflict requeues the key at once, and the next pass
// plans from fresh state). The pass waits until the caches have its writes, so the next pass
// reads them instead of conflicting with them.
import {
  AlreadyExistsError,
  ConflictError,
  fromLabelSelector,
  matches,
  NotFoundError,
  type Deployment,
  type ReplicaSet,
} from "@navarch/api";
import type { InvolvedObject, Logger, ObjectEventRecorder } from "@navarch/controller";
import { timestamp, type Informer } from "@navarch/store";
import { randomUUID } from "node:crypto";
import { controllerRef } from "../pod-ownership/pod-state.js";
import type { Plan, Step } from "./pass.js";
import { FailedCreate } from "./reasons.js";

export interface ApplyDeps {
  deployments: Informer<Deployment>;
  replicaSets: Informer<ReplicaSet>;
  events: ObjectEventRecorder;
  logger: Logger;
  now: () => Date;
}

export function involvedDeployment(d: Deployment): InvolvedObject {
  const m = d.metadata!;
  return { kind: "Deployment", apiVersion: "apps/v1", namespace: m.namespace, name: m.name, uid: m.uid };
}

export async function apply(d: Deployment, plan: Plan, deps: ApplyDeps): Promise<void> {
  const store = deps.replicaSets.store;
  let rsRevision = 0;
  const wrote = (rs: ReplicaSet | undefined) => {
    if (rs) rsRevision = Math.max(rsRevision, Number(rs.metadata!.resourceVersion));
  };
  const subject = involvedDeployment(d);
  try {
    for (const step of plan.steps) {
      switch (step.type) {
        case "adoptReplicaSet":
        case "releaseReplicaSet":
          wrote(await claim(d, step, deps));
          break;
        case "createReplicaSet": {
          const rs = structuredClone(step.rs);
          rs.metadata = { ...rs.metadata!, uid: randomUUID(), creationTimestamp: timestamp(deps.now()), generation: 1 };
          try {
            wrote(await store.create(rs));
          } catch (err) {
            // Our own earlier create the cache has not shown yet: plan again from fresh state.
            if (err instanceof AlreadyExistsError) throw new ConflictError(err.message);
            deps.events.record(subject, "Warning", FailedCreate, `Failed to create new replica set "${rs.metadata!.name}": ${(err as Error).message}`);
            throw err;
          }
          break;
        }
        case "updateReplicaSet":
          wrote(await store.update(step.rs));
          break;
        case "deleteReplicaSet":
          try {
            await store.delete(step.rs.metadata!.namespace, step.rs.metadata!.name, Number(step.rs.metadata!.resourceVersion));
          } catch (err) {
            if (!(err instanceof NotFoundError)) throw err;
          }
          break;
        case "event":
          deps.events.record(subject, step.eventType, step.reason, step.message);
          break;
      }
    }
    if (plan.deployment) {
      const stored = await deps.deployments.store.update(plan.deployment);
      if (stored) await deps.deployments.waitForRevision(Number(stored.metadata!.resourceVersion), 2_000);
    }
  } finally {
    if (rsRevision > 0) await deps.replicaSets.waitForRevision(rsRevision, 2_000);
  }
}

/** Adds or removes the deployment's controller reference on a replica set, re-checked on fresh state. */
async function claim(d: Deployment, step: Extract<Step, { type: "adoptReplicaSet" | "releaseReplicaSet" }>, deps: ApplyDeps): Promise<ReplicaSet> {
  const uid = d.metadata!.uid;
  const sel = fromLabelSelector(d.spec!.selector!);
  const rs = step.rs;
  if (step.type === "adoptReplicaSet") {
    // Adopt only for a deployment that still exists as this uid and is not being deleted.
    const fresh = await deps.deployments.store.get(d.metadata!.namespace, d.metadata!.name);
    if (!fresh || fresh.metadata!.uid !== uid || fresh.metadata!.deletionTimestamp) {
      throw new ConflictError(`deployment ${d.metadata!.name} changed or is being deleted; not adopting replica sets`);
    }
  }
  const stored = await deps.replicaSets.store.modify(rs.metadata!.namespace, rs.metadata!.name, (current) => {
    if (current.metadata!.uid !== rs.metadata!.uid) return undefined;
    const meta = current.metadata!;
    if (step.type === "adoptReplicaSet") {
      if (controllerRef(current) || meta.deletionTimestamp || !matches(sel, meta.labels)) return undefined;
      meta.ownerReferences = [
        ...(meta.ownerReferences ?? []),
        { apiVersion: "apps/v1", kind: "Deployment", name: d.metadata!.name, uid, controller: true, blockOwnerDeletion: true },
      ];
    } else {
      if (controllerRef(current)?.uid !== uid || matches(sel, meta.labels)) return undefined;
      meta.ownerReferences = (meta.ownerReferences ?? []).filter((o) => o.uid !== uid);
    }
    return current;
  });
  if (!stored) throw new ConflictError(`replicaset ${rs.metadata!.name} changed while being ${step.type === "adoptReplicaSet" ? "adopted" : "released"}`);
  return stored;
}
