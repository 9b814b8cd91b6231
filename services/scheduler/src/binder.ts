// The bind writes in flight: at most `max` CAS writes at once (pipelined over one NATS
// connection), each reporting its outcome through `onDone`. Bounded so a burst of pods cannot
// queue unbounded writes, and so the cycle machine knows when to wait.
import type { Pod } from "@navarch/api";
import type { ResourceStore } from "@navarch/store";
import { bind, type BindOutcome } from "./pod-scheduled.js";
import type { Placed } from "./stack.js";

export interface BindJob {
  key: string;
  pod: Pod;
  node: string;
  placed: Placed;
}

export interface BindDone {
  job: BindJob;
  outcome: BindOutcome;
}

export class Binder {
  private running = 0;

  constructor(
    private readonly store: ResourceStore<Pod>,
    readonly max: number,
    private readonly onDone: (done: BindDone) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get slotFree(): boolean {
    return this.running < this.max;
  }

  start(job: BindJob): void {
    this.running++;
    void bind(this.store, job.pod, job.node, new Date(this.now())).then(
      (outcome) => this.finish({ job, outcome }),
      (error: unknown) => this.finish({ job, outcome: { type: "failed", error } }),
    );
  }

  private finish(done: BindDone): void {
    this.running--;
    this.onDone(done);
  }
}
