// The scheduler's options, declared once (env var, default, doc).
import { LEADER_ELECTION_OPTIONS } from "@navarch/controller";

export const SCHEDULER_OPTIONS = {
  ...LEADER_ELECTION_OPTIONS,
};

export type SchedulerOptions = {
  [K in keyof typeof SCHEDULER_OPTIONS]: (typeof SCHEDULER_OPTIONS)[K]["default"];
};

export function defaultOptions(): SchedulerOptions {
  return Object.fromEntries(Object.entries(SCHEDULER_OPTIONS).map(([k, spec]) => [k, spec.default])) as SchedulerOptions;
}
