// The node agent: registers the Node, renews its Lease, runs the pods bound to it through the
// container runtime and reports their status and events, and answers log requests. The
// all-in-one calls run() in-process with its own connection and runtime; main.ts calls it
// standalone.
//
// Shutdown (signal aborted): stop heartbeating, stop the machines, flush pending reports and
// events - and leave every container RUNNING. An agent restart is not a pod restart: the next
// agent adopts them (pods/adoption.ts). Killing pods is the control plane's decision.
import { KINDS, bytesOf, milliCpu, type ConfigMap, type Event, type Lease, type Node, type Pod, type Secret } from "@navarch/api";
import type { Logger } from "@navarch/config";
import { DockerRuntime, type ContainerRuntime, type RuntimeInfo } from "@navarch/runtime";
import { AddressClaims, EVENT_TTL_MS, Informer, ResourceStore, clusterIdentity, openNodePods, openPodStatusReports } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import { EventRecorder } from "./events/recorder.js";
import { serveLogs, type LogsServer } from "./logs/serve.js";
import { parseLabels, parseTaints } from "./node/flags.js";
import { resolveFenceSeconds, stopNodeContainers, untilSafeToUnfence, watchFence } from "./node/fence.js";
import { Heartbeat } from "./node/heartbeat.js";
import { claimPodCidr } from "./node/pod-cidr.js";
import { nodeFacts, registerNode, type NodeFacts, type NodeSettings } from "./node/register.js";
import { defaultOptions, type NodeAgentOptions } from "./options.js";
import type { AgentContext } from "./pods/pod-deps.js";
import { PodIPs } from "./pods/pod-ips.js";
import { PodManager } from "./pods/pod-manager.js";
import { StatusReporter } from "./pods/reports.js";
import { RuntimeWatch } from "./pods/runtime-watch.js";
import { ServiceProxy } from "./service-proxy/proxy.js";
import { ClusterDns, clusterDnsPossible } from "./cluster-dns/cluster-dns.js";
import { openServiceInformers, type ServiceInformers } from "./cluster-dns/service-informers.js";

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<NodeAgentOptions> & { kvReplicas?: number };
  /** Default: a DockerRuntime on options.dockerSocket. */
  runtime?: ContainerRuntime;
  /** Called once the agent runs (node registered, pods adopted) - tests and the all-in-one wait for it. */
  onReady?: (agent: RunningAgent) => void;
}

/** What a running agent shows of itself (tests, benchmarks). */
export interface RunningAgent {
  node: string;
  pods: PodManager;
  heartbeat: Heartbeat;
  reporter: StatusReporter;
  recorder: EventRecorder;
  watch: RuntimeWatch;
  /** Absent when NAVARCH_SERVICE_PROXY is off or the runtime cannot program the host's netfilter. */
  serviceProxy?: ServiceProxy | undefined;
  /** Absent when NAVARCH_CLUSTER_DNS is off or the runtime has no pod network to serve (hollow nodes). */
  clusterDns?: ClusterDns | undefined;
}

