// The scheduler's options, declared once (env var, default, doc).
import { asInt, asString, option } from "@navarch/config";
import { LEADER_ELECTION_OPTIONS } from "@navarch/controller";

function asProfile(raw: string): "spread" | "binpack" {
  if (raw === "spread" || raw === "binpack") return raw;
  throw new Error(`expected spread or binpack, got "${raw}"`);
}

function asPercentage(raw: string): number {
  const n = asInt(raw);
  if (n < 0 || n > 100) throw new Error(`expected 0..100, got "${raw}"`);
  return n;
}

function asPositive(raw: string): number {
  const n = asInt(raw);
  if (n < 1) throw new Error(`expected a positive integer, got "${raw}"`);
  return n;
}

export const SCHEDULER_OPTIONS = {
  ...LEADER_ELECTION_OPTIONS,
  schedulerName: option("NAVARCH_SCHEDULER_NAME", "default-scheduler", asString, 'pods with this spec.schedulerName (or none) are ours; also the "From" of our events'),
  profile: option("NAVARCH_SCHEDULER_PROFILE", "spread" as "spread" | "binpack", asProfile, "spread: prefer the least allocated node; binpack: the most allocated one that fits"),
  percentageOfNodesToScore: option("NAVARCH_SCHEDULER_PERCENTAGE_OF_NODES_TO_SCORE", 0, asPercentage, "stop looking once this % of nodes were found feasible (at least 100 nodes); 0: adaptive, 50% - nodes/125 %"),
  maxBindsInFlight: option("NAVARCH_SCHEDULER_BINDS_IN_FLIGHT", 256, asPositive, "binding writes (compare-and-swap) in flight at once"),
  initialBackoffMs: option("NAVARCH_SCHEDULER_BACKOFF_INITIAL_MS", 1_000, asPositive, "first wait before an unschedulable pod is tried again; doubles per failure"),
  maxBackoffMs: option("NAVARCH_SCHEDULER_BACKOFF_MAX_MS", 10_000, asPositive, "longest wait before an unschedulable pod is tried again"),
};

export type SchedulerOptions = {
  [K in keyof typeof SCHEDULER_OPTIONS]: (typeof SCHEDULER_OPTIONS)[K]["default"];
};

export function defaultOptions(): SchedulerOptions {
  return Object.fromEntries(Object.entries(SCHEDULER_OPTIONS).map(([k, spec]) => [k, spec.default])) as SchedulerOptions;
}
