// Leader election over a Lease object (coordination.k8s.io/v1), as client-go's leaderelection:
//
//   - a candidate takes the lease when it is absent, released (no holder) or expired
//     (renewTime + leaseDurationSeconds < now), counting leaseTransitions when the holder changes;
//   - the leader renews every retryPeriod with compare-and-swap on the revision it last wrote, so
//     a stale leader (paused, partitioned) is refused the moment anyone else has written;
//   - a leader that has not renewed within renewDeadline (< leaseDuration, so before anyone else
//     may take over) stops leading - onStoppedLeading runs and is awaited before it campaigns
//     again; seeing another holder stops it at once;
//   - stop() ends leading (awaiting onStoppedLeading) and then releases the lease (clears
//     holderIdentity) so a successor need not wait for expiry.
//
// Expiry is judged by the lease's renewTime against our clock, so clocks of candidates must
// agree to well within leaseDuration - renewDeadline.
import { AlreadyExistsError, ConflictError, KINDS, type Lease } from "@navarch/api";
import { SYSTEM_NAMESPACE, timestamp, type ResourceStore } from "@navarch/store";
import { randomUUID } from "node:crypto";
import { realClock, type Clock } from "./clock.js";
import { silentLogger, type Logger } from "./logger.js";

export interface LeaderElectorOptions {
  store: ResourceStore<Lease>;
  namespace?: string;
  name: string;
  /** Unique per candidate process, e.g. "<hostname>_<uuid>". */
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  /** Called when the observed holder changes ("" when the lease is released). */
  onNewLeader?: (identity: string) => void;
  /** false: no election (single node) - lead at once, until stop(). */
  enabled?: boolean;
  /** Clear holderIdentity on stop (default true). */
  releaseOnStop?: boolean;
  /** Wall clock for lease times (default: clock.now). */
  now?: () => number;
  clock?: Clock;
  logger?: Logger;
}

export const LEASE_NAMESPACE = SYSTEM_NAMESPACE;

export class LeaderElector {
  readonly identity: string;
  private readonly namespace: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly logger: Logger;

  /** The lease as we last wrote it while holding it. */
  private record: Lease | undefined;
  private observedHolder: string | undefined;
  private leading = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private deadlineTimer: unknown;
  private leaderSince = 0;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.identity = opts.identity;
    this.namespace = opts.namespace ?? LEASE_NAMESPACE;
    this.leaseDurationMs = (opts.leaseDurationSeconds ?? 15) * 1000;
    this.renewDeadlineMs = (opts.renewDeadlineSeconds ?? 10) * 1000;
    this.retryPeriodMs = (opts.retryPeriodSeconds ?? 2) * 1000;
    this.clock = opts.clock ?? realClock;
    this.now = opts.now ?? (() => this.clock.now());
    this.logger = opts.logger ?? silentLogger;
    if (!opts.identity) throw new Error("leader election needs an identity");
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new Error("leaseDurationSeconds must be greater than renewDeadlineSeconds");
    if (!(this.renewDeadlineMs > this.retryPeriodMs * 1.2)) throw new Error("renewDeadlineSeconds must be greater than 1.2 x retryPeriodSeconds");
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder we last saw in the lease ("" when released, undefined before the first read). */
  get leader(): string | undefined {
    return this.observedHolder;
  }

  start(): void {
    if (this.running) throw new Error("leader elector already started");
    this.running = this.opts.enabled === false ? this.leadWithoutElection() : this.campaign();
  }

  /** Stops leading (awaiting onStoppedLeading), then releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    if (this.opts.enabled !== false && this.opts.releaseOnStop !== false) await this.release();
  }

  private async leadWithoutElection(): Promise<void> {
    this.leading = true;
    const started = this.callStarted();
    await new Promise<void>((resolve) => (this.stopped ? resolve() : (this.wake = resolve)));
    this.leading = false;
    await started;
    await this.callStopped();
  }

  private async campaign(): Promise<void> {
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) {
        await this.lead();
      } else {
        await this.sleep(this.retryPeriodMs * (1 + Math.random() * 0.2));
      }
    }
  }

  /** Holds the lease until it is lost or stop() is called; then runs onStoppedLeading. */
  private async lead(): Promise<void> {
    this.leading = true;
    this.leaderSince = this.now();
    this.armDeadline();
    this.logger.info({ lease: this.opts.name, identity: this.identity }, "became leader");
    const started = this.callStarted();
    while (!this.stopped && this.leading) {
      await this.sleep(this.retryPeriodMs);
      if (this.stopped || !this.leading) break;
      if (await this.tryAcquireOrRenew()) {
        if (this.leading) this.armDeadline();
      } else if (this.observedHolder !== undefined && this.observedHolder !== this.identity) {
        this.lose(`lease taken by ${JSON.stringify(this.observedHolder)}`);
      }
    }
    this.leading = false;
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    await started;
    await this.callStopped();
  }

