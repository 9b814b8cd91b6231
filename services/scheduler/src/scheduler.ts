// The scheduler: pods without a node, from the informer, through the queue and the pipeline, to a
// compare-and-swap binding. Wires the parts and follows the informers; the cycle machine
// (cycle-machine.ts) decides when to schedule, wait or drain.
//
// Which pods: spec.nodeName empty, not being deleted, not Succeeded/Failed, and spec.schedulerName
// "" or ours. Two schedulers (or a client) may race for a pod: every binding is a CAS on the
// revision the decision was made from, so exactly one wins; a loser reads the pod again and
// skips it once it is bound (pod-scheduled.ts).
import type { Node, Pod } from "@navarch/api";
import { realClock, silentLogger, type Clock, type Logger, type ObjectEventRecorder } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { createActor } from "xstate";
import { Binder, type BindDone } from "./binder.js";
import { SchedulerCache } from "./cache.js";
import { cycleMachine, type CycleActor, type CycleWork } from "./cycle-machine.js";
import { scheduledMessage, unschedulableMessage } from "./messages.js";
import { isTerminal, podInfoOf } from "./pod-info.js";
import { SchedulingQueue } from "./queue.js";
import { SCHEDULED } from "./reasons.js";
import { findPlacement, PROFILES, type ProfileName, type WeightedRanker } from "./stack.js";
import { UnschedulableReporter } from "./unschedulable-reporter.js";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface SchedulerConfig {
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  /** Events (Scheduled, FailedScheduling); none when undefined. */
  recorder?: ObjectEventRecorder | undefined;
  schedulerName?: string;
  profile?: ProfileName;
  /** 0: adaptive (kube-scheduler's percentageOfNodesToScore). */
  percentageOfNodesToScore?: number;
  maxBindsInFlight?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  batchSize?: number;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}

export interface SchedulerStats {
  /** Scheduling attempts (one pod through the pipeline). */
  attempts: number;
  bound: number;
  unschedulable: number;
  /** Bindings that lost to another writer who bound the pod first (skipped). */
  lostRaces: number;
  /** Bindings refused because the pod changed (decided again). */
  conflicts: number;
  bindErrors: number;
}