export async function run({ nc, logger, signal, options = {}, runtime, onReady }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  const node = o.nodeName;
  const settings: NodeSettings = {
    name: node,
    address: o.nodeAddress,
    userLabels: parseLabels(o.nodeLabels),
    taints: parseTaints(o.nodeTaints),
    cpu: o.nodeCpu,
    memory: o.nodeMemory,
    pods: o.nodePods,
    reservedCpu: o.reservedCpu,
    reservedMemory: o.reservedMemory,
  };
  checkQuantities(o);
  const fenceSeconds = resolveFenceSeconds(o);

  const replicas = options.kvReplicas ?? 1;
  // The cluster's id labels every container this agent makes, and narrows what it sees to them. A
  // given runtime without one (the fake runtime of hollow nodes) has nothing another cluster sees.
  const cluster = runtime && runtime.cluster === undefined ? undefined : (await clusterIdentity(nc, { replicas })).id;
  runtime ??= new DockerRuntime({ socketPath: o.dockerSocket, network: o.podNetwork, podSubnet: o.podSubnet === "none" ? undefined : o.podSubnet, logger, cluster });
  if (runtime.cluster !== undefined && runtime.cluster !== cluster) {
    throw new Error(`the container runtime was made for cluster ${runtime.cluster}, but this agent's NATS holds cluster ${cluster}`);
  }
  const [nodes, leases, pods, configMaps, secrets, events, reports, nodePods] = await Promise.all([
    ResourceStore.open<Node>(nc, KINDS.Node, { replicas }),
    ResourceStore.open<Lease>(nc, KINDS.Lease, { replicas }),
    ResourceStore.open<Pod>(nc, KINDS.Pod, { replicas }),
    ResourceStore.open<ConfigMap>(nc, KINDS.ConfigMap, { replicas }),
    ResourceStore.open<Secret>(nc, KINDS.Secret, { replicas }),
    ResourceStore.open<Event>(nc, KINDS.Event, { replicas, maxAgeMs: EVENT_TTL_MS }),
    openPodStatusReports(nc, replicas),
    openNodePods(nc, node, replicas),
  ]);

  const info = await untilRuntimeAnswers(runtime, logger, signal);
  if (!info) return;
  const podIPs = await nodePodIPs({ runtime, nc, nodes, node, replicas, logger });
  settings.podCIDR = podIPs?.cidr;
  let facts = nodeFacts(settings, info);
  await registerNode(nodes, node, facts, logger);

  const heartbeat = new Heartbeat({
    store: leases,
    node,
    intervalMs: o.heartbeatSeconds * 1000,
    leaseDurationSeconds: Math.max(1, Math.ceil(o.leaseDurationSeconds)),
    logger,
  });
  await heartbeat.start();

  const recorder = new EventRecorder({ store: events, node, logger });
  const reporter = new StatusReporter({ store: reports, node, coalesceMs: o.statusCoalesceMs, logger });
  const informer = new Informer<Pod>(nodePods, nc, {
    onWatchError: (err) => logger.warn({ err: String(err) }, "watch of this node's pods failed; retrying"),
  });
  const ctx: AgentContext = {
    node,
    hostIP: o.nodeAddress,
    runtime,
    pods,
    configMaps,
    secrets,
    recorder,
    logger,
    backoff: { baseMs: o.restartBackoffBaseMs, maxMs: o.restartBackoffMaxMs, resetMs: o.restartBackoffResetMs },
    pullBackoff: { baseMs: o.imagePullBackoffBaseMs, maxMs: o.imagePullBackoffMaxMs },
    nodeAllocatable: allocatableOf(facts),
    now: Date.now,
    podDns: async (pod) => clusterDns?.podDns(pod),
    podIPs,
  };
  const newManager = () => new PodManager({ ctx, informer, reporter, runtimeName: info.name || "docker" });
  // Replaced by a fresh one after fencing (the closures below always reach the current one).
  let manager = newManager();
  const watch = new RuntimeWatch({
    runtime,
    node,
    logger,
    resyncMs: o.resyncSeconds * 1000,
    onEvent: (e) => manager.onRuntimeEvent(e),
    resync: () => manager.resync(),
  });
  let logs: LogsServer | undefined;
  let serviceProxy: ServiceProxy | undefined;
  let serviceInformers: ServiceInformers | undefined;
  let clusterDns: ClusterDns | undefined;
  const stopLogs = new AbortController();
  let nodeTimer: ReturnType<typeof setTimeout> | undefined;
  let fencing: { stop(): void } | undefined;
  try {
    // One Service and one Endpoints watch, shared by the service proxy and the cluster DNS, and
    // only when one of them runs. The DNS comes before the pods: a sandbox made from now on gets it.
    const netfilter = o.serviceProxy ? runtime.hostNetfilter?.(node) : undefined;
    const dns = o.clusterDns && (await clusterDnsPossible(runtime, o.clusterDnsAddress, logger));
    if (netfilter || dns) serviceInformers = await openServiceInformers(nc, replicas, logger);
    if (dns && serviceInformers) {
      const { services, endpoints } = serviceInformers;
      clusterDns = new ClusterDns({ domain: o.clusterDomain, address: o.clusterDnsAddress, upstreams: o.clusterDnsUpstreams, runtime, services, endpoints, logger });
      clusterDns.start();
    }
    await informer.start();
    await manager.start();
    watch.start();
    logs = await serveLogs({
      nc,
      node,
      runtime,
      logger,
      signal: stopLogs.signal,
      findContainer: (namespace, name, uid, container, previous) => manager.findContainer(namespace, name, uid, container, previous),
    });
    if (netfilter && serviceInformers) {
      const { services, endpoints } = serviceInformers;
      serviceProxy = new ServiceProxy({ node, nodeAddress: o.nodeAddress, services, endpoints, netfilter, logger, resyncMs: o.serviceProxyResyncSeconds * 1000 });
      serviceProxy.start();
    } else if (o.serviceProxy) {
      logger.debug({ node }, "the container runtime cannot program the host's netfilter: no service proxy on this node");
    }
    logger.info(
      { node, cluster, pods: manager.size, capacity: facts.capacity, heartbeatSeconds: o.heartbeatSeconds, leaseDurationSeconds: o.leaseDurationSeconds, fenceSeconds },
      "node agent running",
    );
    onReady?.({
      node,
      get pods() {
        return manager;
      },
      heartbeat,
      reporter,
      recorder,
      watch,
      serviceProxy,
      clusterDns,
    });

    // The Node's registration is looked at again now and then (a Docker upgrade, a node deleted
    // by an operator is registered again); nothing is written unless something changed.
    const recheck = async () => {
      try {
        const latest = await runtime!.info();
        facts = nodeFacts(settings, latest);
        ctx.nodeAllocatable = allocatableOf(facts);
        await registerNode(nodes, node, facts, logger);
      } catch (err) {
        logger.warn({ err: String(err) }, "checking the node's registration failed");
      }
      if (!signal.aborted) nodeTimer = setTimeout(recheck, o.nodeStatusSeconds * 1000);
    };
    if (o.nodeStatusSeconds > 0) nodeTimer = setTimeout(recheck, o.nodeStatusSeconds * 1000);

    if (fenceSeconds > 0) {
      const fenceMs = fenceSeconds * 1000;
      fencing = watchFence({
        lastRenewedAt: () => heartbeat.lastRenewedAt,
        fenceMs,
        checkEveryMs: Math.max(50, Math.min(250, o.heartbeatSeconds * 250)),
        logger,
        fence: async () => {
          manager.stop();
          await stopNodeContainers(runtime!, node, logger);
        },
        unfence: async () => {
          await untilSafeToUnfence({
            node,
            nodes,
            pods: informer,
            leaseFresh: () => Date.now() - heartbeat.lastRenewedAt <= fenceMs,
            pollMs: Math.max(100, Math.min(500, o.heartbeatSeconds * 500)),
            logger,
          });
          manager = newManager();
          await manager.start();
        },
      });
    }

    await abortion(signal);
  } finally {
    // The machines first: from here on nothing starts, stops or restarts a container.
    if (nodeTimer) clearTimeout(nodeTimer);
    fencing?.stop();
    manager.stop();
    informer.stop();
    await heartbeat.stop();
    stopLogs.abort();
    await Promise.all([logs?.stop().catch(() => undefined), serviceProxy?.stop(), clusterDns?.stop(), watch.stop(), reporter.stop(), recorder.stop()]);
    serviceInformers?.stop();
    logger.info({ node }, "node agent stopped; containers keep running");
  }
}

