// One pass's pod writes for one owner, every write a create or a compare-and-swap:
//   - adoptions and releases as claim-pods.ts makes them (re-read, re-checked, CAS; any refused
//     fails the pass before pods are created or deleted);
//   - creations in slow-start batches and deletions as the gateway deletes a pod
//     (controlled-pods.ts), each with its event (SuccessfulCreate / FailedCreate,
//     SuccessfulDelete / FailedDelete);
//   - what was written is remembered in the expectations when the pass ends - also when it
//     failed half way - so the next pass waits for the cache to show it instead of writing it
//     again.
// A kind's apply.ts calls the steps in the order its plan needs; the pods it creates are its own
// (random names for a ReplicaSet or Job, one per node for a DaemonSet, by ordinal for a
// StatefulSet), and an ordered owner hands over one pod at a time.
import { matches, type KubeObject, type Pod } from "@navarch/api";
import type { Logger, ObjectEventRecorder } from "@navarch/controller";
import type { Informer, ResourceStore } from "@navarch/store";
import { claimPods } from "./claim-pods.js";
import { createPods, deletePod, forEachLimited, isNameClash, type PodDefaults } from "./controlled-pods.js";
import type { Deleted, Expectations } from "./expectations.js";
import { involvedObject, ownerReference, type PodOwnerKind } from "./owner-kind.js";
import { FailedCreate, FailedDelete, SuccessfulCreate, SuccessfulDelete, type Failure } from "./reasons.js";

/** What a pod owner's passes read and write with (one per controller). */
export interface PodOwnerDeps<O extends KubeObject> {
  kind: PodOwnerKind<O>;
  owners: Informer<O>;
  pods: ResourceStore<Pod>;
  expectations: Expectations;
  events: ObjectEventRecorder;
  logger: Logger;
  now: () => Date;
  /** Pod names' random part (tests may fix it). */
  suffix?: () => string;
  podDefaults: PodDefaults;
}

export interface PodDeletion {
  pod: Pod;
  /** The pod's node is gone: no agent will finish a graceful deletion, so it goes at once. */
  nodeGone?: boolean;
}

export interface PodWritesResult {
  created: number;
  deleted: number;
  /** The last failed create or delete of the pass (a ReplicaSet's ReplicaFailure condition). */
  failure?: Failure;
}

const DELETE_CONCURRENCY = 32;

export class PodWriter<O extends KubeObject> {
  readonly result: PodWritesResult = { created: 0, deleted: 0 };
  private revision = 0;
  private readonly deleted: Deleted[] = [];
  private readonly key: string;

  constructor(
    private readonly owner: O,
    private readonly deps: PodOwnerDeps<O>,
  ) {
    this.key = deps.owners.store.keyOf(owner);
  }

  /** Every write's revision: the expectations wait for the highest. */
  private readonly wrote = (p: Pod): void => {
    this.revision = Math.max(this.revision, Number(p.metadata!.resourceVersion));
  };

  /** Adopts and releases pods by the kind's selector. Throws ConflictError when a claim could not be made. */
  claim(adopt: readonly Pod[], release: readonly Pod[]): Promise<void> {
    const { kind, owners } = this.deps;
    const meta = this.owner.metadata!;
    const selector = kind.selector?.(this.owner);
    return claimPods(
      {
        owner: meta,
        ownerRef: ownerReference(kind, this.owner),
        selects: (p) => !!selector && matches(selector, p.metadata?.labels),
        readOwner: () => owners.store.get(meta.namespace, meta.name),
        adopt,
        release,
      },
      this.deps.pods,
      this.wrote,
    );
  }

  /** Creates the pods in slow-start batches; a batch with a failure ends the creations of the pass. */
  async create(pods: readonly Pod[]): Promise<void> {
    const { events, logger, kind } = this.deps;
    const involved = involvedObject(kind, this.owner);
    const r = await createPods(this.deps.pods, pods, this.wrote);
    this.result.created += r.created.length;
    for (const p of r.created) events.record(involved, "Normal", SuccessfulCreate, `Created pod: ${p.metadata!.name}`);
    if (!r.error) return;
    if (!isNameClash(r.error)) {
      const message = `Error creating: ${r.error.message}`;
      this.result.failure = { reason: FailedCreate, message };
      events.record(involved, "Warning", FailedCreate, message);
    }
    logger.warn({ [kind.name]: this.key, skipped: r.skipped, err: String(r.error) }, "creating pods failed");
  }

  /**
   * Deletes the pods as the gateway does, at most DELETE_CONCURRENCY at once; a failure is an
   * event and does not stop the others. With leaveFinished, a pod found finished on a retry is
   * left alone (and not counted).
   */
  delete(deletions: readonly PodDeletion[], opts: { leaveFinished?: boolean } = {}): Promise<void> {
    const { events, logger, kind, pods } = this.deps;
    const involved = involvedObject(kind, this.owner);
    return forEachLimited(deletions, DELETE_CONCURRENCY, async ({ pod, nodeGone }) => {
      const name = pod.metadata!.name;
      try {
        if (!(await deletePod(pods, pod, { now: this.deps.now(), nodeGone, leaveFinished: opts.leaveFinished }, this.wrote))) return;
        this.deleted.push({ key: pods.keyOf(pod), uid: pod.metadata!.uid });
        this.result.deleted++;
        events.record(involved, "Normal", SuccessfulDelete, `Deleted pod: ${name}`);
      } catch (err) {
        const message = `Error deleting: ${(err as Error).message}`;
        this.result.failure = { reason: FailedDelete, message };
        events.record(involved, "Warning", FailedDelete, message);
        logger.warn({ [kind.name]: this.key, pod: name, err: String(err) }, "deleting a pod failed");
      }
    });
  }

  /** Remembers the pass's writes for the next pass (the expectations). */
  finish(): void {
    this.deps.expectations.expect(this.key, this.revision, this.deleted);
  }
}

/** Runs one pass's pod writes for `owner`; whatever they got done is in the expectations afterwards. */
export async function writePods<O extends KubeObject>(owner: O, deps: PodOwnerDeps<O>, steps: (w: PodWriter<O>) => Promise<void>): Promise<PodWritesResult> {
  const w = new PodWriter(owner, deps);
  try {
    await steps(w);
    return w.result;
  } finally {
    w.finish();
  }
}

/**
 * Writes the owner's status (compare-and-swap on the revision the pass read) and waits until the
 * cache has it: the next pass reads its own write instead of conflicting with it.
 */
export async function writeStatus<O extends KubeObject & { status?: unknown }>(owners: Informer<O>, owner: O, status: O["status"]): Promise<void> {
  const stored = await owners.store.update({ ...owner, status });
  if (stored) await owners.waitForRevision(Number(stored.metadata!.resourceVersion), 2_000);
}
