// Hollow nodes (like kubemark's hollow kubelets and kwok): N real node agents in one process,
// each on its own FakeRuntime, so one machine can play a cluster of thousands of nodes. The
// control plane cannot tell them from real nodes: each registers its Node, renews its Lease,
// watches its own pods in navarch-node-pods and reports their status - only nothing runs.
//
// What one agent costs, and what keeps it small here:
//   - NATS: every agent shares this process's ONE connection (its subscriptions: the watch of its
//     pods - one JetStream consumer filtered on "<node>.>" - and its logs subject);
//   - heartbeats: one Lease write per node per period; the default period here is 10 s (the
//     control plane's NAVARCH_NODE_MONITOR_GRACE_SECONDS must be a few periods longer);
//   - timers: one heartbeat timer, one resync timer (a long period: the fake runtime loses no
//     events), one registration check per node;
//   - start: agents start at `startPerSecond`, not all at once, so registrations, consumer
//     creations and first heartbeats spread out (and so do the heartbeats afterwards).
import type { Logger } from "@navarch/config";
import { NODE_AGENT_OPTIONS, run as runNodeAgent, type NodeAgentOptions, type RunningAgent } from "@navarch/node-agent";
import { FakeRuntime, type FakeRuntimeOptions } from "@navarch/runtime";
import type { NatsConnection } from "@nats-io/transport-node";
import { defaultOptions, type HollowNodesOptions } from "./options.js";

type AgentOptions = { [K in keyof typeof NODE_AGENT_OPTIONS]: (typeof NODE_AGENT_OPTIONS)[K]["default"] };

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<HollowNodesOptions>;
  /** Node agent options every hollow node shares (the node name and capacity are set per node). */
  agentOptions?: Partial<NodeAgentOptions> & { kvReplicas?: number };
  /** What the fake runtimes do (default: every image present, containers run until stopped). */
  runtime?: FakeRuntimeOptions;
  /** Called once every hollow node is running (registered, heartbeating, watching its pods). */
  onReady?: (nodes: HollowNode[]) => void;
  /** Called every `statsSeconds` with the nodes' figures. */
  onStats?: (stats: HollowStats) => void;
}

export interface HollowNode {
  name: string;
  runtime: FakeRuntime;
  /** Set once the node's agent runs. */
  agent?: RunningAgent | undefined;
  /** Set when the node's agent ended with an error. */
  error?: unknown;
}

export interface HollowStats {
  nodes: number;
  ready: number;
  failed: number;
  /** Pods the agents hold (bound to a hollow node and not yet gone). */
  pods: number;
  /** App containers running in the fake runtimes. */
  running: number;
  /** Status reports written, events written, lease renewals. */
  reports: number;
  events: number;
  renewals: number;
  /** Nodes whose last successful renewal is older than two periods. */
  staleHeartbeats: number;
}

export function nodeName(o: Pick<HollowNodesOptions, "prefix">, index: number): string {
  return `${o.prefix}${index}`;
}

export async function run({ nc, logger, signal, options = {}, agentOptions = {}, runtime = {}, onReady, onStats }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  const nodes: HollowNode[] = Array.from({ length: o.count }, (_, i) => ({
    name: nodeName(o, o.firstIndex + i),
    runtime: new FakeRuntime({ cpus: 4, memoryBytes: 16 * 1024 ** 3, ...runtime, hostname: nodeName(o, o.firstIndex + i) }),
  }));
  const perNode: Partial<AgentOptions> = {
    ...agentOptions,
    nodeCpu: o.cpu,
    nodeMemory: o.memory,
    nodePods: o.pods,
    heartbeatSeconds: o.heartbeatSeconds,
    // Written into the Lease for readers that judge it by its own duration.
    leaseDurationSeconds: Math.max(agentOptions.leaseDurationSeconds ?? 0, 4 * o.heartbeatSeconds),
    resyncSeconds: o.resyncSeconds,
    fenceSeconds: o.fenceSeconds,
    // Nothing to program on a fake runtime's host.
    serviceProxy: false,
    clusterDns: false,
  };

  let ready = 0;
  let failed = 0;
  let announced = false;
  const announce = () => {
    if (!announced && ready + failed === nodes.length) {
      announced = true;
      logger.info({ nodes: nodes.length, ready, failed }, "hollow nodes running");
      onReady?.(nodes);
    }
  };
  const stats = (): HollowStats => {
    const s: HollowStats = { nodes: nodes.length, ready, failed, pods: 0, running: 0, reports: 0, events: 0, renewals: 0, staleHeartbeats: 0 };
    const stale = Date.now() - 2 * o.heartbeatSeconds * 1000;
    for (const n of nodes) {
      s.running += n.runtime.running;
      const a = n.agent;
      if (!a) continue;
      s.pods += a.pods.size;
      s.reports += a.reporter.writes;
      s.events += a.recorder.written;
      s.renewals += a.heartbeat.renewals;
      if (a.heartbeat.lastRenewedAt < stale) s.staleHeartbeats++;
    }
    return s;
  };
  const statsTimer = o.statsSeconds > 0 && onStats ? setInterval(() => onStats(stats()), o.statsSeconds * 1000) : undefined;

  const runs: Promise<void>[] = [];
  const gapMs = o.startPerSecond > 0 ? 1000 / o.startPerSecond : 0;
  const t0 = Date.now();
  try {
    for (let i = 0; i < nodes.length && !signal.aborted; i++) {
      // Start i at t0 + i * gap (absolute, so slow starts do not stretch the schedule).
      const wait = t0 + i * gapMs - Date.now();
      if (wait > 0) await sleep(wait, signal);
      if (signal.aborted) break;
      const node = nodes[i]!;
      runs.push(
        runNodeAgent({
          nc,
          logger: logger.child({ node: node.name }),
          signal,
          options: { ...perNode, nodeName: node.name },
          runtime: node.runtime,
          onReady: (agent) => {
            node.agent = agent;
            ready++;
            announce();
          },
        }).catch((err: unknown) => {
          node.error = err;
          if (node.agent) ready--;
          failed++;
          logger.error({ node: node.name, err: String(err) }, "hollow node failed");
          announce();
        }),
      );
    }
    await Promise.all(runs);
  } finally {
    if (statsTimer) clearInterval(statsTimer);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