/**
 * The node's pod CIDR and the IPs of its sandbox-less pods, when the runtime can give fixed IPs
 * (node/pod-cidr.ts); undefined otherwise: every pod of this node gets a sandbox.
 */
async function nodePodIPs(p: {
  runtime: ContainerRuntime;
  nc: NatsConnection;
  nodes: ResourceStore<Node>;
  node: string;
  replicas: number;
  logger: Logger;
}): Promise<PodIPs | undefined> {
  const { logger } = p;
  let network;
  try {
    network = await p.runtime.podNetwork?.();
  } catch (err) {
    logger.warn({ err: String(err) }, "the pod network could not be inspected: every pod gets a sandbox");
    return undefined;
  }
  if (!network) return undefined;
  if (!network.dynamicRange) {
    logger.info(
      { network: network.name, subnet: network.subnet },
      "the pod network has no configured subnet (made by an older version or by hand), so pods cannot have fixed IPs: every pod gets a sandbox. Remove the network (once no container uses it) to have it made again with NAVARCH_POD_SUBNET",
    );
    return undefined;
  }
  const claims = await AddressClaims.open(p.nc, { replicas: p.replicas });
  const nodes = new Informer<Node>(p.nodes, p.nc);
  try {
    await Promise.all([claims.start(), nodes.start()]);
    const cidr = await claimPodCidr({
      node: p.node,
      subnet: network.subnet,
      dynamicRange: network.dynamicRange,
      inUse: network.inUse,
      claims,
      nodes: nodes.list(),
      logger,
    });
    return cidr ? new PodIPs(cidr) : undefined;
  } finally {
    claims.stop();
    nodes.stop();
  }
}

/** Bad capacity flags fail the start, naming the variable, before anything is written. */
function checkQuantities(o: NodeAgentOptions): void {
  const checks: [string, string, (q: string) => number][] = [
    ["NAVARCH_NODE_CPU", o.nodeCpu, milliCpu],
    ["NAVARCH_NODE_RESERVED_CPU", o.reservedCpu, milliCpu],
    ["NAVARCH_NODE_MEMORY", o.nodeMemory, bytesOf],
    ["NAVARCH_NODE_RESERVED_MEMORY", o.reservedMemory, bytesOf],
    ["NAVARCH_NODE_PODS", o.nodePods, bytesOf],
  ];
  for (const [env, value, parse] of checks) {
    if (!value) continue;
    try {
      parse(value);
    } catch {
      throw new Error(`${env}: "${value}" is not a quantity`);
    }
  }
}

function allocatableOf(facts: NodeFacts): { cpuMillis: number; memoryBytes: number } {
  return { cpuMillis: milliCpu(facts.allocatable.cpu ?? "0"), memoryBytes: bytesOf(facts.allocatable.memory ?? "0") };
}

/** The runtime's info, retried while the runtime is not there yet (dockerd still starting). */
async function untilRuntimeAnswers(runtime: ContainerRuntime, logger: Logger, signal: AbortSignal): Promise<RuntimeInfo | undefined> {
  let delay = 250;
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      return await runtime.info();
    } catch (err) {
      if (attempt === 1 || attempt % 10 === 0) logger.warn({ err: String(err), retryMs: delay }, "the container runtime does not answer; waiting for it");
      await Promise.race([new Promise((r) => setTimeout(r, delay)), abortion(signal)]);
      delay = Math.min(delay * 2, 5_000);
    }
  }
  return undefined;
}

function abortion(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
