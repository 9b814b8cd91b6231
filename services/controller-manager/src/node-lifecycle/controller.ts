// Folds node heartbeats (Leases in navarch-node-lease) into the Node's Ready condition, and looks
// again when a lease would expire, so a silent node turns Unknown without any event.
import { KINDS, type Lease, type Node } from "@navarch/api";
import { Controller, silentLogger, watch, type Logger } from "@navarch/controller";
import { NODE_LEASE_NAMESPACE, type Informer } from "@navarch/store";
import { reconcile } from "./reconcile.js";

export interface NodeLifecycleOptions {
  nodes: Informer<Node>;
  leases: Informer<Lease>;
  /** Heartbeats older than this make a node Ready=Unknown. */
  gracePeriodMs: number;
  logger?: Logger;
  now?: () => Date;
}

export function nodeLifecycleController(opts: NodeLifecycleOptions): Controller {
  const { nodes, leases } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
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
      if (!plan.condition) return;
      const condition = plan.condition;
      await nodes.store.modify("", key, (n) => ({
        ...n,
        status: {
          ...(n.status ?? KINDS.Node.codec.fromPartial({ status: {} }).status!),
          conditions: [...(n.status?.conditions ?? []).filter((c) => c.type !== "Ready"), condition],
        } as Node["status"],
      }));
      logger.info({ node: key, ready: condition.status, reason: condition.reason }, "node readiness changed");
    },
  });
  return controller;
}