export class Scheduler {
  readonly name: string;
  readonly stats: SchedulerStats = { attempts: 0, bound: 0, unschedulable: 0, lostRaces: 0, conflicts: 0, bindErrors: 0 };
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  private readonly binder: Binder;
  private readonly reporter: UnschedulableReporter;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly profile: readonly WeightedRanker[];
  /** Our own newest write of a pod, until the informer has caught up with it. */
  private readonly ownWrites = new Map<string, Pod>();
  private actor: CycleActor | undefined;
  private done: Promise<void> | undefined;
  private unsubscribe: (() => void)[] = [];
  private nextStart = 0;
  private clusterChanged = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly config: SchedulerConfig) {
    this.name = config.schedulerName || DEFAULT_SCHEDULER_NAME;
    this.clock = config.clock ?? realClock;
    this.logger = config.logger ?? silentLogger;
    this.profile = PROFILES[config.profile ?? "spread"];
    if (!this.profile) throw new Error(`unknown scheduler profile "${config.profile}": spread or binpack`);
    this.queue = new SchedulingQueue({ initialBackoffMs: config.initialBackoffMs, maxBackoffMs: config.maxBackoffMs });
    this.binder = new Binder(config.pods.store, config.maxBindsInFlight ?? 256, (d) => this.actor?.send({ type: "BIND_DONE", outcome: d }), () => this.clock.now());
    this.reporter = new UnschedulableReporter({
      store: config.pods.store,
      recorder: config.recorder,
      now: () => this.clock.now(),
      onWritten: (key, pod) => this.rememberWrite(key, pod),
      logger: this.logger,
    });
  }

  /** Follows the informers (which have replayed), fills the cache and starts the cycle. */
  async start(): Promise<void> {
    const { pods, nodes } = this.config;
    this.unsubscribe.push(nodes.onEvent((e) => this.onNode(e)));
    this.unsubscribe.push(pods.onEvent((e) => this.onPod(e)));
    for (const node of nodes.list()) this.cache.setNode(node);
    for (const key of pods.keys()) this.follow(key, pods.getByKey(key), undefined);
    const actor = createActor(cycleMachine, { input: { work: this.work(), batchSize: this.config.batchSize }, clock: this.clock });
    this.done = new Promise<void>((resolve) => {
      actor.subscribe({
        complete: () => resolve(),
        // A root actor without an error observer would crash the process.
        error: (err) => {
          this.logger.error({ err: String(err) }, "scheduling cycle failed");
          resolve();
        },
      });
    });
    this.actor = actor;
    actor.start();
    this.logger.info({ scheduler: this.name, nodes: this.cache.nodeCount, pending: this.queue.activeCount }, "scheduler started");
  }

  /** Stops scheduling; resolves once the bindings in flight have finished. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const u of this.unsubscribe) u();
      this.unsubscribe = [];
      this.actor?.send({ type: "STOP" });
      await this.done;
      await this.reporter.idle();
      await this.config.recorder?.stop();
      this.logger.info({ scheduler: this.name, ...this.stats }, "scheduler stopped");
    })();
    return this.stopping;
  }

  /** The cycle machine's state (tests, status). */
  get state(): string {
    return String(this.actor?.getSnapshot().value ?? "not started");
  }

  /** Resolves when the reporter has written what it has (tests). */
  reporterIdle(): Promise<void> {
    return this.reporter.idle();
  }

  // ---------------------------------------------------------------- informers

  private onNode(e: StoreEvent<Node>): void {
    if (e.type === "DELETED") this.cache.removeNode(e.object.metadata?.name ?? "");
    else if (this.cache.setNode(e.object)) this.changed();
  }

  private onPod(e: StoreEvent<Pod>): void {
    if (e.type === "DELETED") this.reporter.forget(e.key, e.object.metadata?.uid ?? "");
    this.follow(e.key, e.type === "DELETED" ? undefined : e.object, e.type === "MODIFIED" ? e.old : undefined);
  }

  /** One pod's new state (undefined: deleted); `old` is its previous state for a modification. */
  private follow(key: string, pod: Pod | undefined, old: Pod | undefined): void {
    if (this.cache.observePod(key, pod)) this.changed();
    const own = this.ownWrites.get(key);
    if (own && (!pod || revision(own) <= revision(pod))) this.ownWrites.delete(key);
    if (!pod || !this.wants(pod)) {
      this.queue.remove(key);
      if (pod) this.reporter.forget(key, pod.metadata?.uid ?? "");
      return;
    }
    // Its binding is in flight: the outcome decides what happens next.
    if (this.cache.isAssumed(key)) return;
    const priority = pod.spec?.priority ?? 0;
    // A pod waiting after a failure is tried at once only when its spec changed (say, a new
    // toleration); our own status writes come back as MODIFIED events too and change nothing.
    if (old && specChanged(old, pod)) this.queue.addNow(key, priority);
    else this.queue.add(key, priority);
    this.wake();
  }

  private wants(pod: Pod): boolean {
    if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp || isTerminal(pod)) return false;
    const name = pod.spec?.schedulerName ?? "";
    return name === "" || name === this.name;
  }

  private changed(): void {
    this.clusterChanged = true;
    this.wake();
  }

  private wake(): void {
    this.actor?.send({ type: "WAKE" });
  }

  private rememberWrite(key: string, pod: Pod): void {
    const seen = this.config.pods.getByKey(key);
    if (!seen || revision(pod) > revision(seen)) this.ownWrites.set(key, pod);
  }

  /** The newest version of a pod we know: the informer's, or our own later write. */
  private latest(key: string): Pod | undefined {
    const seen = this.config.pods.getByKey(key);
    const own = this.ownWrites.get(key);
    if (own && seen && own.metadata?.uid === seen.metadata?.uid && revision(own) > revision(seen)) return own;
    return seen;
  }

  // ---------------------------------------------------------------- the cycle's work

  private work(): CycleWork<BindDone> {
    return {
      now: () => this.clock.now(),
      applyClusterChanges: () => {
        if (!this.clusterChanged) return;
        this.clusterChanged = false;
        this.queue.moveAllToActive(this.clock.now());
      },
      hasReady: () => this.queue.hasReady(this.clock.now()),
      bindSlots: () => ({ free: this.binder.max - this.binder.inFlight, total: this.binder.max }),
      bindsInFlight: () => this.binder.inFlight,
      nextRetryAt: () => this.queue.nextDeadline(),
      scheduleBatch: (max) => {
        let n = 0;
        while (n < max && this.binder.slotFree) {
          const key = this.queue.pop(this.clock.now());
          if (key === undefined) break;
          this.scheduleOne(key);
          n++;
        }
        return n;
      },
      settle: (d) => this.settle(d),
    };
  }

  private scheduleOne(key: string): void {
    const pod = this.latest(key);
    if (!pod || !this.wants(pod) || this.cache.isAssumed(key)) {
      this.queue.done(key);
      return;
    }
    this.stats.attempts++;
    const info = podInfoOf(pod);
    const result = findPlacement({
      pod: info,
      nodes: this.cache.nodeList(),
      start: this.nextStart,
      profile: this.profile,
      percentageOfNodesToScore: this.config.percentageOfNodesToScore,
      random: this.config.random,
    });
    this.nextStart = result.nextStart;
    if (result.fit) {
      this.cache.assume(info, result.node.name);
      this.binder.start({ key, pod, node: result.node.name, placed: result });
      return;
    }
    this.stats.unschedulable++;
    const message = unschedulableMessage(result.total, result.reasons);
    const delay = this.queue.fail(key, this.clock.now());
    this.logger.debug({ pod: key, message, retryInMs: delay }, "pod is unschedulable");
    this.reporter.report(key, pod, message);
  }

  private settle({ job, outcome }: BindDone): void {
    const { key, pod } = job;
    const uid = pod.metadata?.uid ?? "";
    switch (outcome.type) {
      case "bound": {
        this.stats.bound++;
        this.queue.forget(key);
        this.queue.done(key);
        this.reporter.forget(key, uid);
        const m = pod.metadata!;
        this.config.recorder?.record({ kind: "Pod", apiVersion: "v1", namespace: m.namespace, name: m.name, uid }, "Normal", SCHEDULED, scheduledMessage(m.namespace, m.name, job.placed));
        this.logger.debug({ pod: key, node: job.node }, "pod bound");
        return;
      }
      case "alreadyBound":
      case "gone":
        if (outcome.type === "alreadyBound") this.stats.lostRaces++;
        this.forgetAssumption(key);
        this.queue.remove(key);
        this.queue.done(key);
        this.reporter.forget(key, uid);
        return;
      case "changed":
        this.stats.conflicts++;
        this.forgetAssumption(key);
        this.rememberWrite(key, outcome.pod);
        this.queue.retry(key);
        return;
      case "failed":
        this.stats.bindErrors++;
        this.forgetAssumption(key);
        this.logger.warn({ pod: key, node: job.node, err: String(outcome.error) }, "binding failed; backing off");
        this.queue.fail(key, this.clock.now());
        return;
    }
  }

  private forgetAssumption(key: string): void {
    // The room it took is free again: pods waiting for room may fit now.
    if (this.cache.forget(key)) this.clusterChanged = true;
  }
}

function revision(pod: Pod): number {
  return Number(pod.metadata?.resourceVersion ?? 0);
}

/** Whether what scheduling reads of a pod's spec changed (status writes do not count). */
function specChanged(old: Pod, now: Pod): boolean {
  return JSON.stringify(old.spec) !== JSON.stringify(now.spec);
}
