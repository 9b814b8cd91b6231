// The pod status folder: the one writer of Pod.status for bound pods. Node agents report what they
// observe into navarch-pod-status; this folds each report into the Pod with compare-and-swap, and
// while a pod's Node is not ready it folds the report with Ready=False (reconcile.ts).
import type { Event, Node, Pod } from "@navarch/api";
import { Controller, ObjectEventRecorder, silentLogger, watch, type ControllerOptions, type Logger } from "@navarch/controller";
import type { Informer, ResourceStore, StoreEvent } from "@navarch/store";
import { PodsByNode } from "../taint-eviction/watches.js";
import { EVENT_COMPONENT, MESSAGE_NODE_NOT_READY, REASON_NODE_NOT_READY } from "./reasons.js";
import { decodeReport, type RawReport } from "./raw-reports.js";
import { nodeNotReady, reconcile } from "./reconcile.js";

export interface PodStatusFolderOptions {
  pods: Informer<Pod>;
  /** navarch-pod-status through rawReports (raw-reports.ts). */
  reports: Informer<RawReport>;
  nodes: Informer<Node>;
  /** NodeNotReady events on pods; none when absent. */
  events?: ResourceStore<Event>;
  workers?: number;
  logger?: Logger;
  now?: () => Date;
}

export function podStatusFolder(opts: PodStatusFolderOptions): Controller {
  const { pods, reports, nodes } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const podStore: ResourceStore<Pod> = pods.store;
  const recorder = opts.events ? new ObjectEventRecorder({ store: opts.events, component: EVENT_COMPONENT, logger }) : undefined;
  // Pods by node, kept from the pod informer's events: a node turning (not) ready queues its own
  // pods and never scans the cluster.
  const index = new PodsByNode(pods);
  return new PodStatusFolder(index, {
    name: "pod-status",
    // Both buckets use <namespace>.<name> keys. Of the pod events only creation (a report may be
    // waiting for it) and deletion (its report goes) matter; status writes are our own. Of the
    // node events only a change of "ready or not" matters: heartbeats, labels and taints queue nothing.
    watches: [
      watch(reports, (e) => [e.key]),
      watch(pods, (e) => (e.type === "MODIFIED" ? [] : [e.key])),
      watch(nodes, (e: StoreEvent<Node>) => {
        const after = e.type === "DELETED" ? undefined : e.object;
        return nodeNotReady(after) === nodeNotReady(e.old) ? [] : index.podsOn(e.object.metadata!.name);
      }),
    ],
    keys: () => reports.keys(),
    workers: opts.workers ?? 4,
    logger,
    sync: async (key) => {
      const pod = pods.getByKey(key);
      const nodeName = pod?.spec?.nodeName;
      const raw = reports.getByKey(key);
      const report = raw ? decodeReport(reports.store, raw) : undefined;
      const decision = reconcile(pod, report, nodeName ? nodes.get("", nodeName) : undefined, now());
      switch (decision.type) {
        case "none":
          return;
        case "dropReport": {
          const meta = raw!.metadata!;
          await reports.store.delete(meta.namespace, meta.name, Number(meta.resourceVersion));
          return;
        }
        case "fold": {
          // CAS on the revision we decided from; a conflict requeues and we decide again.
          await podStore.update({ ...pod!, status: decision.status });
          logger.debug({ pod: key, phase: decision.status.phase }, "pod status folded");
          if (decision.markedNotReady) {
            const meta = pod!.metadata!;
            logger.info({ pod: key, node: nodeName }, "pod marked not ready: its node is not ready");
            recorder?.record({ kind: "Pod", apiVersion: "v1", namespace: meta.namespace, name: meta.name, uid: meta.uid }, "Warning", REASON_NODE_NOT_READY, MESSAGE_NODE_NOT_READY);
          }
        }
      }
    },
  });
}

/** The controller, plus the end of its pod index's subscription (a new term builds a new one). */
class PodStatusFolder extends Controller {
  constructor(
    private readonly index: PodsByNode,
    opts: ControllerOptions,
  ) {
    super(opts);
  }

  override async stop(): Promise<void> {
    this.index.stop();
    await super.stop();
  }
}
