// What the taint eviction controller watches. Its keys are pods (<namespace>.<name>):
//   - a pod event queues that pod (bound, rebound, tolerations changed);
//   - a node event queues the pods bound to that node, but only when the node's NoExecute taints
//     changed - heartbeats and status updates of a node cost one comparison and queue nothing.
// Pods are found by node through an index kept from the pod informer's events, so a node's
// change touches its own pods and never scans the cluster.
import type { Node, Pod } from "@navarch/api";
import { watch, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { sameData } from "../same-data.js";
import { NO_EXECUTE } from "./reasons.js";

export class PodsByNode {
  private readonly byNode = new Map<string, Set<string>>();
  private readonly nodeOf = new Map<string, string>();
  readonly stop: () => void;

  constructor(pods: Informer<Pod>) {
    // Subscribe, then list: events are delivered synchronously, so nothing falls in between.
    this.stop = pods.onEvent((e) => this.onEvent(e));
    for (const key of pods.keys()) this.set(key, pods.getByKey(key)?.spec?.nodeName ?? "");
  }

  podsOn(node: string): string[] {
    return [...(this.byNode.get(node) ?? [])];
  }

  private onEvent(e: StoreEvent<Pod>): void {
    this.set(e.key, e.type === "DELETED" ? "" : (e.object.spec?.nodeName ?? ""));
  }

  private set(key: string, node: string): void {
    const before = this.nodeOf.get(key);
    if (before === node) return;
    if (before !== undefined) {
      const set = this.byNode.get(before)!;
      set.delete(key);
      if (set.size === 0) this.byNode.delete(before);
    }
    if (node === "") {
      this.nodeOf.delete(key);
      return;
    }
    this.nodeOf.set(key, node);
    let set = this.byNode.get(node);
    if (!set) this.byNode.set(node, (set = new Set()));
    set.add(key);
  }
}

function sameSpecAndDeletion(a: Pod, b: Pod): boolean {
  return a.metadata?.deletionTimestamp === b.metadata?.deletionTimestamp && sameData(a.spec, b.spec);
}

/** The NoExecute taints of a node as one comparable string. */
export function noExecuteTaints(node: Node | undefined): string {
  return JSON.stringify((node?.spec?.taints ?? []).filter((t) => t.effect === NO_EXECUTE).map((t) => [t.key, t.value, t.timeAdded]));
}

export function taintEvictionWatches(pods: Informer<Pod>, nodes: Informer<Node>, index: PodsByNode): Watch[] {
  return [
    // Eviction depends on the pod's spec (node, tolerations) and deletion, never on its status:
    // a status write (the folder's, one or more per pod) queues nothing.
    watch(pods, (e) => (e.type === "DELETED" || (e.type === "MODIFIED" && e.old && sameSpecAndDeletion(e.old, e.object)) ? [] : [e.key])),
    watch(nodes, (e: StoreEvent<Node>) => {
      if (e.type === "DELETED" || noExecuteTaints(e.object) === noExecuteTaints(e.old)) return [];
      return index.podsOn(e.object.metadata!.name);
    }),
  ];
}
