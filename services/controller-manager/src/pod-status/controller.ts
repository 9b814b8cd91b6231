// The pod status folder: the one writer of Pod.status for bound pods. Node agents report what they
// observe into navarch-pod-status; this folds each report into the Pod with compare-and-swap.
import type { Pod } from "@navarch/api";
import { Controller, silentLogger, watch, type Logger } from "@navarch/controller";
import type { Informer, ResourceStore } from "@navarch/store";
import { reconcile } from "./reconcile.js";

export interface PodStatusFolderOptions {
  pods: Informer<Pod>;
  reports: Informer<Pod>;
  workers?: number;
  logger?: Logger;
}

export function podStatusFolder(opts: PodStatusFolderOptions): Controller {
  const { pods, reports } = opts;
  const logger = opts.logger ?? silentLogger;
  const podStore: ResourceStore<Pod> = pods.store;
  return new Controller({
    name: "pod-status",
    // Both buckets use <namespace>.<name> keys. Of the pod events only creation (a report may be
    // waiting for it) and deletion (its report goes) matter; status writes are our own.
    watches: [watch(reports, (e) => [e.key]), watch(pods, (e) => (e.type === "MODIFIED" ? [] : [e.key]))],
    keys: () => reports.keys(),
    workers: opts.workers ?? 4,
    logger,
    sync: async (key) => {
      const decision = reconcile(pods.getByKey(key), reports.getByKey(key));
      switch (decision.type) {
        case "none":
          return;
        case "dropReport": {
          const report = reports.getByKey(key)!;
          await reports.store.delete(report.metadata!.namespace, report.metadata!.name, Number(report.metadata!.resourceVersion));
          return;
        }
        case "fold": {
          const pod = pods.getByKey(key)!;
          // CAS on the revision we decided from; a conflict requeues and we decide again.
          await podStore.update({ ...pod, status: decision.status });
          logger.debug({ pod: key, phase: decision.status.phase }, "pod status folded");
        }
      }
    },
  });
}
