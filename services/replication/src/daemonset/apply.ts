// Writes a daemon set's plan with pod-ownership/pod-writes.ts, every write compare-and-swap:
//   - adoptions and releases first (any refused fails the pass before pods are created or
//     deleted);
//   - creations in slow-start batches, each pod bound to its node: spec.nodeName is set here and
//     the scheduler leaves bound pods alone. That is deliberate: the placement was decided by
//     this controller (node selector, affinity, taints) for exactly this node, and a daemon pod
//     must run there - it is not a candidate for bin packing onto another node (Kubernetes before
//     1.12 bound daemon pods the same way);
//   - deletions as the gateway deletes a pod (graceful on a live node, at once on a gone one);
//   - what was written is remembered in the expectations before the pass ends, so the next pass
//     waits for the cache to show it instead of creating a second pod for the same node.
// The controller writes the status last.
import type { DaemonSet, Pod } from "@navarch/api";
import { podFromTemplate, podName, type PodDefaults } from "../pod-ownership/controlled-pods.js";
import { involvedObject, ownerReference } from "../pod-ownership/owner-kind.js";
import { writePods, type PodOwnerDeps, type PodWritesResult } from "../pod-ownership/pod-writes.js";
import { daemonTolerations } from "./nodes.js";
import { FailedDaemonPod } from "./reasons.js";
import { DAEMON_SET, REVISION_HASH_LABEL, templateHash, type Plan } from "./reconcile.js";

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
    owner: ownerReference(DAEMON_SET, ds),
    now,
    labels: { [REVISION_HASH_LABEL]: templateHash(ds) },
    spec: { nodeName: node, tolerations: daemonTolerations(template?.spec?.tolerations ?? []) },
    defaults,
  });
}

export function applyPlan(ds: DaemonSet, plan: Plan, deps: PodOwnerDeps<DaemonSet>): Promise<PodWritesResult> {
  return writePods(ds, deps, async (w) => {
    await w.claim(plan.adopt, plan.release);
    if (plan.create.length > 0) {
      const now = deps.now();
      await w.create(plan.create.map((node) => daemonPod(ds, node, podName(ds.metadata!.name, deps.suffix), now, deps.podDefaults)));
    }
    for (const { pod, reason } of plan.delete) {
      if (reason !== "Failed") continue;
      const where = `${pod.metadata!.namespace}/${pod.metadata!.name} on node ${pod.spec?.nodeName}`;
      deps.events.record(involvedObject(DAEMON_SET, ds), "Warning", FailedDaemonPod, `Found failed daemon pod ${where}, will try to kill it`);
    }
    await w.delete(plan.delete);
  });
}
