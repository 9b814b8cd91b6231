// Builders for the scheduler's tests: Nodes and Pods with only what a test cares about.
import { KINDS, type Node, type Pod, type Taint, type Toleration } from "@navarch/api";
import { NodeInfo } from "./node-info.js";
import { podInfoOf, type PodInfo } from "./pod-info.js";

export interface NodeShape {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Partial<Taint>[];
  ready?: "True" | "False" | "Unknown" | "";
  unschedulable?: boolean;
}

export function makeNode(name: string, s: NodeShape = {}): Node {
  return KINDS.Node.codec.fromPartial({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...s.labels } },
    spec: { unschedulable: s.unschedulable ?? false, taints: (s.taints ?? []).map((t) => ({ key: "", value: "", effect: "NoSchedule", ...t })) },
    status: {
      allocatable: { cpu: s.cpu ?? "4", memory: s.memory ?? "8Gi", pods: s.pods ?? "110" },
      capacity: { cpu: s.cpu ?? "4", memory: s.memory ?? "8Gi", pods: s.pods ?? "110" },
      conditions: s.ready === "" ? [] : [{ type: "Ready", status: s.ready ?? "True" }],
    },
  });
}

export function nodeInfo(name: string, s: NodeShape = {}, podsOnIt: PodInfo[] = []): NodeInfo {
  const n = new NodeInfo(makeNode(name, s));
  for (const p of podsOnIt) n.addPod(p);
  return n;
}

export interface PodShape {
  namespace?: string;
  uid?: string;
  node?: string;
  cpu?: string;
  memory?: string;
  limitsOnly?: boolean;
  hostPorts?: number[];
  owner?: string;
  tolerations?: Partial<Toleration>[];
  nodeSelector?: Record<string, string>;
  affinity?: Record<string, unknown>;
  schedulerName?: string;
  phase?: string;
  priority?: number;
  initCpu?: string;
}

export function makePod(name: string, s: PodShape = {}): Pod {
  const resources: Record<string, Record<string, string>> = { requests: {}, limits: {} };
  const into = s.limitsOnly ? resources.limits! : resources.requests!;
  if (s.cpu) into.cpu = s.cpu;
  if (s.memory) into.memory = s.memory;
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: s.namespace ?? "default",
      uid: s.uid ?? `uid-${name}`,
      ownerReferences: s.owner ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: s.owner, uid: `uid-${s.owner}`, controller: true }] : [],
    },
    spec: {
      nodeName: s.node ?? "",
      schedulerName: s.schedulerName ?? "",
      priority: s.priority,
      containers: [{ name: "c", image: "navarch/pause:1", resources, ports: (s.hostPorts ?? []).map((p) => ({ containerPort: p, hostPort: p, protocol: "TCP" })) }],
      initContainers: s.initCpu ? [{ name: "init", image: "navarch/pause:1", resources: { requests: { cpu: s.initCpu } } }] : [],
      tolerations: (s.tolerations ?? []).map((t) => ({ key: "", operator: "", value: "", effect: "", ...t })),
      nodeSelector: s.nodeSelector ?? {},
      affinity: s.affinity as never,
    },
    status: { phase: s.phase ?? "Pending" },
  });
}

export function podInfo(name: string, s: PodShape = {}): PodInfo {
  return podInfoOf(makePod(name, s));
}
