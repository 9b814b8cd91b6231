// Tells users why a pod is not scheduled: the PodScheduled=False/Unschedulable condition (written
// only when its message changes) and a FailedScheduling event. Retries of a pod that keeps failing
// do not spam: a pod gets at most one event per `minEventIntervalMs` (10 s) even while its message
// changes (nodes coming up: 0/5, 0/17 ... nodes), and the same message at most once per
// `repeatEveryMs` (a minute; the recorder counts the repeat on the same Event). A message held
// back is recorded by a later attempt (a failing pod is tried at least every 10 s).
//
// Writes are background work: at most `maxWrites` at once, and a pod with a write pending gets
// only its newest message written.
import type { Pod } from "@navarch/api";
import { silentLogger, type Logger, type ObjectEventRecorder } from "@navarch/controller";
import type { ResourceStore } from "@navarch/store";
import { markUnschedulable } from "./pod-scheduled.js";
import { FAILED_SCHEDULING } from "./reasons.js";

export interface ReporterOptions {
  store: ResourceStore<Pod>;
  recorder: ObjectEventRecorder | undefined;
  /** Our newer version of a pod after a write, so the next bind does not start from a stale one. */
  onWritten: (key: string, pod: Pod) => void;
  now: () => number;
  maxWrites?: number;
  repeatEveryMs?: number;
  minEventIntervalMs?: number;
  logger?: Logger;
}

/** Whether a FailedScheduling event with `message` is due, given the pod's last one (pure). */
export function eventDue(
  last: { message: string; at: number } | undefined,
  message: string,
  now: number,
  repeatEveryMs: number,
  minEventIntervalMs: number,
): boolean {
  if (!last) return true;
  return now - last.at >= (last.message === message ? repeatEveryMs : minEventIntervalMs);
}

export class UnschedulableReporter {
  private readonly pending = new Map<string, { pod: Pod; message: string }>();
  private readonly writing = new Set<string>();
  private readonly lastEvent = new Map<string, { message: string; at: number }>();
  private readonly maxWrites: number;
  private readonly repeatEveryMs: number;
  private readonly minEventIntervalMs: number;
  private readonly logger: Logger;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: ReporterOptions) {
    this.maxWrites = opts.maxWrites ?? 16;
    this.repeatEveryMs = opts.repeatEveryMs ?? 60_000;
    this.minEventIntervalMs = opts.minEventIntervalMs ?? 10_000;
    this.logger = opts.logger ?? silentLogger;
  }

  report(key: string, pod: Pod, message: string): void {
    this.recordEvent(pod, message);
    this.pending.set(key, { pod, message });
    this.pump();
  }

  /** The pod was bound or deleted: nothing more to say about it. */
  forget(key: string, uid: string): void {
    this.pending.delete(key);
    this.lastEvent.delete(uid);
  }

  /** Resolves when no write is pending or running. */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.writing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private recordEvent(pod: Pod, message: string): void {
    const uid = pod.metadata?.uid ?? "";
    const now = this.opts.now();
    const last = this.lastEvent.get(uid);
    if (!eventDue(last, message, now, this.repeatEveryMs, this.minEventIntervalMs)) return;
    this.lastEvent.set(uid, { message, at: now });
    const m = pod.metadata;
    this.opts.recorder?.record({ kind: "Pod", apiVersion: "v1", namespace: m?.namespace ?? "", name: m?.name ?? "", uid }, "Warning", FAILED_SCHEDULING, message);
  }

  private pump(): void {
    for (const [key, item] of this.pending) {
      if (this.writing.size >= this.maxWrites) return;
      if (this.writing.has(key)) continue;
      this.pending.delete(key);
      this.writing.add(key);
      void this.write(key, item.pod, item.message).finally(() => {
        this.writing.delete(key);
        this.pump();
        if (this.pending.size === 0 && this.writing.size === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }

  private async write(key: string, pod: Pod, message: string): Promise<void> {
    try {
      const stored = await markUnschedulable(this.opts.store, pod, message, new Date(this.opts.now()));
      if (stored) this.opts.onWritten(key, stored);
    } catch (err) {
      this.logger.warn({ pod: key, err: String(err) }, "writing PodScheduled=False failed");
    }
  }
}
