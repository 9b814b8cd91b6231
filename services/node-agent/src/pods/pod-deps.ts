// Binds the pod and container machines to the world: the container runtime, the ConfigMap and
// Secret stores (read directly when a container is created, for its environment), the Pod store
// (final deletion) and the event recorder. The machines only see the small PodDeps and
// ContainerDeps interfaces, which is what lets them be tested on simulated time.
import type { ConfigMap, Container, Pod, Secret } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import type { ContainerRuntime, SandboxSpec } from "@navarch/runtime";
import type { ResourceStore } from "@navarch/store";
import type { EventRecorder } from "../events/recorder.js";
import type { NetworkReadiness } from "../node/network-readiness.js";
import type { Prober } from "../probes/prober.js";
import type { ContainerDeps, SandboxRef } from "./container-machine.js";
import { containerSpec, podRef } from "./container-spec.js";
import { deletePodObject } from "./delete-pod.js";
import { envSources, resolveEnv } from "./env.js";
import { runHook } from "./hooks.js";
import type { PodIPs } from "./pod-ips.js";
import type { PodDeps } from "./pod-machine.js";
import type { BackoffOptions } from "./restart-policy.js";
import { ownNetwork, runsWithoutSandbox, sandboxSpec } from "./sandbox.js";

export interface AgentContext {
  node: string;
  hostIP: string;
  runtime: ContainerRuntime;
  pods: ResourceStore<Pod>;
  configMaps: ResourceStore<ConfigMap>;
  secrets: ResourceStore<Secret>;
  recorder: EventRecorder;
  logger: Logger;
  backoff: BackoffOptions;
  pullBackoff: { baseMs: number; maxMs: number };
  nodeAllocatable: { cpuMillis: number; memoryBytes: number };
  now: () => number;
  /** The DNS settings of a pod's sandbox (cluster DNS); absent or undefined: the runtime's default. */
  podDns?: (pod: Pod) => Promise<SandboxSpec["dns"]>;
  /**
   * IPs from this node's pod CIDR, for pods without a sandbox (pods/sandbox.ts runsWithoutSandbox).
   * Absent when the runtime cannot give fixed IPs or the node has no pod CIDR: every pod gets a sandbox.
   */
  podIPs?: PodIPs | undefined;
  /**
   * The node's service proxy and cluster DNS: a pod's network is made only once they are ready
   * (node/network-readiness.ts). Absent: nothing to wait for.
   */
  network?: NetworkReadiness | undefined;
}

/** Stops and removes containers and sandboxes; ones already gone are fine. */
export async function removeAll(runtime: ContainerRuntime, logger: Logger, containerIds: string[], sandboxIds: string[]): Promise<void> {
  const gone = async (id: string, err: unknown) => {
    if ((await runtime.inspectContainer(id).catch(() => "unknown" as const)) === undefined) return;
    logger.warn({ container: id, err: String(err) }, "removing a container failed");
    throw err;
  };
  await Promise.all(
    [...new Set(containerIds)].map(async (id) => {
      try {
        await runtime.stopContainer(id, 0);
        await runtime.removeContainer(id);
      } catch (err) {
        await gone(id, err);
      }
    }),
  );
  await Promise.all(
    [...new Set(sandboxIds)].map(async (id) => {
      try {
        await runtime.stopSandbox(id);
        await runtime.removeSandbox(id);
      } catch (err) {
        await gone(id, err);
      }
    }),
  );
}

/**
 * `current()` is the latest Pod from the node's projection (labels and annotations may change).
 * `prober` is the node's one probe runner (it bounds how many probes run at once).
 */
