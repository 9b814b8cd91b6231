// One node as the scheduler sees it: the facts of its Node object, parsed once per change, plus
// what the pods on it (bound, or assumed while their binding is in flight) add up to. The cache
// (cache.ts) keeps these sums current from the pod informer, so a check never walks a node's pods.
import { bytesOf, milliCpu, type Node, type Taint } from "@navarch/api";
import type { PodInfo } from "./pod-info.js";

export class NodeInfo {
  readonly name: string;
  node!: Node;
  allocatableMilliCpu = 0;
  allocatableMemory = 0;
  allocatablePods = 0;
  /** The Ready condition's status: "True", "False" or "Unknown" (no condition yet). */
  ready = "Unknown";
  unschedulable = false;
  taints: Taint[] = [];
  labels: Record<string, string> = {};

  requestedMilliCpu = 0;
  requestedMemory = 0;
  nonZeroMilliCpu = 0;
  nonZeroMemory = 0;
  podCount = 0;
  /** "<protocol>/<hostPort>" -> pods using it. */
  readonly usedPorts = new Map<string, number>();
  /** Controller owner uid -> pods of that owner here. */
  readonly ownerCounts = new Map<string, number>();

  constructor(node: Node) {
    this.name = node.metadata?.name ?? "";
    this.setNode(node);
  }

  /** Takes the Node's new facts; the pod sums stay. */
  setNode(node: Node): void {
    this.node = node;
    const alloc = node.status?.allocatable ?? {};
    this.allocatableMilliCpu = parse(alloc.cpu, milliCpu);
    this.allocatableMemory = parse(alloc.memory, bytesOf);
    this.allocatablePods = parse(alloc.pods, bytesOf);
    this.ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status || "Unknown";
    this.unschedulable = node.spec?.unschedulable ?? false;
    this.taints = node.spec?.taints ?? [];
    this.labels = node.metadata?.labels ?? {};
  }

  addPod(pod: PodInfo): void {
    this.apply(pod, 1);
  }

  removePod(pod: PodInfo): void {
    this.apply(pod, -1);
  }

  private apply(pod: PodInfo, sign: 1 | -1): void {
    this.requestedMilliCpu += sign * pod.milliCpu;
    this.requestedMemory += sign * pod.memory;
    this.nonZeroMilliCpu += sign * pod.nonZeroMilliCpu;
    this.nonZeroMemory += sign * pod.nonZeroMemory;
    this.podCount += sign;
    for (const port of pod.hostPorts) bump(this.usedPorts, port, sign);
    if (pod.ownerUid) bump(this.ownerCounts, pod.ownerUid, sign);
  }
}

/** A stable string of what scheduling reads of a Node: equal strings, nothing to reconsider. */
export function nodeFingerprint(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "";
  return JSON.stringify([node.status?.allocatable ?? {}, ready, node.spec?.unschedulable ?? false, node.spec?.taints ?? [], node.metadata?.labels ?? {}]);
}

function parse(text: string | undefined, unit: (t: string) => number): number {
  if (!text) return 0;
  try {
    return unit(text);
  } catch {
    return 0;
  }
}

function bump(m: Map<string, number>, key: string, by: number): void {
  const n = (m.get(key) ?? 0) + by;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
}
