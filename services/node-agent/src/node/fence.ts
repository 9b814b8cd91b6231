// Fencing (principle 5, docs/adr/0006-fencing-and-eviction.md): a node that cannot renew its Lease
// must stop its own workloads before the control plane replaces them elsewhere - lease semantics,
// the holder stops acting when its lease runs out.
//
//   fence    An agent whose last renewal (the renewTime it wrote) is older than the fence time
//            stops every running container of its pods with SIGKILL, apps first, then the
//            sandboxes (the runtime still answers when NATS does not). The containers are stopped,
//            not removed: their exit codes, finish times and logs stay until the agent is back.
//   unfence  Once it renews again, it starts over only when it is safe: the Node is Ready again
//            without the unreachable taint (so no further eviction for unreachability can come),
//            and its view of the pods bound here has caught up with the server (so it knows every
//            eviction made meanwhile). Then a fresh pod manager adopts: pods still bound here start
//            again, containers of pods no longer bound here (evicted, moved) are removed, and
//            nothing evicted comes back. A stale status report it had queued is refused by the pod
//            status folder (uid and node check).
//
// Timing: the control plane marks a node unreachable after max(grace, the lease's duration) and
// evicts after the pods' toleration on top; the fence time must be below the lease duration (so
// even pods without a toleration are stopped first) and above the renewal period.
import type { Node, Pod } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import type { ContainerRuntime } from "@navarch/runtime";
import type { Informer, ResourceStore } from "@navarch/store";

import { TAINT_UNREACHABLE } from "@navarch/api";
export { TAINT_UNREACHABLE };

export type FenceStep = "fence" | "unfence" | "none";

/** `fenced`: the pods were stopped (or stopping them began and failed: then "fence" again while stale). */
export function fenceStep(fenced: boolean, lastRenewedAt: number, now: number, fenceMs: number, incomplete = false): FenceStep {
  if (fenceMs <= 0) return "none";
  const stale = now - lastRenewedAt > fenceMs;
  if ((!fenced || incomplete) && stale) return "fence";
  if (fenced && !stale) return "unfence";
  return "none";
}

export interface FenceTimes {
  /** < 0: automatic (3/4 of the lease duration); 0: never fence. */
  fenceSeconds: number;
  heartbeatSeconds: number;
  leaseDurationSeconds: number;
}

/** The fence time in seconds, or an error naming the options that do not fit together. */
export function resolveFenceSeconds(t: FenceTimes): number {
  const fence = t.fenceSeconds < 0 ? (t.leaseDurationSeconds * 3) / 4 : t.fenceSeconds;
  if (fence === 0) return 0;
  if (fence <= t.heartbeatSeconds) {
    throw new Error(
      `NAVARCH_NODE_FENCE_SECONDS (${fence}) must be longer than NAVARCH_NODE_HEARTBEAT_SECONDS (${t.heartbeatSeconds}): the node would fence itself between two renewals`,
    );
  }
  if (fence >= t.leaseDurationSeconds) {
    throw new Error(
      `NAVARCH_NODE_FENCE_SECONDS (${fence}) must be shorter than NAVARCH_NODE_LEASE_DURATION_SECONDS (${t.leaseDurationSeconds}): the control plane could evict and replace the pods before this node stops them`,
    );
  }
  return fence;
}

/**
 * Whether the control plane counts this node as reachable again: Ready=True and no unreachable
 * taint. A node without any Ready condition has no node lifecycle controller judging it (and so
 * nothing evicting its pods either).
 */
export function acknowledged(node: Node | undefined): boolean {
  if (!node) return false;
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (!ready) return true;
  return ready.status === "True" && !(node.spec?.taints ?? []).some((t) => t.key === TAINT_UNREACHABLE && t.effect === "NoExecute");
}

