import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SchedulingQueue } from "./queue.js";

function drain(q: SchedulingQueue, now: number): string[] {
  const out: string[] = [];
  for (let k = q.pop(now); k !== undefined; k = q.pop(now)) out.push(k);
  return out;
}

describe("SchedulingQueue", () => {
  test("first come first served within a priority; higher priority first", () => {
    const q = new SchedulingQueue();
    q.add("a");
    q.add("b", 10);
    q.add("c");
    q.add("a"); // already waiting: keeps its place
    assert.deepEqual(drain(q, 0), ["b", "a", "c"]);
  });

  test("backoff doubles from 1 s to at most 10 s", () => {
    const q = new SchedulingQueue();
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => q.backoffFor(n)), [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  test("a failed pod comes back after its backoff, not before", () => {
    const q = new SchedulingQueue();
    q.add("p");
    assert.equal(q.pop(0), "p");
    assert.equal(q.fail("p", 0), 1_000);
    assert.equal(q.pop(999), undefined);
    assert.equal(q.nextDeadline(), 1_000);
    assert.equal(q.pop(1_000), "p");
    assert.equal(q.fail("p", 1_000), 2_000);
    assert.equal(q.nextDeadline(), 3_000);
    assert.equal(q.attemptsOf("p"), 2);
  });

  test("adding a backing-off pod leaves its deadline; addNow makes it ready", () => {
    const q = new SchedulingQueue();
    q.add("p");
    q.pop(0);
    q.fail("p", 0);
    q.add("p");
    assert.equal(q.hasReady(10), false);
    q.addNow("p");
    assert.equal(q.pop(10), "p");
    assert.equal(q.nextDeadline(), undefined); // the old deadline is stale
  });

  test("a cluster change moves pods that failed at least 1 s ago at once, newer ones 1 s after their failure", () => {
    const q = new SchedulingQueue();
    q.add("old");
    q.pop(0);
    q.fail("old", 0);
    assert.equal(q.pop(1_000), "old");
    q.fail("old", 1_000);
    assert.equal(q.pop(3_000), "old");
    q.fail("old", 3_000); // third failure: due at 7_000
    q.add("new");
    assert.equal(q.pop(3_000), "new");
    q.fail("new", 3_500);
    assert.equal(q.pop(4_500), "new");
    q.fail("new", 4_500); // due at 6_500
    assert.equal(q.moveAllToActive(5_000), 1);
    assert.equal(q.pop(5_000), "old");
    assert.equal(q.pop(5_000), undefined);
    assert.equal(q.nextDeadline(), 5_500); // "new": 1 s after its failure, not 6_500
    assert.equal(q.pop(5_500), "new");
  });

  test("an add while in flight brings the pod back once done", () => {
    const q = new SchedulingQueue();
    q.add("p");
    assert.equal(q.pop(0), "p");
    q.add("p");
    assert.equal(q.pop(0), undefined); // never handed out twice at once
    q.done("p");
    assert.equal(q.pop(0), "p");
    q.done("p");
    assert.equal(q.pop(0), undefined);
  });

  test("remove drops a pod wherever it is", () => {
    const q = new SchedulingQueue();
    q.add("a");
    q.add("b");
    q.remove("a");
    q.add("c");
    q.pop(0); // b
    q.fail("b", 0);
    q.remove("b");
    assert.deepEqual(drain(q, 10_000), ["c"]);
    assert.equal(q.nextDeadline(), undefined);
    assert.equal(q.has("b"), false);
  });

  test("retry puts a pod in flight back at once without counting a failure", () => {
    const q = new SchedulingQueue();
    q.add("p", 5);
    q.pop(0);
    q.retry("p");
    assert.equal(q.attemptsOf("p"), 0);
    assert.equal(q.pop(0), "p");
  });

  test("failed pods keep their priority when they come back", () => {
    const q = new SchedulingQueue();
    q.add("low");
    q.add("high", 100);
    q.pop(0); // high
    q.fail("high", 0);
    q.add("later");
    assert.deepEqual(drain(q, 1_000), ["high", "low", "later"]);
  });
});
