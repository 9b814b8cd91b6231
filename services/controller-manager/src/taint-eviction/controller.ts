// The taint eviction controller (Kubernetes' NoExecute taint manager): pods bound to a node with
// a NoExecute taint they do not tolerate are evicted; a toleration with tolerationSeconds delays
// that, and the pod's key is queued again for the moment it runs out (queue.addAfter), so no
// timer state lives outside the work queue. See reconcile.ts for the rules.
import type { Event, Node, Pod, Taint } from "@navarch/api";
import { Controller, ObjectEventRecorder, silentLogger, type ControllerOptions, type Logger } from "@navarch/controller";
import type { Informer, ResourceStore } from "@navarch/store";
import { evict } from "./apply.js";
import { EVENT_COMPONENT, EVENT_TAINT_MANAGER_EVICTION, evictionMessage } from "./reasons.js";
import { reconcile } from "./reconcile.js";
import { PodsByNode, taintEvictionWatches } from "./watches.js";

export interface TaintEvictionOptions {
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  /** TaintManagerEviction events; none when absent. */
  events?: ResourceStore<Event>;
  workers?: number;
  logger?: Logger;
  now?: () => Date;
}

export function taintEvictionController(opts: TaintEvictionOptions): Controller {
  const { pods, nodes } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const index = new PodsByNode(pods);
  const recorder = opts.events ? new ObjectEventRecorder({ store: opts.events, component: EVENT_COMPONENT, logger }) : undefined;
  // Taints without timeAdded (set by hand) count from when this controller first saw them.
  const firstSeen = new Map<string, number>();
  const controller: Controller = new TaintEvictionController(index, {
    name: "taint-eviction",
    watches: taintEvictionWatches(pods, nodes, index),
    keys: () => pods.keys(),
    workers: opts.workers ?? 2,
    logger,
    sync: async (key) => {
      const pod = pods.getByKey(key);
      const node = pod?.spec?.nodeName ? nodes.get("", pod.spec.nodeName) : undefined;
      const t = now();
      const seen = (taint: Taint) => {
        const id = `${node!.metadata!.name}/${taint.key}:${taint.effect}`;
        if (!firstSeen.has(id)) firstSeen.set(id, t.getTime());
        return firstSeen.get(id)!;
      };
      const plan = reconcile(pod, node, t, seen);
      if (plan.type === "none") return;
      if (plan.type === "wait") {
        controller.queue.addAfter(key, plan.until.getTime() - t.getTime() + 10);
        return;
      }
      const meta = pod!.metadata!;
      const result = await evict(pods.store, pod!, plan.force, t);
      recorder?.record(
        { kind: "Pod", apiVersion: "v1", namespace: meta.namespace, name: meta.name, uid: meta.uid },
        "Normal",
        EVENT_TAINT_MANAGER_EVICTION,
        evictionMessage(meta.namespace, meta.name),
      );
      logger.info({ pod: key, node: pod!.spec!.nodeName, taint: plan.taint, force: plan.force, result }, "pod evicted from a tainted node");
    },
  });
  return controller;
}

/** The controller, plus the end of its pod index's subscription (a new term builds a new one). */
class TaintEvictionController extends Controller {
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
