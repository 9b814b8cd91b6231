// Node registration: the Node object named after this node, created if missing, and updated when
// what the agent knows about the node (labels, capacity, addresses, software) differs from what is
// stored. Everything else is kept as other writers left it - status.conditions belong to the
// control plane's node lifecycle controller (except the agent's own types, node/conditions.ts),
// spec.unschedulable to the operator, and taints set on the command line are added at
// registration (as kubelet's --register-with-taints) but never removed, so a taint the control plane adds (unreachable, not-ready) survives our updates.
//
// Every write is compare-and-swap; a conflict re-reads and tries again (one writer per fact).
import { AlreadyExistsError, ConflictError, KINDS, bytesOf, milliCpu, type Node, type Taint } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import type { RuntimeInfo } from "@navarch/runtime";
import { timestamp, type ResourceStore } from "@navarch/store";
import { randomUUID } from "node:crypto";
import { mergeConditions, type AgentCondition } from "./conditions.js";
import { readFileSync } from "node:fs";

export const AGENT_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
})();

export interface NodeSettings {
  name: string;
  address: string;
  userLabels: Record<string, string>;
  taints: Taint[];
  /** Quantities; "" = take it from the runtime. */
  cpu: string;
  memory: string;
  pods: string;
  reservedCpu: string;
  reservedMemory: string;
  /** The node's pod CIDR (node/pod-cidr.ts); "" or absent: none (every pod gets a sandbox). */
  podCIDR?: string | undefined;
}

/** The part of a Node this agent owns. */
export interface NodeFacts {
  labels: Record<string, string>;
  /** spec.podCIDR; "" leaves the stored one as it is. */
  podCIDR: string;
  taints: Taint[];
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  addresses: { type: string; address: string }[];
  nodeInfo: {
    machineID: string;
    kernelVersion: string;
    osImage: string;
    containerRuntimeVersion: string;
    kubeletVersion: string;
    operatingSystem: string;
    architecture: string;
  };
  /** The agent's own conditions (ServiceProxyReady, ClusterDNSReady); absent: leave them as stored. */
  conditions?: AgentCondition[];
}

/** Go's names for CPU architectures, as Kubernetes labels use them. */
export function goArch(arch: string): string {
  const map: Record<string, string> = { x86_64: "amd64", amd64: "amd64", x64: "amd64", aarch64: "arm64", arm64: "arm64", armv7l: "arm", arm: "arm" };
  return map[arch.toLowerCase()] ?? arch.toLowerCase();
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Memory as Kubernetes reports node memory: whole KiB. */
export function formatMemory(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

export function nodeFacts(settings: NodeSettings, info: RuntimeInfo): NodeFacts {
  const arch = goArch(info.arch);
  const os = (info.os || "linux").toLowerCase();
  const cpuMillis = settings.cpu ? milliCpu(settings.cpu) : Math.round(info.cpus * 1000);
  const memoryBytes = settings.memory ? bytesOf(settings.memory) : info.memoryBytes;
  const pods = String(bytesOf(settings.pods || "110"));
  const allocCpu = Math.max(0, cpuMillis - milliCpu(settings.reservedCpu || "0"));
  const allocMemory = Math.max(0, memoryBytes - bytesOf(settings.reservedMemory || "0"));
  return {
    podCIDR: settings.podCIDR ?? "",
    labels: {
      ...settings.userLabels,
      "kubernetes.io/hostname": settings.name,
      "kubernetes.io/os": os,
      "kubernetes.io/arch": arch,
    },
    taints: settings.taints,
    capacity: { cpu: formatCpu(cpuMillis), memory: formatMemory(memoryBytes), pods },
    allocatable: { cpu: formatCpu(allocCpu), memory: formatMemory(allocMemory), pods },
    addresses: [
      { type: "InternalIP", address: settings.address },
      { type: "Hostname", address: settings.name },
    ],
    nodeInfo: {
      machineID: "",
      kernelVersion: info.kernelVersion,
      osImage: "",
      containerRuntimeVersion: `${info.name || "docker"}://${info.version}`,
      kubeletVersion: `navarch-${AGENT_VERSION}`,
      operatingSystem: os,
      architecture: arch,
    },
  };
}

/**
 * The Node to write: a new one when there is none, the existing one with our facts merged in, or
 * undefined when the stored node already says all of it (no write).
 */
export function desiredNode(existing: Node | undefined, facts: NodeFacts, name: string, now: Date): Node | undefined {
  if (!existing) {
    return KINDS.Node.codec.fromPartial({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, uid: randomUUID(), creationTimestamp: timestamp(now), labels: facts.labels },
      spec: {
        taints: facts.taints.map((t) => ({ ...t, timeAdded: t.timeAdded || timestamp(now) })),
        podCIDR: facts.podCIDR,
        podCIDRs: facts.podCIDR ? [facts.podCIDR] : [],
      },
      status: {
        capacity: facts.capacity,
        allocatable: facts.allocatable,
        addresses: facts.addresses,
        nodeInfo: facts.nodeInfo,
        conditions: mergeConditions([], facts.conditions ?? [], timestamp(now)),
      },
    });
  }
  const meta = existing.metadata!;
  const spec = existing.spec ?? { unschedulable: false, taints: [], podCIDR: "", providerID: "", podCIDRs: [] };
  const status = existing.status ?? { capacity: {}, allocatable: {}, conditions: [], addresses: [], nodeInfo: undefined, phase: "" };
  const missingTaints = facts.taints.filter((t) => !spec.taints.some((s) => s.key === t.key && s.effect === t.effect));
  const next: Node = {
    ...existing,
    metadata: { ...meta, labels: { ...meta.labels, ...facts.labels } },
    spec: {
      ...spec,
      taints: [...spec.taints, ...missingTaints.map((t) => ({ ...t, timeAdded: timestamp(now) }))],
      podCIDR: facts.podCIDR || spec.podCIDR,
      podCIDRs: facts.podCIDR ? [facts.podCIDR] : spec.podCIDRs,
    },
    status: {
      ...status,
      capacity: facts.capacity,
      allocatable: facts.allocatable,
      addresses: facts.addresses,
      nodeInfo: facts.nodeInfo,
      conditions: facts.conditions ? mergeConditions(status.conditions ?? [], facts.conditions, timestamp(now)) : status.conditions,
    },
  };
  return canonical(next) === canonical(existing) ? undefined : next;
}

function canonical(node: Node): string {
  const json = KINDS.Node.codec.toJSON({ ...node, metadata: { ...node.metadata!, resourceVersion: "" } });
  return JSON.stringify(json);
}

/** Creates or updates the Node; returns what is stored. */
export async function registerNode(store: ResourceStore<Node>, name: string, facts: NodeFacts, logger: Logger, now = () => new Date()): Promise<Node> {
  for (let attempt = 0; ; attempt++) {
    const existing = await store.get("", name);
    const next = desiredNode(existing, facts, name, now());
    if (!next) return existing!;
    try {
      const stored = existing ? await store.update(next) : await store.create(next);
      logger.info({ node: name, capacity: facts.capacity, allocatable: facts.allocatable, created: !existing }, existing ? "node updated" : "node registered");
      return stored!;
    } catch (err) {
      if ((err instanceof ConflictError || err instanceof AlreadyExistsError) && attempt < 20) continue;
      throw err;
    }
  }
}
