// The node's heartbeat: the Lease <node> in navarch-node-lease, whose renewTime the agent moves
// forward every interval. One small compare-and-swap write per interval and nothing else - the
// cheapest signal of life, as Kubernetes' node leases. The control plane folds it into the Node's
// Ready condition.
//
// Writes name the revision we last wrote; if someone else wrote in between (or the lease was
// deleted) we read it fresh and take it back, since only this node's agent renews this lease.
// Ticks are scheduled from absolute deadlines (start + k * interval), so slow writes do not make
// the heartbeat drift; a tick whose write is still in flight is skipped, not queued.
import { AlreadyExistsError, ConflictError, KINDS, type Lease } from "@navarch/api";
import { microTime, type Logger } from "@navarch/controller";
import { NODE_LEASE_NAMESPACE, timestamp, type ResourceStore } from "@navarch/store";
import { randomUUID } from "node:crypto";

export interface HeartbeatOptions {
  store: ResourceStore<Lease>;
  node: string;
  intervalMs: number;
  leaseDurationSeconds: number;
  logger: Logger;
  now?: () => number;
}

export class Heartbeat {
  private record: Lease | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private nextAt = 0;
  private failing = false;
  /**
   * The renewTime of the last successful renewal (ms), 0 before the first. It is the time written
   * into the Lease, not when the write was acknowledged, so fencing counts from the same instant
   * as the control plane does.
   */
  lastRenewedAt = 0;
  renewals = 0;

  constructor(private readonly opts: HeartbeatOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Renews once (so the node is alive before pods start), then every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.nextAt = this.now() + this.opts.intervalMs;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.now();
    // After a long pause (a suspended laptop) do not fire a burst of missed beats.
    while (this.nextAt <= now) this.nextAt += this.opts.intervalMs;
    this.timer = setTimeout(() => {
      if (!this.inFlight) this.inFlight = this.beat().finally(() => (this.inFlight = undefined));
      this.schedule();
    }, this.nextAt - now);
  }

  /** One renewal; failures are logged (once per outage) and the next tick tries again. */
  async beat(): Promise<void> {
    try {
      this.lastRenewedAt = await this.renew();
      this.renewals++;
      if (this.failing) this.opts.logger.info({ node: this.opts.node }, "heartbeat renewed again");
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.opts.logger.warn({ node: this.opts.node, err: String(err) }, "heartbeat failed; retrying every interval");
      this.failing = true;
    }
  }

  /** One renewal; returns the renewTime written. */
  private async renew(): Promise<number> {
    const { store, node } = this.opts;
    const now = this.now();
    if (this.record) {
      try {
        this.record = await store.update(this.renewed(this.record, now));
        return now;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        this.record = undefined;
      }
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await store.get(NODE_LEASE_NAMESPACE, node);
      try {
        this.record = current ? await store.update(this.renewed(current, now)) : await store.create(this.fresh(now));
        return now;
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof AlreadyExistsError)) throw err;
      }
    }
    throw new ConflictError(`lease ${NODE_LEASE_NAMESPACE}/${node} keeps changing under us`);
  }

  private renewed(lease: Lease, now: number): Lease {
    const spec = lease.spec;
    const ours = spec?.holderIdentity === this.opts.node;
    return {
      ...lease,
      spec: {
        holderIdentity: this.opts.node,
        leaseDurationSeconds: this.opts.leaseDurationSeconds,
        acquireTime: ours && spec?.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec?.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
  }

  private fresh(now: number): Lease {
    return KINDS.Lease.codec.fromPartial({
      apiVersion: KINDS.Lease.apiVersion,
      kind: KINDS.Lease.kind,
      metadata: { name: this.opts.node, namespace: NODE_LEASE_NAMESPACE, uid: randomUUID(), creationTimestamp: timestamp(new Date(now)) },
      spec: {
        holderIdentity: this.opts.node,
        leaseDurationSeconds: this.opts.leaseDurationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      },
    });
  }
}
