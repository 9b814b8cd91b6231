// Fencing (principle 5): a node that cannot renew its Lease must stop its own workloads before
// the control plane replaces them elsewhere - lease semantics, the holder stops acting when its
// lease runs out. With NAVARCH_NODE_FENCE_SECONDS > 0, an agent whose last successful renewal is
// older than that kills every container of its pods (the runtime still answers when NATS does
// not), and once it renews again it starts over from its pods as they are then bound - by then
// the control plane may have moved them, and the projection says so.
//
// The control plane must wait longer than this (after the lease's renewTime) before it starts a
// node's pods elsewhere; then the two never run at once.
import type { Logger } from "@navarch/controller";

export type FenceStep = "fence" | "unfence" | "none";

export function fenceStep(fenced: boolean, lastRenewedAt: number, now: number, fenceMs: number): FenceStep {
  if (fenceMs <= 0) return "none";
  const stale = now - lastRenewedAt > fenceMs;
  if (!fenced && stale) return "fence";
  if (fenced && !stale) return "unfence";
  return "none";
}

export interface FenceWatchOptions {
  lastRenewedAt: () => number;
  fenceMs: number;
  checkEveryMs: number;
  logger: Logger;
  /** Kill every pod of the node. */
  fence: () => Promise<void>;
  /** Start the node's pods again. */
  unfence: () => Promise<void>;
  now?: () => number;
}

/** Checks the lease's freshness every checkEveryMs and fences / unfences; stop() ends it. */
export function watchFence(opts: FenceWatchOptions): { stop(): void; readonly fenced: boolean } {
  const now = opts.now ?? Date.now;
  let fenced = false;
  let busy = false;
  const timer = setInterval(() => {
    const step = fenceStep(fenced, opts.lastRenewedAt(), now(), opts.fenceMs);
    if (step === "none" || busy) return;
    busy = true;
    void (async () => {
      try {
        if (step === "fence") {
          opts.logger.warn({ lastRenewedMsAgo: now() - opts.lastRenewedAt() }, "lease not renewed in time: fencing - killing this node's pods");
          await opts.fence();
          fenced = true;
        } else {
          opts.logger.info({}, "lease renewed again: unfencing - starting this node's pods");
          await opts.unfence();
          fenced = false;
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
