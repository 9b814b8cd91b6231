// How a controller service runs (controller-manager, scheduler, replication): open the informers
// its controllers read, wait for them to replay, then run the controllers only while this process
// holds its Lease in navarch-system. Caches stay warm on a standby, so a takeover reconciles
// without a replay. The all-in-one passes one SharedInformers to every service so that a kind is
// cached once per process, not once per service.
import { KINDS } from "@navarch/api";
import { asBool, asInt, asString, option } from "@navarch/config";
import type { NatsConnection } from "@nats-io/transport-node";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { LeaderElector } from "./lease.js";
import type { Logger } from "./logger.js";
import { SharedInformers } from "./shared-informers.js";

/** Leader election options, the same for every controller service (each has its own Lease). */
export const LEADER_ELECTION_OPTIONS = {
  leaderElect: option("NAVARCH_LEADER_ELECT", true, asBool, "run controllers only while holding this service's Lease in navarch-system"),
  leaderElectIdentity: option("NAVARCH_LEADER_ELECT_IDENTITY", "", asString, "this candidate's name in the lease (default: <hostname>_<random>)"),
  leaseDurationSeconds: option("NAVARCH_LEADER_ELECT_LEASE_DURATION", 15, asInt, "seconds a standby waits after the leader's last renewal before taking over"),
  renewDeadlineSeconds: option("NAVARCH_LEADER_ELECT_RENEW_DEADLINE", 10, asInt, "seconds the leader keeps trying to renew before it stops its controllers"),
  retryPeriodSeconds: option("NAVARCH_LEADER_ELECT_RETRY_PERIOD", 2, asInt, "seconds between renewals and acquisition attempts"),
};

export interface LeaderElectionSettings {
  leaderElect: boolean;
  leaderElectIdentity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

/** What a service runs while it leads: a Controller, or anything else that starts and stops (the scheduler). */
export interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ElectedRunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  /** The Lease navarch-system/<leaseName> that elects one active instance of this service. */
  leaseName: string;
  election: LeaderElectionSettings;
  /** Informers shared with other services in this process; when absent, this run owns its own. */
  shared?: SharedInformers | undefined;
  kvReplicas?: number | undefined;
  /**
   * Asks `shared` for the informers the controllers need (before the caches sync) and returns
   * what builds the controllers each time this process starts leading.
   */
  prepare(shared: SharedInformers): Promise<() => Runnable[]>;
  /** Called once the caches have synced (before any election). */
  onSynced?: () => void;
}

/** Runs until `signal` aborts. */
export async function runElected(p: ElectedRunParams): Promise<void> {
  const { logger, signal } = p;
  const owned = p.shared === undefined;
  const shared = p.shared ?? new SharedInformers(p.nc, { logger, openOptions: () => ({ replicas: p.kvReplicas ?? 1 }) });
  try {
    const build = await p.prepare(shared);
    const leases = await shared.store(KINDS.Lease);
    if (!(await untilAborted(shared.start(), signal))) return;
    logger.info({ service: p.leaseName }, "caches synced");
    p.onSynced?.();

    let controllers: Runnable[] = [];
    const e = p.election;
    const elector = new LeaderElector({
      store: leases,
      name: p.leaseName,
      identity: e.leaderElectIdentity || `${hostname()}_${randomUUID().slice(0, 8)}`,
      enabled: e.leaderElect,
      leaseDurationSeconds: e.leaseDurationSeconds,
      renewDeadlineSeconds: e.renewDeadlineSeconds,
      retryPeriodSeconds: e.retryPeriodSeconds,
      logger,
      onNewLeader: (identity) => logger.info({ lease: p.leaseName, leader: identity || "(none)" }, "leader observed"),
      onStartedLeading: async () => {
        controllers = build();
        await Promise.all(controllers.map((c) => c.start()));
      },
      onStoppedLeading: async () => {
        await Promise.all(controllers.map((c) => c.stop()));
        controllers = [];
      },
    });
    elector.start();
    await untilAborted(new Promise<never>(() => {}), signal);
    await elector.stop();
  } finally {
    if (owned) await shared.stop();
  }
}

/** Resolves true when `work` finishes first, false when `signal` aborts first. */
export async function untilAborted(work: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  let onAbort!: () => void;
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true as const), aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
