// Following the container runtime: its event stream, handed to the pod manager as events arrive
// (a container that dies is seen at once), and a resync from the runtime's container list every
// `resyncMs` and whenever the stream (re)opens - the stream drops when the Docker daemon
// restarts, and whatever happened while we were not listening is found by the list. A lost
// stream is reopened with backoff (100 ms doubling to 5 s) until it works again.
import type { Logger } from "@navarch/controller";
import type { ContainerRuntime, RuntimeEvent } from "@navarch/runtime";

/** How long after opening the event stream the second resync runs. */
const SETTLE_MS = 1_000;

export interface RuntimeWatchOptions {
  runtime: ContainerRuntime;
  /** Only this node's containers' events (the daemon filters by our node label). */
  node: string;
  logger: Logger;
  resyncMs: number;
  onEvent: (event: RuntimeEvent) => void;
  resync: () => Promise<void>;
}

export class RuntimeWatch {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Times the event stream was (re)opened. */
  connects = 0;

  constructor(private readonly opts: RuntimeWatchOptions) {}

  start(): void {
    this.loop = this.follow();
    this.scheduleResync();
  }

  /** Stops following; waits (at most timeoutMs) for the stream and a resync in flight to end. */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    const bounded = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([Promise.all([this.loop, this.resyncing]), bounded]);
  }

  /** Runs a resync now (one at a time; a request during one runs once more afterwards). */
  resyncNow(why: string): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        try {
          await this.opts.resync();
        } catch (err) {
          this.opts.logger.warn({ why, err: String(err) }, "resync from the runtime failed");
        }
      } while (this.resyncAgain && !this.abort.signal.aborted);
    })().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private scheduleResync(): void {
    if (this.abort.signal.aborted || this.opts.resyncMs <= 0) return;
    this.resyncTimer = setTimeout(() => {
      void this.resyncNow("periodic").finally(() => this.scheduleResync());
    }, this.opts.resyncMs);
  }

  private async follow(): Promise<void> {
    const signal = this.abort.signal;
    let delay = 100;
    while (!signal.aborted) {
      try {
        const events = this.opts.runtime.events(signal, this.opts.node)[Symbol.asyncIterator]();
        // The first next() opens the stream; the resync covers whatever happened while it was
        // closed (or, the first time, since the pod manager listed the containers). The stream
        // does not say when the runtime has taken the subscription, so a second resync a moment
        // later closes the window between that list and the subscription.
        const firstEvent = events.next();
        this.connects++;
        if (this.connects > 1) this.opts.logger.info({ connects: this.connects }, "runtime event stream reconnected; resyncing");
        void this.resyncNow(this.connects > 1 ? "event stream reconnected" : "event stream opened");
        if (this.settleTimer) clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => void this.resyncNow("event stream settled"), SETTLE_MS);
        for (let r = await firstEvent; !r.done; r = await events.next()) {
          delay = 100;
          try {
            this.opts.onEvent(r.value);
          } catch (err) {
            this.opts.logger.error({ event: r.value.type, err: String(err) }, "handling a runtime event failed");
          }
        }
        if (signal.aborted) return;
        this.opts.logger.warn({ retryMs: delay }, "runtime event stream ended; reopening");
      } catch (err) {
        if (signal.aborted) return;
        this.opts.logger.warn({ retryMs: delay, err: String(err) }, "runtime event stream failed; reopening");
      }
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
