// Writes a namespace plan, every write compare-and-swap on the revision the plan was made from:
// objects go through requestDeletion() (finalizer-aware) in their kind's store, a bounded number
// at once; the namespace's own writes are threaded (each write's new revision is the next one's
// expected revision). A lost race anywhere fails the whole pass with ConflictError after the rest
// of the deletions were tried, so the runtime requeues the key and the next pass starts from fresh
// state. Any other failure stops the pass at once (NATS trouble would only repeat).
import { ConflictError, NotFoundError, type KubeObject, type Namespace } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import { requestDeletion, type Informer, type ResourceStore } from "@navarch/store";
import { ContentDeletionFailed, NamespaceDeletionContentFailure } from "./reasons.js";
import type { Plan, Step } from "./reconcile.js";
import type { NamespaceInformers } from "./watches.js";

export interface ApplyDeps {
  informers: NamespaceInformers;
  now: () => Date;
  logger: Logger;
  /** Deletions in flight at once. */
  concurrency?: number;
}

export interface ApplyResult {
  deleted: number;
  marked: number;
  namespaceDeleted: boolean;
}

type DeleteStep = Extract<Step, { type: "deleteObject" }>;

export async function apply(namespace: Namespace, plan: Plan, deps: ApplyDeps): Promise<ApplyResult> {
  const nsStore = deps.informers.namespaces.store;
  const name = namespace.metadata!.name;
  const result: ApplyResult = { deleted: 0, marked: 0, namespaceDeleted: false };
  const written = new Map<Informer<any>, number>();
  let ns = namespace;
  let conflicts = 0;
  let deletionsDone = false;
  let deleted = false;

  for (const step of plan) {
    switch (step.type) {
      case "setPhase":
        ns = (await nsStore.update({ ...ns, status: { ...ns.status!, phase: step.phase, conditions: step.conditions } }))!;
        written.set(deps.informers.namespaces, Number(ns.metadata!.resourceVersion));
        break;
      case "deleteObject":
        if (deletionsDone) break;
        deletionsDone = true;
        conflicts += await deleteAll(plan.filter((s): s is DeleteStep => s.type === "deleteObject"), deps, result, written);
        break;
      case "waitFor":
        deps.logger.debug({ namespace: name, objects: step.objects, finalizers: step.finalizers }, "waiting for finalizers of remaining content");
        break;
      case "removeFinalizer": {
        // Removing the last finalizer of a terminating namespace deletes it (the store does).
        const updated = await nsStore.update({
          ...ns,
          spec: { ...ns.spec!, finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== step.finalizer) },
        });
        if (updated) {
          ns = updated;
          written.set(deps.informers.namespaces, Number(ns.metadata!.resourceVersion));
        } else {
          result.namespaceDeleted = true;
          deleted = true;
          deps.logger.info({ namespace: name }, "namespace deleted");
        }
        break;
      }
      case "deleteNamespace":
        if (deleted) break;
        // The revision we last wrote, or the one the plan saw.
        await nsStore.delete("", name, Number(ns.metadata!.resourceVersion));
        result.namespaceDeleted = true;
        deleted = true;
        deps.logger.info({ namespace: name }, "namespace deleted");
        break;
    }
  }
  // The next pass of this key should see our own writes rather than conflict with them.
  await Promise.all([
    ...[...written].map(([informer, rev]) => informer.waitForRevision(rev, 2_000)),
    deleted ? untilGone(deps.informers.namespaces, nsStore.keyOf(namespace), 2_000) : undefined,
  ]);
  if (conflicts > 0) throw new ConflictError(`namespace ${name}: ${conflicts} objects changed while being deleted`);
  return result;
}

async function deleteAll(steps: DeleteStep[], deps: ApplyDeps, result: ApplyResult, written: Map<Informer<any>, number>): Promise<number> {
  const byKind = new Map(deps.informers.contents.map((i) => [i.store.info.kind, i]));
  let conflicts = 0;
  let failure: unknown;
  let next = 0;
  const worker = async () => {
    while (failure === undefined && next < steps.length) {
      const step = steps[next++]!;
      const informer = byKind.get(step.kind);
      const obj = informer?.get(step.namespace, step.name);
      if (!informer || !obj) continue; // gone already
      if (obj.metadata!.resourceVersion !== step.resourceVersion) {
        conflicts++;
        continue;
      }
      try {
        const r = await requestDeletion(informer.store as ResourceStore<KubeObject>, obj, deps.now());
        if (r.deleted) result.deleted++;
        else {
          result.marked++;
          const rev = Number(r.object.metadata!.resourceVersion);
          written.set(informer, Math.max(written.get(informer) ?? 0, rev));
        }
      } catch (err) {
        if (err instanceof ConflictError) conflicts++;
        else if (!(err instanceof NotFoundError)) {
          failure ??= err;
          deps.logger.warn(
            { namespace: step.namespace, kind: step.kind, name: step.name, condition: NamespaceDeletionContentFailure, reason: ContentDeletionFailed, err: String(err) },
            "deleting namespace content failed",
          );
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 16, steps.length) }, worker));
  if (failure !== undefined) throw failure;
  return conflicts;
}

/** Resolves once the informer no longer has `key` (a delete has no revision to wait for), or after timeoutMs. */
function untilGone(informer: Informer<any>, key: string, timeoutMs: number): Promise<void> {
  if (!informer.getByKey(key)) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    const unsubscribe = informer.onEvent((e) => {
      if (e.key === key && e.type === "DELETED") finish();
    });
  });
}
