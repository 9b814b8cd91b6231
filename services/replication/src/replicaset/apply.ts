// Writes a replica set's plan, every write compare-and-swap:
//   - adoptions and releases re-read the pod and re-check it (read-modify-CAS, retried on a
//     conflict) and add or remove the ownerReference; any that cannot be done fails the pass with
//     ConflictError before pods are created or deleted (their counts assumed the claim);
//   - creations in slow-start batches (1, 2, 4, ...; a batch with a failure ends them), so a
//     template the store refuses costs one write, not hundreds;
//   - deletions as the gateway deletes a pod: a pod on a node is marked (deletionTimestamp and its
//     grace period; its node agent stops it and deletes it), any other pod goes at once. A stale
//     revision is retried once from the stored pod when that is still the same live pod;
//   - what was written is remembered in the expectations before the pass ends;
//   - the status last, when it changed, and the pass waits until the replica set cache has it
//     (the next pass reads its own write instead of conflicting with it).
import { ConflictError, NotFoundError, AlreadyExistsError, type OwnerReference, type Pod, type ReplicaSet, type ReplicaSetStatus } from "@navarch/api";
import type { InvolvedObject, Logger, ObjectEventRecorder } from "@navarch/controller";
import { timestamp, type Informer, type ResourceStore } from "@navarch/store";
import { podFromTemplate, podName, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import type { Deleted, Expectations } from "../pod-ownership/expectations.js";
import { controllerRef, isActive } from "../pod-ownership/pod-state.js";
import { FailedCreate, FailedDelete, SuccessfulCreate, SuccessfulDelete } from "./reasons.js";
import { selectorOf, type Failure, type Plan } from "./reconcile.js";
import { matches } from "@navarch/api";

export interface ApplyDeps {
  pods: ResourceStore<Pod>;
  replicaSets: Informer<ReplicaSet>;
  expectations: Expectations;
  events: ObjectEventRecorder;
  logger: Logger;
  now: () => Date;
  /** Pod names' random part (tests may fix it). */
  suffix?: () => string;
  podDefaults: PodDefaults;
}

const DELETE_CONCURRENCY = 32;

export function ownerReferenceTo(rs: ReplicaSet): OwnerReference {
  return { apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.metadata!.name, uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true };
}

export function involved(rs: ReplicaSet): InvolvedObject {
  const m = rs.metadata!;
  return { kind: "ReplicaSet", apiVersion: "apps/v1", namespace: m.namespace, name: m.name, uid: m.uid };
}

/** A new pod of the replica set, from its template. */
export function replicaSetPod(rs: ReplicaSet, name: string, now: Date, defaults: PodDefaults): Pod {
  return podFromTemplate({ namespace: rs.metadata!.namespace, name, template: rs.spec?.template, owner: ownerReferenceTo(rs), now, defaults });
}

export interface PodsResult {
  created: number;
  deleted: number;
  failure?: Failure;
}

/** Claims, creates and deletes pods as planned. Throws ConflictError when a claim could not be made. */
export async function applyPods(rs: ReplicaSet, plan: Plan, deps: ApplyDeps): Promise<PodsResult> {
  const rsKey = deps.replicaSets.store.keyOf(rs);
  let revision = 0;
  const deletedPods: Deleted[] = [];
  const wrote = (p: Pod | undefined) => {
    if (p) revision = Math.max(revision, Number(p.metadata!.resourceVersion));
  };
  try {
    await claim(rs, plan, deps, wrote);
    const result: PodsResult = { created: 0, deleted: 0 };
    if (plan.create > 0) await create(rs, plan.create, deps, wrote, result);
    if (plan.delete.length > 0) await remove(rs, plan.delete, deps, wrote, deletedPods, result);
    return result;
  } finally {
    deps.expectations.expect(rsKey, revision, deletedPods);
  }
}

async function claim(rs: ReplicaSet, plan: Plan, deps: ApplyDeps, wrote: (p: Pod | undefined) => void): Promise<void> {
  if (plan.adopt.length === 0 && plan.release.length === 0) return;
  const uid = rs.metadata!.uid;
  const selector = selectorOf(rs);
  let refused = 0;
  if (plan.adopt.length > 0) {
    // Adopt only for a replica set that still exists as this uid and is not being deleted (the
    // cache may be behind a delete): read it from the store, as Kubernetes' RecheckDeletionTimestamp.
    const fresh = await deps.replicaSets.store.get(rs.metadata!.namespace, rs.metadata!.name);
    if (!fresh || fresh.metadata!.uid !== uid || fresh.metadata!.deletionTimestamp) {
      throw new ConflictError(`replicaset ${rs.metadata!.name} changed or is being deleted; not adopting pods`);
    }
  }
  const ns = rs.metadata!.namespace;
  await Promise.all([
    ...plan.adopt.map(async (pod) => {
      const stored = await deps.pods.modify(ns, pod.metadata!.name, (p) => {
        if (p.metadata!.uid !== pod.metadata!.uid || controllerRef(p) || !isActive(p)) return undefined;
        if (!selector || !matches(selector, p.metadata!.labels)) return undefined;
        p.metadata!.ownerReferences = [...(p.metadata!.ownerReferences ?? []), ownerReferenceTo(rs)];
        return p;
      }).catch(countRefusal);
      if (stored) wrote(stored);
      else refused++;
    }),
    ...plan.release.map(async (pod) => {
      const stored = await deps.pods.modify(ns, pod.metadata!.name, (p) => {
        if (p.metadata!.uid !== pod.metadata!.uid || controllerRef(p)?.uid !== uid) return undefined;
        if (selector && matches(selector, p.metadata!.labels)) return undefined;
        p.metadata!.ownerReferences = (p.metadata!.ownerReferences ?? []).filter((o) => o.uid !== uid);
        return p;
      }).catch(countRefusal);
      if (stored) wrote(stored);
      else refused++;
    }),
  ]);
  if (refused > 0) throw new ConflictError(`replicaset ${rs.metadata!.name}: ${refused} pod(s) changed while being claimed or released`);

  function countRefusal(err: unknown): undefined {
    if (err instanceof ConflictError || err instanceof NotFoundError) return undefined;
    throw err;
  }
}

async function create(rs: ReplicaSet, count: number, deps: ApplyDeps, wrote: (p: Pod | undefined) => void, result: PodsResult): Promise<void> {
  let left = count;
  for (let batch = 1; left > 0; batch *= 2) {
    const n = Math.min(batch, left);
    left -= n;
    const errors: unknown[] = [];
    await Promise.all(
      Array.from({ length: n }, async () => {
        const name = podName(rs.metadata!.name, deps.suffix);
        try {
          const pod = await deps.pods.create(replicaSetPod(rs, name, deps.now(), deps.podDefaults));
          wrote(pod);
          result.created++;
          deps.events.record(involved(rs), "Normal", SuccessfulCreate, `Created pod: ${name}`);
        } catch (err) {
          errors.push(err);
        }
      }),
    );
    if (errors.length > 0) {
      const first = errors[0] as Error;
      // A name taken by another pod is bad luck, not a broken template: the next pass tries again.
      if (!(first instanceof AlreadyExistsError)) {
        const message = `Error creating: ${first.message}`;
        result.failure = { reason: FailedCreate, message };
        deps.events.record(involved(rs), "Warning", FailedCreate, message);
      }
      deps.logger.warn({ replicaset: deps.replicaSets.store.keyOf(rs), failed: errors.length, skipped: left, err: String(first) }, "creating pods failed");
      return;
    }
  }
}

async function remove(
  rs: ReplicaSet,
  pods: Pod[],
  deps: ApplyDeps,
  wrote: (p: Pod | undefined) => void,
  deleted: Deleted[],
  result: PodsResult,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < pods.length) {
      const pod = pods[next++]!;
      const name = pod.metadata!.name;
      try {
        const gone = await deletePod(pod, deps, wrote);
        if (!gone) continue;
        deleted.push({ key: deps.pods.keyOf(pod), uid: pod.metadata!.uid });
        result.deleted++;
        deps.events.record(involved(rs), "Normal", SuccessfulDelete, `Deleted pod: ${name}`);
      } catch (err) {
        const message = `Error deleting: ${(err as Error).message}`;
        result.failure = { reason: FailedDelete, message };
        deps.events.record(involved(rs), "Warning", FailedDelete, message);
        deps.logger.warn({ pod: `${pod.metadata!.namespace}/${name}`, err: String(err) }, "deleting a pod failed");
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, pods.length) }, worker));
}

