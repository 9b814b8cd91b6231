// The controller of a pod owner (ReplicaSet, DaemonSet, Job; a StatefulSet next): the runtime's
// machine (syncing -> idle <-> reconciling -> backoff) runs sync(key). What every pod owner's
// sync shares is here - the owner from the cache (one that is gone drops its expectations), its
// pods from the owner index, the expectations, whether its namespace is being deleted, and
// looking again when the kind's pass says so (a pod becoming available, a deadline) or when
// unobserved writes expire. The kind's pass plans (reconcile.ts) and writes (apply.ts).
import type { KubeObject, Namespace, Pod } from "@navarch/api";
import { Controller, silentLogger, type Clock, type Logger, type ObjectEventRecorder, type Watch } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { DEFAULT_POD_DEFAULTS, type PodDefaults } from "./controlled-pods.js";
import { Expectations } from "./expectations.js";
import type { PodOwnerKind } from "./owner-kind.js";
import type { OwnerIndex } from "./owner-index.js";
import type { PodOwnerDeps } from "./pod-writes.js";

/** The options of every pod owner's controller (a kind's options extend them). */
export interface PodOwnerControllerOptions {
  informers: { pods: Informer<Pod>; namespaces: Informer<Namespace> };
  /** Pods by controller uid and orphans by namespace, over informers.pods. */
  podIndex: OwnerIndex<Pod>;
  events: ObjectEventRecorder;
  workers?: number;
  resyncPeriodMs?: number;
  expectations?: Expectations;
  logger?: Logger;
  now?: () => Date;
  clock?: Clock;
  /** Pod names' random part (tests). */
  suffix?: () => string;
  /** The gateway's pod defaults for the pods made here (default: the gateway's defaults). */
  podDefaults?: PodDefaults;
}

/** What one sync of an owner found in the cache can ask about it. */
export interface OwnerPass {
  key: string;
  /** Pods whose controller reference has the owner's uid. */
  owned(): Pod[];
  /** Pods of the owner's namespace without a controller (candidates for adoption). */
  orphans(): Pod[];
  /**
   * Whether the pod cache shows every write of the earlier passes (or they expired); when it
   * does not, the owner is looked at again when they expire.
   */
  expectationsSatisfied(): boolean;
  /** The owner's namespace is being deleted: no pods can be created in it. */
  namespaceTerminating(): boolean;
}

/** What a kind gives: its owners, its watches and its pass. */
export interface PodOwnerSetup<O extends KubeObject> {
  kind: PodOwnerKind<O>;
  owners: Informer<O>;
  watches: Watch[];
  /** Workers when the options name none. */
  workers: number;
  /** One pass over an owner in the cache. */
  sync(owner: O, pass: OwnerPass, deps: PodOwnerDeps<O>): Promise<PassResult>;
}

/**
 * When to look at the owner again (ms), when the plan says; or "deleted": the pass deleted the
 * owner (a Job after ttlSecondsAfterFinished), whose deletion brings its key back anyway, so
 * nothing is looked at again for unobserved writes either.
 */
export type PassResult = number | undefined | "deleted";

export function podOwnerController<O extends KubeObject>(opts: PodOwnerControllerOptions, setup: PodOwnerSetup<O>): Controller {
  const { informers, podIndex } = opts;
  const { kind, owners } = setup;
  const logger = opts.logger ?? silentLogger;
  const expectations = opts.expectations ?? new Expectations();
  const deps: PodOwnerDeps<O> = {
    kind,
    owners,
    pods: informers.pods.store,
    expectations,
    events: opts.events,
    logger,
    now: opts.now ?? (() => new Date()),
    ...(opts.suffix ? { suffix: opts.suffix } : {}),
    podDefaults: opts.podDefaults ?? DEFAULT_POD_DEFAULTS,
  };
  const controller: Controller = new Controller({
    name: kind.name,
    watches: setup.watches,
    informers: [informers.namespaces],
    keys: () => owners.keys(),
    workers: opts.workers ?? setup.workers,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    logger,
    clock: opts.clock,
    sync: async (key) => {
      const owner = owners.getByKey(key);
      if (!owner) {
        expectations.forget(key);
        return;
      }
      const meta = owner.metadata!;
      let expiresInMs: number | undefined;
      const pass: OwnerPass = {
        key,
        owned: () => podIndex.owned(meta.uid),
        orphans: () => podIndex.orphans(meta.namespace),
        expectationsSatisfied: () => {
          const expected = expectations.satisfied(key, informers.pods);
          expiresInMs = expected.satisfied ? undefined : expected.recheckMs;
          return expected.satisfied;
        },
        namespaceTerminating: () => !!informers.namespaces.get("", meta.namespace)?.metadata?.deletionTimestamp,
      };
      const result = await setup.sync(owner, pass, deps);
      if (result === "deleted") return;
      // A little after the moment the plan names, so that it has surely passed then.
      if (result !== undefined) controller.queue.addAfter(key, result + 100);
      if (expiresInMs !== undefined) controller.queue.addAfter(key, expiresInMs);
    },
  });
  return controller;
}
