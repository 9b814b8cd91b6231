// The scheduler's picture of the cluster: one NodeInfo per Node, with the requests, host ports,
// pod counts and owner counts of the pods on it. Fed by the Node and Pod informers, one event at a
// time, so scheduling one pod never looks at all pods.
//
// Assumed pods: when the scheduler picks a node it adds the pod to that node at once ("assume"),
// before its binding is written, so the next pods already see the room it takes. The assumption
// ends when the informer shows the pod bound (it becomes an ordinary bound pod: "confirmed") or
// when the binding failed ("forget"). A pod deleted meanwhile leaves the cache either way.
import { isTerminal, podInfoOf, type PodInfo } from "./pod-info.js";
import { NodeInfo, nodeFingerprint } from "./node-info.js";
import type { Node, Pod } from "@navarch/api";

interface PodEntry {
  info: PodInfo;
  node: string;
  assumed: boolean;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly fingerprints = new Map<string, string>();
  private list: NodeInfo[] = [];
  private readonly pods = new Map<string, PodEntry>();
  /** Pod keys per node name, also for nodes not (or no longer) known, so a late Node finds its pods. */
  private readonly byNode = new Map<string, Set<string>>();

  /** The nodes in a stable order (the order they were added): the scheduler's search rotates over it. */
  nodeList(): readonly NodeInfo[] {
    return this.list;
  }

  node(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  get podCount(): number {
    return this.pods.size;
  }

  /** Adds or updates a node; true when something scheduling reads changed (it may fit pods now). */
  setNode(node: Node): boolean {
    const name = node.metadata?.name ?? "";
    const print = nodeFingerprint(node);
    const info = this.nodes.get(name);
    if (info) {
      info.setNode(node);
      if (this.fingerprints.get(name) === print) return false;
      this.fingerprints.set(name, print);
      return true;
    }
    const fresh = new NodeInfo(node);
    for (const key of this.byNode.get(name) ?? []) fresh.addPod(this.pods.get(key)!.info);
    this.nodes.set(name, fresh);
    this.fingerprints.set(name, print);
    this.list.push(fresh);
    return true;
  }

  removeNode(name: string): void {
    const info = this.nodes.get(name);
    if (!info) return;
    this.nodes.delete(name);
    this.fingerprints.delete(name);
    this.list = this.list.filter((n) => n !== info);
  }

  /**
   * Follows the pod informer. Returns true when resources were freed on a node (a pod finished,
   * was deleted, or moved), which may make room for pending pods.
   */
  observePod(key: string, pod: Pod | undefined): boolean {
    const entry = this.pods.get(key);
    const nodeName = pod?.spec?.nodeName ?? "";
    if (!pod || isTerminal(pod) || (nodeName === "" && entry && !entry.assumed)) {
      if (!entry) return false;
      this.remove(key, entry);
      return true;
    }
    // Unbound while our binding is in flight: keep the assumption.
    if (nodeName === "") return false;
    if (entry && entry.node === nodeName && entry.info.uid === (pod.metadata?.uid ?? "")) {
      entry.assumed = false;
      return false;
    }
    let freed = false;
    if (entry) {
      this.remove(key, entry);
      freed = true;
    }
    this.add(key, { info: podInfoOf(pod), node: nodeName, assumed: false });
    return freed;
  }

  /** Counts the pod on `nodeName` while its binding is in flight. */
  assume(info: PodInfo, nodeName: string): void {
    const old = this.pods.get(info.key);
    if (old) this.remove(info.key, old);
    this.add(info.key, { info, node: nodeName, assumed: true });
  }

  /** The binding failed: the pod no longer takes room there (a bound pod is left alone). */
  forget(key: string): boolean {
    const entry = this.pods.get(key);
    if (!entry?.assumed) return false;
    this.remove(key, entry);
    return true;
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed ?? false;
  }

  /** The node the cache counts this pod on, if any. */
  nodeOf(key: string): string | undefined {
    return this.pods.get(key)?.node;
  }

  private add(key: string, entry: PodEntry): void {
    this.pods.set(key, entry);
    let keys = this.byNode.get(entry.node);
    if (!keys) this.byNode.set(entry.node, (keys = new Set()));
    keys.add(key);
    this.nodes.get(entry.node)?.addPod(entry.info);
  }

  private remove(key: string, entry: PodEntry): void {
    this.pods.delete(key);
    const keys = this.byNode.get(entry.node);
    keys?.delete(key);
    if (keys?.size === 0) this.byNode.delete(entry.node);
    this.nodes.get(entry.node)?.removePod(entry.info);
  }
}
