// Writes a daemon set's plan, every write compare-and-swap:
//   - adoptions and releases as pod-ownership/claim-pods.ts makes them (re-read, re-checked, CAS;
//     any refused fails the pass before pods are created or deleted);
//   - creations in slow-start batches, each pod bound to its node: spec.nodeName is set here and
//     the scheduler leaves bound pods alone. That is deliberate: the placement was decided by
//     this controller (node selector, affinity, taints) for exactly this node, and a daemon pod
//     must run there - it is not a candidate for bin packing onto another node (Kubernetes before
//     1.12 bound daemon pods the same way);
//   - deletions as the gateway deletes a pod (graceful on a live node, at once on a gone one);
//   - what was written is remembered in the expectations before the pass ends, so the next pass
//     waits for the cache to show it instead of creating a second pod for the same node;
//   - the status last, when it changed, and the pass waits until the cache has it.
import { fromLabelSelector, matches, type DaemonSet, type DaemonSetStatus, type Pod } from "@navarch/api";
import type { InvolvedObject, Logger, ObjectEventRecorder } from "@navarch/controller";
import type { Informer, ResourceStore } from "@navarch/store";
import { controllerReference, createPods, deletePod, forEachLimited, isNameClash, podFromTemplate, podName, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import type { Deleted, Expectations } from "../pod-ownership/expectations.js";
import { claimPods } from "../pod-ownership/claim-pods.js";
import { daemonTolerations } from "./nodes.js";
import { FailedCreate, FailedDaemonPod, FailedDelete, SuccessfulCreate, SuccessfulDelete } from "./reasons.js";
import { REVISION_HASH_LABEL, templateHash, type Plan } from "./reconcile.js";

export interface ApplyDeps {
  pods: ResourceStore<Pod>;
  daemonSets: Informer<DaemonSet>;
  expectations: Expectations;
  events: ObjectEventRecorder;
  logger: Logger;
  now: () => Date;
  suffix?: () => string;
  podDefaults: PodDefaults;
}

const DELETE_CONCURRENCY = 32;

export function involved(ds: DaemonSet): InvolvedObject {
  const m = ds.metadata!;
  return { kind: "DaemonSet", apiVersion: "apps/v1", namespace: m.namespace, name: m.name, uid: m.uid };
}

/**
 * The daemon pod for one node. Its own NoExecute tolerations of not-ready and unreachable (no
 * seconds: it stays for ever) are in place before podFromTemplate's defaults, which therefore add
 * none with seconds.
 */
export function daemonPod(ds: DaemonSet, node: string, name: string, now: Date, defaults: PodDefaults): Pod {
  const template = ds.spec?.template;
  return podFromTemplate({
    namespace: ds.metadata!.namespace,
    name,
    template,
    owner: controllerReference("apps/v1", "DaemonSet", ds.metadata!),
    now,
    labels: { [REVISION_HASH_LABEL]: templateHash(ds) },
    spec: { nodeName: node, tolerations: daemonTolerations(template?.spec?.tolerations ?? []) },
    defaults,
  });
}

export interface ApplyResult {
  created: number;
  deleted: number;
}

export async function applyPlan(ds: DaemonSet, plan: Plan, deps: ApplyDeps): Promise<ApplyResult> {
  const key = deps.daemonSets.store.keyOf(ds);
  const result: ApplyResult = { created: 0, deleted: 0 };
  let revision = 0;
  const deleted: Deleted[] = [];
  const wrote = (p: Pod) => {
    revision = Math.max(revision, Number(p.metadata!.resourceVersion));
  };
  try {
    await claim(ds, plan, deps, wrote);
    if (plan.create.length > 0) {
      const now = deps.now();
      const pods = plan.create.map((node) => daemonPod(ds, node, podName(ds.metadata!.name, deps.suffix), now, deps.podDefaults));
      const r = await createPods(deps.pods, pods, wrote);
      result.created = r.created.length;
      for (const p of r.created) deps.events.record(involved(ds), "Normal", SuccessfulCreate, `Created pod: ${p.metadata!.name}`);
      if (r.error) {
        if (!isNameClash(r.error)) deps.events.record(involved(ds), "Warning", FailedCreate, `Error creating: ${r.error.message}`);
        deps.logger.warn({ daemonset: key, skipped: r.skipped, err: String(r.error) }, "creating daemon pods failed");
      }
    }
    await forEachLimited(plan.delete, DELETE_CONCURRENCY, async ({ pod, reason, nodeGone }) => {
      const name = pod.metadata!.name;
      if (reason === "Failed") {
        deps.events.record(involved(ds), "Warning", FailedDaemonPod, `Found failed daemon pod ${pod.metadata!.namespace}/${name} on node ${pod.spec?.nodeName}, will try to kill it`);
      }
      try {
        await deletePod(deps.pods, pod, { now: deps.now(), nodeGone }, wrote);
        deleted.push({ key: deps.pods.keyOf(pod), uid: pod.metadata!.uid });
        result.deleted++;
        deps.events.record(involved(ds), "Normal", SuccessfulDelete, `Deleted pod: ${name}`);
      } catch (err) {
        deps.events.record(involved(ds), "Warning", FailedDelete, `Error deleting: ${(err as Error).message}`);
        deps.logger.warn({ daemonset: key, pod: name, err: String(err) }, "deleting a daemon pod failed");
      }
    });
    return result;
  } finally {
    deps.expectations.expect(key, revision, deleted);
  }
}

function claim(ds: DaemonSet, plan: Plan, deps: ApplyDeps, wrote: (p: Pod) => void): Promise<void> {
  const selector = ds.spec?.selector ? fromLabelSelector(ds.spec.selector) : [];
  return claimPods(
    {
      owner: ds.metadata!,
      ownerRef: controllerReference("apps/v1", "DaemonSet", ds.metadata!),
      selects: (p) => selector.length > 0 && matches(selector, p.metadata?.labels),
      readOwner: () => deps.daemonSets.store.get(ds.metadata!.namespace, ds.metadata!.name),
      adopt: plan.adopt,
      release: plan.release,
    },
    deps.pods,
    wrote,
  );
}

/** Writes the status (compare-and-swap on the revision the pass read) and waits until the cache has it. */
export async function writeStatus(ds: DaemonSet, status: DaemonSetStatus, deps: Pick<ApplyDeps, "daemonSets">): Promise<void> {
  const stored = await deps.daemonSets.store.update({ ...ds, status });
  if (stored) await deps.daemonSets.waitForRevision(Number(stored.metadata!.resourceVersion), 2_000);
}