  private armDeadline(): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = this.clock.setTimeout(
      () => this.lose(`could not renew within ${this.renewDeadlineMs / 1000} s`),
      this.renewDeadlineMs,
    );
  }

  private lose(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.record = undefined;
    this.logger.warn({ lease: this.opts.name, identity: this.identity, ledMs: this.now() - this.leaderSince, why }, "lost leadership");
    this.wake?.();
  }

  /** One attempt: renew what we hold, or take the lease if it is free or expired. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { store, name } = this.opts;
    const now = this.now();
    if (this.leading && this.record) {
      // Renew on the revision we wrote: any other write in between refuses us.
      try {
        this.record = await store.update(this.withSpec(this.record, now, true));
        return true;
      } catch (err) {
        if (!(err instanceof ConflictError)) return this.failed("renew", err);
        this.record = undefined;
      }
    }
    let current: Lease | undefined;
    try {
      current = await store.get(this.namespace, name);
    } catch (err) {
      return this.failed("read", err);
    }
    if (!current) {
      try {
        this.record = await store.create(this.newLease(now));
        this.observe(this.identity);
        return true;
      } catch (err) {
        if (err instanceof AlreadyExistsError) return false;
        return this.failed("create", err);
      }
    }
    const spec = current.spec;
    const holder = spec?.holderIdentity ?? "";
    this.observe(holder);
    if (holder !== "" && holder !== this.identity && !this.expired(current, now)) return false;
    try {
      this.record = await store.update(this.withSpec(current, now, holder === this.identity));
      this.observe(this.identity);
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      return this.failed("acquire", err);
    }
  }

  private expired(lease: Lease, now: number): boolean {
    const renew = Date.parse(lease.spec?.renewTime ?? "");
    if (Number.isNaN(renew)) return true;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    return renew + durationMs < now;
  }

  private withSpec(lease: Lease, now: number, held: boolean): Lease {
    const old = lease.spec;
    const t = microTime(now);
    return {
      ...lease,
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationMs / 1000,
        acquireTime: held && old?.acquireTime ? old.acquireTime : t,
        renewTime: t,
        leaseTransitions: (old?.leaseTransitions ?? 0) + (held ? 0 : 1),
      },
    };
  }

  private newLease(now: number): Lease {
    const t = microTime(now);
    return KINDS.Lease.codec.fromPartial({
      apiVersion: KINDS.Lease.apiVersion,
      kind: KINDS.Lease.kind,
      metadata: { name: this.opts.name, namespace: this.namespace, uid: randomUUID(), creationTimestamp: timestamp(new Date(now)) },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationMs / 1000,
        acquireTime: t,
        renewTime: t,
        leaseTransitions: 0,
      },
    });
  }

  /** Clears holderIdentity if we still hold the lease, so a successor takes over at once. */
  private async release(): Promise<void> {
    const { store, name } = this.opts;
    try {
      const current = await store.get(this.namespace, name);
      if (!current || current.spec?.holderIdentity !== this.identity) return;
      const t = microTime(this.now());
      await store.update({
        ...current,
        spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: t, renewTime: t },
      });
      this.observe("");
      this.logger.info({ lease: name, identity: this.identity }, "released lease");
    } catch (err) {
      this.logger.warn({ lease: name, identity: this.identity, err: String(err) }, "could not release lease; successors wait for it to expire");
    }
  }

  private observe(holder: string): void {
    if (holder === this.observedHolder) return;
    this.observedHolder = holder;
    try {
      this.opts.onNewLeader?.(holder);
    } catch (err) {
      this.logger.error({ err: String(err) }, "onNewLeader failed");
    }
  }

  private failed(what: string, err: unknown): false {
    this.logger.warn({ lease: this.opts.name, identity: this.identity, err: String(err) }, `lease ${what} failed`);
    return false;
  }

  private async callStarted(): Promise<void> {
    try {
      await this.opts.onStartedLeading();
    } catch (err) {
      this.logger.error({ lease: this.opts.name, err: String(err) }, "onStartedLeading failed");
    }
  }

  private async callStopped(): Promise<void> {
    try {
      await this.opts.onStoppedLeading();
    } catch (err) {
      this.logger.error({ lease: this.opts.name, err: String(err) }, "onStoppedLeading failed");
    }
  }

  /** Sleeps, or less if woken by stop() or by losing the lease. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const timer = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.clock.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}