/** Stops (SIGKILL, no grace) every running container of this node's pods, apps first, then sandboxes. */
export async function stopNodeContainers(runtime: ContainerRuntime, node: string, logger: Logger): Promise<number> {
  const [containers, sandboxes] = await Promise.all([runtime.listContainers(node), runtime.listSandboxes(node)]);
  const apps = containers.filter((c) => c.role === "app" && c.state === "running");
  const stop = async (id: string, how: () => Promise<void>) => {
    try {
      await how();
    } catch (err) {
      logger.warn({ container: id, err: String(err) }, "fencing: stopping a container failed");
      throw err;
    }
  };
  await Promise.all(apps.map((c) => stop(c.id, () => runtime.stopContainer(c.id, 0))));
  await Promise.all(sandboxes.map((s) => stop(s.id, () => runtime.stopSandbox(s.id))));
  return apps.length;
}

/**
 * The highest revision among the keys the informer follows, read from the server now (their
 * history, deletions included); 0 when there are none.
 */
export async function serverRevision(store: ResourceStore<Pod>): Promise<number> {
  let max = 0;
  for await (const e of await store.kv.history({ key: store.watchFilter })) max = Math.max(max, e.revision);
  return max;
}

export interface UnfenceGate {
  node: string;
  nodes: ResourceStore<Node>;
  pods: Informer<Pod>;
  /** Whether the lease is still fresh (a new outage ends the wait: stay fenced). */
  leaseFresh: () => boolean;
  pollMs: number;
  logger: Logger;
}

/** Resolves once it is safe to start this node's pods again; throws if the lease goes stale meanwhile. */
export async function untilSafeToUnfence(g: UnfenceGate): Promise<void> {
  let waitingSince = 0;
  for (;;) {
    if (!g.leaseFresh()) throw new Error("the lease went stale again while waiting to unfence");
    const node = await g.nodes.get("", g.node).catch(() => undefined);
    if (acknowledged(node)) break;
    if (waitingSince++ % Math.max(1, Math.round(5_000 / g.pollMs)) === 0) {
      g.logger.info({ node: g.node }, "fenced: waiting for the control plane to count this node Ready again before starting pods");
    }
    await new Promise((r) => setTimeout(r, g.pollMs));
  }
  const revision = await serverRevision(g.pods.store);
  if (!(await g.pods.waitForRevision(revision, 10_000))) {
    throw new Error(`this node's pod view did not catch up with revision ${revision}`);
  }
}

export interface FenceWatchOptions {
  lastRenewedAt: () => number;
  fenceMs: number;
  checkEveryMs: number;
  logger: Logger;
  /** Stop every pod of the node. */
  fence: () => Promise<void>;
  /** Start the node's pods again (it waits until that is safe). */
  unfence: () => Promise<void>;
  now?: () => number;
}

/** Checks the lease's freshness every checkEveryMs and fences / unfences; stop() ends it. */
export function watchFence(opts: FenceWatchOptions): { stop(): void; readonly fenced: boolean } {
  const now = opts.now ?? Date.now;
  let fenced = false;
  let incomplete = false;
  let busy = false;
  const timer = setInterval(() => {
    const step = fenceStep(fenced, opts.lastRenewedAt(), now(), opts.fenceMs, incomplete);
    if (step === "none" || busy) return;
    busy = true;
    void (async () => {
      try {
        if (step === "fence") {
          opts.logger.warn({ lastRenewedMsAgo: now() - opts.lastRenewedAt(), fenceMs: opts.fenceMs }, "lease not renewed in time: fencing - stopping this node's pods");
          // Fenced from the first stop on: a failure below is tried again while the lease is
          // stale, and an unfence starts from the runtime's state as it is.
          fenced = true;
          incomplete = true;
          await opts.fence();
          incomplete = false;
          opts.logger.warn({ afterMs: now() - opts.lastRenewedAt() }, "fenced: this node's pods are stopped");
        } else {
          opts.logger.info({}, "lease renewed again: unfencing once the control plane counts this node Ready");
          await opts.unfence();
          fenced = false;
          opts.logger.info({}, "unfenced: this node's pods start again from what is bound here now");
        }
      } catch (err) {
        opts.logger.error({ step, err: String(err) }, "fencing step failed; trying again");
      } finally {
        busy = false;
      }
    })();
  }, opts.checkEveryMs);
  return {
    stop: () => clearInterval(timer),
    get fenced() {
      return fenced;
    },
  };
}
