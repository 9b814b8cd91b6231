// What happens after a container exits: a pure function of the pod's restartPolicy, how the
// container ended, and its crash history. Kubernetes' semantics:
//
//   - Always restarts every exit; OnFailure restarts non-zero exits, OOM kills and containers
//     killed by a failed liveness or startup probe (whatever their exit code); Never none.
//   - The first crash restarts at once (the target: Running again within a second); each further
//     crash waits base, 2*base, 4*base ... capped at max (10 s, 20 s, 40 s ... 300 s), counted
//     from when the container finished - shown as waiting/CrashLoopBackOff meanwhile.
//   - A container that ran for at least `resetMs` before it exited has its crash history forgotten:
//     its next restart is immediate again.

export type RestartPolicy = "Always" | "OnFailure" | "Never";

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  resetMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 10_000, maxMs: 300_000, resetMs: 600_000 };

/** Crashes since the crash history was last reset (0: the next restart is immediate). */
export interface CrashHistory {
  crashes: number;
}

export interface Exit {
  exitCode: number;
  oomKilled: boolean;
  /** A failed liveness or startup probe had it killed. */
  unhealthy?: boolean;
  /** ms; 0 when unknown (then the run counts as short). */
  startedAt: number;
  finishedAt: number;
}

export type RestartDecision =
  /** The container stays terminated. */
  | { type: "done" }
  /** Start a new container at `at` (absolute ms); `delayMs` 0 means at once. */
  | { type: "restart"; at: number; delayMs: number; history: CrashHistory };

export function normalizePolicy(policy: string | undefined): RestartPolicy {
  return policy === "OnFailure" || policy === "Never" ? policy : "Always";
}

export function wantsRestart(policy: RestartPolicy, exit: Pick<Exit, "exitCode" | "oomKilled" | "unhealthy">): boolean {
  switch (policy) {
    case "Always":
      return true;
    case "OnFailure":
      return exit.exitCode !== 0 || exit.oomKilled || exit.unhealthy === true;
    case "Never":
      return false;
  }
}

/** The wait before restart number `crashes + 1`: 0, base, 2 base, 4 base, ... <= max. */
export function backoffDelay(crashes: number, opts: BackoffOptions): number {
  if (crashes <= 0) return 0;
  // 2 ** n overflows to Infinity long after the cap; min() keeps it finite.
  return Math.min(opts.baseMs * 2 ** (crashes - 1), opts.maxMs);
}

export function nextAction(policy: RestartPolicy, exit: Exit, history: CrashHistory, now: number, opts: BackoffOptions = DEFAULT_BACKOFF): RestartDecision {
  if (!wantsRestart(policy, exit)) return { type: "done" };
  const ranMs = exit.startedAt > 0 && exit.finishedAt >= exit.startedAt ? exit.finishedAt - exit.startedAt : 0;
  const crashes = ranMs >= opts.resetMs ? 0 : history.crashes;
  const delayMs = backoffDelay(crashes, opts);
  const from = exit.finishedAt > 0 ? Math.min(exit.finishedAt, now) : now;
  const at = Math.max(now, from + delayMs);
  return { type: "restart", at, delayMs: at - now, history: { crashes: crashes + 1 } };
}
