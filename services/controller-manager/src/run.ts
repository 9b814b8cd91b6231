// The controller-manager: shared informers for every kind its controllers read, and - while this
// process holds the Lease navarch-system/controller-manager - the controllers themselves. Caches
// stay warm on a standby, so a takeover starts reconciling without a replay. The all-in-one calls
// run() with its own connection; main.ts calls it standalone.
import { KINDS, type Lease, type Node, type Pod } from "@navarch/api";
import { LeaderElector, SharedInformers, type Controller, type Logger } from "@navarch/controller";
import { Informer, openNodePods, openPodStatusReports } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { namespaceController } from "./namespace/controller.js";
import { namespaceInformers } from "./namespace/watches.js";
import { nodeLifecycleController } from "./node-lifecycle/controller.js";
import { podProjector } from "./pod-projector/controller.js";
import { podStatusFolder } from "./pod-status/controller.js";
import { defaultOptions, type ControllerManagerOptions } from "./options.js";

export const LEASE_NAME = "controller-manager";

export interface RunParams {
  nc: NatsConnection;
  logger: Logger;
  signal: AbortSignal;
  options?: Partial<ControllerManagerOptions> & { kvReplicas?: number };
}

export async function run({ nc, logger, signal, options = {} }: RunParams): Promise<void> {
  const o = { ...defaultOptions(), ...options };
  const replicas = options.kvReplicas ?? 1;
  const shared = new SharedInformers(nc, { logger, openOptions: () => ({ replicas }) });
  // Buckets that are not a kind's own: the per-node pod view and the agents' status reports.
  const warn = (what: string) => (err: unknown) => logger.warn({ err: String(err) }, `${what} watch failed; retrying`);
  const projections = new Informer<Pod>(await openNodePods(nc, undefined, replicas), nc, { onWatchError: warn("node pods") });
  const reports = new Informer<Pod>(await openPodStatusReports(nc, replicas), nc, { onWatchError: warn("pod status") });
  try {
    const informers = await namespaceInformers(shared);
    const leases = await shared.store(KINDS.Lease);
    const pods = (await shared.informer(KINDS.Pod)) as Informer<Pod>;
    const nodes = (await shared.informer(KINDS.Node)) as Informer<Node>;
    const leaseInformer = (await shared.informer(KINDS.Lease)) as Informer<Lease>;
    if (!(await untilAborted(Promise.all([shared.start(), projections.start(), reports.start()]), signal))) return;
    logger.info({ kinds: 1 + informers.contents.length }, "caches synced");

    let controllers: Controller[] = [];
    const elector = new LeaderElector({
      store: leases,
      name: LEASE_NAME,
      identity: o.leaderElectIdentity || `${hostname()}_${randomUUID().slice(0, 8)}`,
      enabled: o.leaderElect,
      leaseDurationSeconds: o.leaseDurationSeconds,
      renewDeadlineSeconds: o.renewDeadlineSeconds,
      retryPeriodSeconds: o.retryPeriodSeconds,
      logger,
      onNewLeader: (identity) => logger.info({ leader: identity || "(none)" }, "controller-manager leader observed"),
      onStartedLeading: async () => {
        controllers = [
          namespaceController({
            informers,
            workers: o.namespaceWorkers,
            resyncPeriodMs: o.namespaceResyncSeconds * 1000,
            logger,
          }),
          podProjector({ nc, informers: { pods, projections }, logger, kvReplicas: replicas }),
          podStatusFolder({ pods, reports, logger }),
          nodeLifecycleController({ nodes, leases: leaseInformer, gracePeriodMs: o.nodeMonitorGraceSeconds * 1000, logger }),
        ];
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
    projections.stop();
    reports.stop();
    await shared.stop();
  }
}

/** Resolves true when `work` finishes first, false when `signal` aborts first. */
async function untilAborted(work: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
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