export function podDeps(ctx: AgentContext, current: () => Pod, prober: Prober): PodDeps {
  const first = current();
  const meta = first.metadata!;
  const involved = { namespace: meta.namespace, name: meta.name, uid: meta.uid };
  const { runtime, logger } = ctx;
  return {
    now: ctx.now,
    runSandbox: async () => {
      // Until then the pod shows ContainerCreating, and one event says what it waits for.
      await ctx.network?.wait(
        (why) => ctx.recorder.record(involved, "", "Warning", "NetworkNotReady", `Waiting for the node's network: ${why}`),
        () => !!current().metadata?.deletionTimestamp,
      );
      const pod = current();
      // A pod's only container holds the network itself: no sandbox container, only its fixed IP
      // (id "", see PodDeps.runSandbox). A full CIDR falls back to a sandbox.
      const ip = ctx.podIPs && runsWithoutSandbox(pod) ? ctx.podIPs.allocate(meta.uid) : undefined;
      if (ip) return { id: "", pod: podRef(pod, ctx.node), ip, state: "ready", createdAt: new Date(ctx.now()) };
      const dns = await ctx.podDns?.(pod);
      return runtime.runSandbox({ ...sandboxSpec(pod, ctx.node), ...(dns && { dns }) });
    },
    stopSandbox: async (id) => {
      if (id) await runtime.stopSandbox(id);
    },
    removeAll: (containerIds, sandboxIds) => removeAll(runtime, logger, containerIds, sandboxIds),
    deletePodObject: async () => {
      const outcome = await deletePodObject(ctx.pods, meta.namespace, meta.name, meta.uid);
      logger.info({ pod: `${meta.namespace}/${meta.name}`, uid: meta.uid, outcome }, "pod terminated");
    },
    containerDeps: (container) => containerDeps(ctx, current, container, prober),
    event: (type, reason, message) => ctx.recorder.record(involved, "", type, reason, message),
    sandboxBackoff: { baseMs: 1_000, maxMs: Math.max(1_000, Math.min(ctx.backoff.maxMs, 60_000)) },
  };
}

function containerDeps(ctx: AgentContext, current: () => Pod, container: Container, prober: Prober): ContainerDeps {
  const meta = current().metadata!;
  const involved = { namespace: meta.namespace, name: meta.name, uid: meta.uid };
  const fieldPath = `spec.containers{${container.name}}`;
  const { runtime, logger } = ctx;
  const event = (type: "Normal" | "Warning", reason: string, message: string) => ctx.recorder.record(involved, fieldPath, type, reason, message);
  return {
    now: ctx.now,
    ensureImage: async (image, policy) => {
      const started = ctx.now();
      let pulled = false;
      const id = await runtime.ensureImage(image, policy, (phase) => {
        if (phase === "pulling" && !pulled) {
          pulled = true;
          event("Normal", "Pulling", `Pulling image "${image}"`);
        }
      });
      event(
        "Normal",
        "Pulled",
        pulled ? `Successfully pulled image "${image}" in ${ctx.now() - started}ms` : `Container image "${image}" already present on machine`,
      );
      return id;
    },
    createAndStart: async (attempt: number, sandbox: SandboxRef) => {
      const pod = current();
      const spec = pod.spec?.containers.find((c) => c.name === container.name) ?? container;
      const sources = envSources(spec);
      const ns = pod.metadata!.namespace;
      const [configMaps, secrets] = await Promise.all([
        Promise.all(sources.configMaps.map(async (n) => [n, await ctx.configMaps.get(ns, n)] as const)),
        Promise.all(sources.secrets.map(async (n) => [n, await ctx.secrets.get(ns, n)] as const)),
      ]);
      const env = resolveEnv({
        pod,
        container: spec,
        configMaps: new Map(configMaps),
        secrets: new Map(secrets),
        podIP: sandbox.ip,
        hostIP: ctx.hostIP,
        nodeAllocatable: ctx.nodeAllocatable,
      });
      const network = sandbox.id ? undefined : ownNetwork(pod, ctx.node, sandbox.ip, await ctx.podDns?.(pod));
      const id = await runtime.createContainer({
        ...containerSpec({ pod, container: spec, node: ctx.node, env, sandboxId: sandbox.id, attempt }),
        ...(network && { network }),
      });
      try {
        await runtime.startContainer(id);
      } catch (err) {
        return { id, startError: err instanceof Error ? err.message : String(err) };
      }
      return { id };
    },
    stop: async (id, grace) => {
      await runtime.stopContainer(id, grace);
      return runtime.inspectContainer(id);
    },
    remove: (id) =>
      void runtime.removeContainer(id).catch((err) => logger.debug({ container: id, err: String(err) }, "removing an old container failed")),
    event,
    runProbe: (spec, target) => prober.run(spec, target),
    // Not through the prober's concurrency bound: a long preStop must not hold back probes.
    runHook: (action, target, timeoutMs) => runHook(runtime, action, target, timeoutMs),
    backoff: ctx.backoff,
    pullBackoff: ctx.pullBackoff,
    podDescription: `${meta.name}_${meta.namespace}(${meta.uid})`,
  };
}
