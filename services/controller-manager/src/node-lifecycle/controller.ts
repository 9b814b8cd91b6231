// Folds node heartbeats (Leases in navarch-node-lease) into the Node's Ready condition and its
// NoExecute taints, and looks again when a lease would expire, so a silent node turns Unknown
// (and tainted unreachable) without any event arriving.
//
// The write is compare-and-swap on the Node as the informer had it; a conflict requeues the key
// and the plan is made again from fresh state (the agent updates the same Node's labels and
// capacity). The Event is recorded only after the write succeeded.
import type { Event, Lease, Node } from "@navarch/api";
import { Controller, ObjectEventRecorder, silentLogger, watch, type Logger } from "@navarch/controller";
import { NODE_LEASE_NAMESPACE, type Informer, type ResourceStore } from "@navarch/store";
import { EVENT_COMPONENT } from "./reasons.js";
import { applyPlan, reconcile } from "./reconcile.js";

export interface NodeLifecycleOptions {
  nodes: Informer<Node>;
  leases: Informer<Lease>;
  /** Heartbeats older than this make a node Ready=Unknown. */
  gracePeriodMs: number;
  /** NodeReady / NodeNotReady events; none when absent. */
  events?: ResourceStore<Event>;
  logger?: Logger;
  now?: () => Date;
}

export function nodeLifecycleController(opts: NodeLifecycleOptions): Controller {
  const { nodes, leases } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const recorder = opts.events ? new ObjectEventRecorder({ store: opts.events, component: EVENT_COMPONENT, logger }) : undefined;
  const controller: Controller = new Controller({
    name: "node-lifecycle",
    watches: [
      watch(nodes, (e) => [e.key]),
      watch(leases, (e) => (e.object.metadata?.namespace === NODE_LEASE_NAMESPACE ? [e.object.metadata.name] : [])),
    ],
    keys: () => nodes.keys(),
    workers: 2,
    logger,
    sync: async (key) => {
      const node = nodes.getByKey(key);
      if (!node) return;
      const t = now();
      const plan = reconcile(node, leases.get(NODE_LEASE_NAMESPACE, key), t, opts.gracePeriodMs);
      if (plan.recheckAt) controller.queue.addAfter(key, Math.max(0, plan.recheckAt.getTime() - t.getTime()) + 10);
      if (!plan.condition && !plan.taints) return;
      const stored = await nodes.store.update(applyPlan(node, plan));
      // The next pass should see this write rather than conflict with it.
      if (stored) await nodes.waitForRevision(Number(stored.metadata!.resourceVersion), 2_000);
      if (plan.event) {
        const meta = node.metadata!;
        recorder?.record({ kind: "Node", apiVersion: "v1", namespace: "", name: meta.name, uid: meta.uid }, plan.event.type, plan.event.reason, plan.event.message);
      }
      logger.info(
        { node: key, ready: plan.condition?.status, reason: plan.condition?.reason, taints: plan.taints?.map((x) => `${x.key}:${x.effect}`) },
        plan.condition ? "node readiness changed" : "node taints changed",
      );
    },
  });
  return controller;
}
