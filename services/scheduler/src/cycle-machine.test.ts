// The cycle machine on a simulated clock, driving a real SchedulingQueue; "scheduling" a pod
// here means: fits (start a bind, finished by the test) or not (the queue's backoff).
import { FakeClock } from "@navarch/controller";
import assert from "node:assert/strict";
import { setImmediate as turn } from "node:timers/promises";
import { describe, test } from "node:test";
import { createActor } from "xstate";
import { cycleMachine, type CycleWork } from "./cycle-machine.js";
import { SchedulingQueue } from "./queue.js";

class Harness {
  readonly clock = new FakeClock(0);
  readonly queue = new SchedulingQueue();
  readonly binds: string[] = [];
  readonly bound: string[] = [];
  readonly fits = new Set<string>();
  changed = false;
  maxBinds = 2;
  readonly actor;

  constructor() {
    const work: CycleWork<string> = {
      now: () => this.clock.now(),
      applyClusterChanges: () => {
        if (this.changed) this.queue.moveAllToActive(this.clock.now());
        this.changed = false;
      },
      hasReady: () => this.queue.hasReady(this.clock.now()),
      bindSlots: () => ({ free: this.maxBinds - this.binds.length, total: this.maxBinds }),
      bindsInFlight: () => this.binds.length,
      scheduleBatch: (max) => {
        let n = 0;
        while (n < max && this.binds.length < this.maxBinds) {
          const key = this.queue.pop(this.clock.now());
          if (!key) break;
          n++;
          if (this.fits.has(key)) this.binds.push(key);
          else this.queue.fail(key, this.clock.now());
        }
        return n;
      },
      nextRetryAt: () => this.queue.nextDeadline(),
      settle: (key) => {
        this.bound.push(key);
        this.queue.done(key);
      },
    };
    this.actor = createActor(cycleMachine, { input: { work: work as CycleWork, batchSize: 8 }, clock: this.clock });
    this.actor.start();
  }

  get state(): string {
    return String(this.actor.getSnapshot().value);
  }

  add(key: string, fits = true): void {
    if (fits) this.fits.add(key);
    this.queue.add(key);
    this.actor.send({ type: "WAKE" });
  }

  /** The oldest bind write finished: its slot is free before the machine hears of it (as Binder does). */
  finishBind(): void {
    const key = this.binds.shift()!;
    this.actor.send({ type: "BIND_DONE", outcome: key });
  }

  /** Lets the machine's yield (setImmediate) turns run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await turn();
  }
}

describe("scheduling cycle machine", () => {
  test("idle -> scheduling -> saturated while every bind slot is taken -> on BIND_DONE it goes on", async () => {
    const h = new Harness();
    assert.equal(h.state, "idle");
    for (const k of ["a", "b", "c"]) h.add(k);
    await h.settle();
    assert.deepEqual(h.binds, ["a", "b"]);
    assert.equal(h.state, "saturated");
    h.finishBind();
    await h.settle();
    assert.deepEqual(h.binds, ["b", "c"]);
    h.finishBind();
    h.finishBind();
    await h.settle();
    assert.deepEqual(h.bound, ["a", "b", "c"]);
    assert.equal(h.state, "idle");
  });

  test("saturated resumes only once a quarter of the bind slots are free (a batch, not one pod per bind)", async () => {
    const h = new Harness();
    h.maxBinds = 8;
    for (let i = 0; i < 12; i++) h.add(`p${i}`);
    await h.settle();
    assert.equal(h.binds.length, 8);
    h.finishBind();
    await h.settle();
    assert.equal(h.state, "saturated");
    assert.equal(h.binds.length, 7);
    h.finishBind();
    await h.settle();
    assert.equal(h.binds.length, 8); // two free slots: two more pods at once
    assert.equal(h.queue.activeCount, 2);
  });

  test("a pod that does not fit waits in backoff until its deadline on the machine's clock", async () => {
    const h = new Harness();
    h.add("big", false);
    await h.settle();
    assert.equal(h.state, "backoff");
    assert.equal(h.queue.attemptsOf("big"), 1);
    h.clock.advance(999);
    await h.settle();
    assert.equal(h.queue.attemptsOf("big"), 1);
    h.clock.advance(1);
    await h.settle();
    assert.equal(h.queue.attemptsOf("big"), 2); // tried again at 1 s, failed, now waits 2 s
    assert.equal(h.state, "backoff");
    h.fits.add("big");
    h.clock.advance(2_000);
    await h.settle();
    assert.deepEqual(h.binds, ["big"]);
  });

  test("a cluster change wakes a backing-off pod before its deadline", async () => {
    const h = new Harness();
    h.add("big", false);
    await h.settle();
    h.clock.advance(1_000);
    await h.settle(); // second failure at 1 s: next try at 3 s
    h.clock.advance(1_500);
    h.fits.add("big");
    h.changed = true;
    h.actor.send({ type: "WAKE" });
    await h.settle();
    assert.deepEqual(h.binds, ["big"]);
  });

  test("STOP drains: the machine ends only after the binds in flight have finished", async () => {
    const h = new Harness();
    h.add("a");
    await h.settle();
    h.actor.send({ type: "STOP" });
    assert.equal(h.state, "draining");
    h.add("b"); // no new work while draining
    await h.settle();
    assert.deepEqual(h.binds, ["a"]);
    h.finishBind();
    assert.equal(h.state, "stopped");
    assert.equal(h.actor.getSnapshot().status, "done");
  });
});
