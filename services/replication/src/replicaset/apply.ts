// Writes a replica set's plan, every write compare-and-swap:
//   - adoptions and releases as pod-ownership/claim-pods.ts makes them (re-read, re-checked, CAS;
//     any refused fails the pass before pods are created or deleted);
//   - creations in slow-start batches and deletions as the gateway deletes a pod
//     (pod-ownership/controlled-pods.ts); a stale revision is retried once from the stored pod
//     when that is still the same live pod;
//   - what was written is remembered in the expectations before the pass ends;
//   - the status last, when it changed, and the pass waits until the replica set cache has it
//     (the next pass reads its own write instead of conflicting with it).
import { matches, type OwnerReference, type Pod, type ReplicaSet, type ReplicaSetStatus } from "@navarch/api";
import type { InvolvedObject, Logger, ObjectEventRecorder } from "@navarch/controller";
import type { Informer, ResourceStore } from "@navarch/store";
import { claimPods } from "../pod-ownership/claim-pods.js";
import { controllerReference, createPods, deletePod, forEachLimited, isNameClash, podFromTemplate, podName, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import type { Deleted, Expectations } from "../pod-ownership/expectations.js";
import { FailedCreate, FailedDelete, SuccessfulCreate, SuccessfulDelete } from "./reasons.js";
import { selectorOf, type Failure, type Plan } from "./reconcile.js";

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
  return controllerReference("apps/v1", "ReplicaSet", rs.metadata!);
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
  const wrote = (p: Pod) => {
    revision = Math.max(revision, Number(p.metadata!.resourceVersion));
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

function claim(rs: ReplicaSet, plan: Plan, deps: ApplyDeps, wrote: (p: Pod) => void): Promise<void> {
  const selector = selectorOf(rs);
  return claimPods(
    {
      owner: rs.metadata!,
      ownerRef: ownerReferenceTo(rs),
      selects: (p) => !!selector && matches(selector, p.metadata!.labels),
      readOwner: () => deps.replicaSets.store.get(rs.metadata!.namespace, rs.metadata!.name),
      adopt: plan.adopt,
      release: plan.release,
    },
    deps.pods,
    wrote,
  );
}

async function create(rs: ReplicaSet, count: number, deps: ApplyDeps, wrote: (p: Pod) => void, result: PodsResult): Promise<void> {
  const now = deps.now();
  const pods = Array.from({ length: count }, () => replicaSetPod(rs, podName(rs.metadata!.name, deps.suffix), now, deps.podDefaults));
  const r = await createPods(deps.pods, pods, wrote);
  result.created = r.created.length;
  for (const p of r.created) deps.events.record(involved(rs), "Normal", SuccessfulCreate, `Created pod: ${p.metadata!.name}`);
  if (r.error) {
    if (!isNameClash(r.error)) {
      const message = `Error creating: ${r.error.message}`;
      result.failure = { reason: FailedCreate, message };
      deps.events.record(involved(rs), "Warning", FailedCreate, message);
    }
    deps.logger.warn({ replicaset: deps.replicaSets.store.keyOf(rs), skipped: r.skipped, err: String(r.error) }, "creating pods failed");
  }
}

function remove(rs: ReplicaSet, pods: Pod[], deps: ApplyDeps, wrote: (p: Pod) => void, deleted: Deleted[], result: PodsResult): Promise<void> {
  return forEachLimited(pods, DELETE_CONCURRENCY, async (pod) => {
    const name = pod.metadata!.name;
    try {
      // A pod found finished on a retry is not deleted: it no longer counts as a replica anyway.
      if (!(await deletePod(deps.pods, pod, { now: deps.now(), leaveFinished: true }, wrote))) return;
      deleted.push({ key: deps.pods.keyOf(pod), uid: pod.metadata!.uid });
      result.deleted++;
      deps.events.record(involved(rs), "Normal", SuccessfulDelete, `Deleted pod: ${name}`);
    } catch (err) {
      const message = `Error deleting: ${(err as Error).message}`;
      result.failure = { reason: FailedDelete, message };
      deps.events.record(involved(rs), "Warning", FailedDelete, message);
      deps.logger.warn({ pod: `${pod.metadata!.namespace}/${name}`, err: String(err) }, "deleting a pod failed");
    }
  });
}

/**
 * Writes the replica set's status (compare-and-swap on the revision the pass read) and waits
 * until the cache has it.
 */
export async function writeStatus(rs: ReplicaSet, status: ReplicaSetStatus, deps: Pick<ApplyDeps, "replicaSets">): Promise<void> {
  const stored = await deps.replicaSets.store.update({ ...rs, status });
  if (stored) await deps.replicaSets.waitForRevision(Number(stored.metadata!.resourceVersion), 2_000);
}
