import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SchedulerCache } from "./cache.js";
import { makeNode, makePod, podInfo } from "./testing.js";

describe("SchedulerCache", () => {
  test("bound pods add to their node's requests, ports, counts and owners", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1"));
    c.observePod("default.a", makePod("a", { node: "n1", cpu: "500m", memory: "1Gi", hostPorts: [80], owner: "rs" }));
    c.observePod("default.b", makePod("b", { node: "n1" }));
    const n = c.node("n1")!;
    assert.deepEqual([n.requestedMilliCpu, n.requestedMemory, n.podCount], [500, 1024 ** 3, 2]);
    assert.deepEqual([n.nonZeroMilliCpu, n.nonZeroMemory], [600, 1024 ** 3 + 200 * 1024 ** 2]);
    assert.ok(n.usedPorts.has("TCP/80"));
    assert.equal(n.ownerCounts.get("uid-rs"), 1);
  });

  test("a finished or deleted pod frees its room (and says so)", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1"));
    c.observePod("default.a", makePod("a", { node: "n1", cpu: "1" }));
    assert.equal(c.observePod("default.a", makePod("a", { node: "n1", cpu: "1", phase: "Succeeded" })), true);
    assert.equal(c.node("n1")!.podCount, 0);
    c.observePod("default.b", makePod("b", { node: "n1", cpu: "1" }));
    assert.equal(c.observePod("default.b", undefined), true);
    assert.equal(c.node("n1")!.requestedMilliCpu, 0);
    assert.equal(c.observePod("default.b", undefined), false);
  });

  test("status updates of a bound pod change nothing", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1"));
    c.observePod("default.a", makePod("a", { node: "n1", cpu: "1" }));
    assert.equal(c.observePod("default.a", makePod("a", { node: "n1", cpu: "1", phase: "Running" })), false);
    assert.equal(c.node("n1")!.requestedMilliCpu, 1000);
  });

  test("an assumed pod counts at once, survives its unbound informer events, and is confirmed by the bound one", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1"));
    c.assume(podInfo("a", { cpu: "1" }), "n1");
    assert.equal(c.node("n1")!.requestedMilliCpu, 1000);
    c.observePod("default.a", makePod("a", { cpu: "1" })); // the informer has not seen the binding yet
    assert.equal(c.isAssumed("default.a"), true);
    c.observePod("default.a", makePod("a", { cpu: "1", node: "n1" }));
    assert.equal(c.isAssumed("default.a"), false);
    assert.equal(c.forget("default.a"), false); // bound: not ours to forget any more
    assert.equal(c.node("n1")!.requestedMilliCpu, 1000);
  });

  test("forgetting a failed binding frees the room", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1"));
    c.assume(podInfo("a", { cpu: "1" }), "n1");
    assert.equal(c.forget("default.a"), true);
    assert.equal(c.node("n1")!.requestedMilliCpu, 0);
  });

  test("a pod bound elsewhere than assumed moves to the real node", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("n1"));
    c.setNode(makeNode("n2"));
    c.assume(podInfo("a", { cpu: "1" }), "n1");
    c.observePod("default.a", makePod("a", { cpu: "1", node: "n2" }));
    assert.equal(c.node("n1")!.requestedMilliCpu, 0);
    assert.equal(c.node("n2")!.requestedMilliCpu, 1000);
  });

  test("pods seen before their node count once it arrives; node changes report only what scheduling reads", () => {
    const c = new SchedulerCache();
    c.observePod("default.a", makePod("a", { node: "late", cpu: "1" }));
    assert.equal(c.setNode(makeNode("late")), true);
    assert.equal(c.node("late")!.requestedMilliCpu, 1000);
    const same = makeNode("late");
    same.status!.nodeInfo = { machineID: "x" } as never;
    assert.equal(c.setNode(same), false);
    assert.equal(c.setNode(makeNode("late", { unschedulable: true })), true);
    assert.equal(c.node("late")!.unschedulable, true);
    c.removeNode("late");
    assert.deepEqual(c.nodeList(), []);
  });
});