/**
 * Deletes one pod as the gateway does; true when it is gone or marked. On a stale revision it
 * retries once from the stored pod if that is still the same, live pod; false when it is not.
 */
async function deletePod(pod: Pod, deps: ApplyDeps, wrote: (p: Pod | undefined) => void): Promise<boolean> {
  const mark = (p: Pod): Pod => {
    const finished = p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
    const grace = p.spec?.nodeName && !finished ? (p.spec.terminationGracePeriodSeconds ?? 30) : 0;
    return { ...p, metadata: { ...p.metadata!, deletionTimestamp: timestamp(deps.now()), deletionGracePeriodSeconds: grace } };
  };
  try {
    // update() deletes at once what nothing holds (no node, no grace period, no finalizers).
    wrote(await deps.pods.update(mark(pod)));
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return true;
    if (!(err instanceof ConflictError)) throw err;
  }
  const fresh = await deps.pods.get(pod.metadata!.namespace, pod.metadata!.name);
  if (!fresh || fresh.metadata!.uid !== pod.metadata!.uid) return true;
  if (fresh.metadata!.deletionTimestamp) return true;
  if (!isActive(fresh)) return false;
  wrote(await deps.pods.update(mark(fresh)));
  return true;
}

/**
 * Writes the replica set's status (compare-and-swap on the revision the pass read) and waits
 * until the cache has it.
 */
export async function writeStatus(rs: ReplicaSet, status: ReplicaSetStatus, deps: Pick<ApplyDeps, "replicaSets">): Promise<void> {
  const stored = await deps.replicaSets.store.update({ ...rs, status });
  if (stored) await deps.replicaSets.waitForRevision(Number(stored.metadata!.resourceVersion), 2_000);
}
