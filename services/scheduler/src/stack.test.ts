import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Check } from "./checks/check.js";
import { feasibleNodesToFind, findPlacement, PROFILES, type Placed, CHECKS } from "./stack.js";
import { nodeInfo, podInfo } from "./testing.js";

describe("feasibleNodesToFind (kube-scheduler's adaptive percentage)", () => {
  const rows: [nodes: number, pct: number, want: number][] = [
    [0, 0, 0],
    [50, 0, 50],
    [99, 0, 99],
    [100, 0, 100], // 49.2% of 100 = 49, but never fewer than 100
    [1_000, 0, 420], // 50 - 8 = 42%
    [5_000, 0, 500], // 50 - 40 = 10%
    [6_000, 0, 300], // 50 - 48 = 2% -> at least 5%
    [1_000, 30, 300],
    [1_000, 5, 100], // 50, but at least 100
    [1_000, 100, 1_000],
  ];
  for (const [nodes, pct, want] of rows) {
    test(`${nodes} nodes, percentage ${pct}: ${want}`, () => assert.equal(feasibleNodesToFind(nodes, pct), want));
  }
});

describe("findPlacement", () => {
  test("a node that fails a check counts only the first check's reasons", () => {
    const nodes = [nodeInfo("a", { unschedulable: true, memory: "1Gi" }), nodeInfo("b", { ready: "False" })];
    const r = findPlacement({ pod: podInfo("p", { memory: "2Gi" }), nodes, start: 0, profile: PROFILES.spread });
    assert.equal(r.fit, false);
    assert.deepEqual(!r.fit && [...r.reasons], [["node(s) were unschedulable", 1], ["node(s) were not ready", 1]]);
  });

  test("spread puts the pod on the emptier node; binpack on the fuller one", () => {
    const busy = nodeInfo("busy", { cpu: "4", memory: "4Gi" }, [podInfo("x", { cpu: "2", memory: "2Gi" })]);
    const empty = nodeInfo("empty", { cpu: "4", memory: "4Gi" });
    const pod = podInfo("p", { cpu: "1", memory: "1Gi" });
    const spread = findPlacement({ pod, nodes: [busy, empty], start: 0, profile: PROFILES.spread }) as Placed;
    const binpack = findPlacement({ pod, nodes: [busy, empty], start: 0, profile: PROFILES.binpack }) as Placed;
    assert.equal(spread.node.name, "empty");
    assert.equal(binpack.node.name, "busy");
    assert.equal(binpack.feasible, 2);
  });

  test("a full node is never chosen, whatever the profile prefers", () => {
    const full = nodeInfo("full", { cpu: "2" }, [podInfo("x", { cpu: "1500m" })]);
    const empty = nodeInfo("empty", { cpu: "2" });
    const r = findPlacement({ pod: podInfo("p", { cpu: "1" }), nodes: [full, empty], start: 0, profile: PROFILES.binpack }) as Placed;
    assert.equal(r.node.name, "empty");
    assert.equal(r.feasible, 1);
  });

  test("replicas of one owner spread over nodes", () => {
    const a = nodeInfo("a", {}, [podInfo("r1", { owner: "rs" })]);
    const b = nodeInfo("b", {}, [podInfo("other", {})]);
    const r = findPlacement({ pod: podInfo("r2", { owner: "rs" }), nodes: [a, b], start: 0, profile: PROFILES.spread }) as Placed;
    assert.equal(r.node.name, "b");
  });

  test("preferred affinity wins over a slightly emptier node", () => {
    const ssd = nodeInfo("ssd", { labels: { disk: "ssd" } }, [podInfo("x", { cpu: "1" })]);
    const hdd = nodeInfo("hdd", { labels: { disk: "hdd" } });
    const pod = podInfo("p", {
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } }] } },
    });
    assert.equal((findPlacement({ pod, nodes: [ssd, hdd], start: 0, profile: PROFILES.spread }) as Placed).node.name, "ssd");
  });

  test("a large cluster stops after enough feasible nodes and the next search starts after them", () => {
    const nodes = Array.from({ length: 1_000 }, (_, i) => nodeInfo(`n${i}`));
    let checked = 0;
    const counting: Check = { name: "Counting", check: () => void checked++ };
    const r = findPlacement({ pod: podInfo("p"), nodes, start: 990, profile: PROFILES.spread, checks: [counting, ...CHECKS] }) as Placed;
    assert.equal(checked, 420);
    assert.equal(r.evaluated, 420);
    assert.equal(r.feasible, 420);
    assert.equal(r.nextStart, (990 + 420) % 1_000);
  });

  test("an unschedulable pod is checked against every node", () => {
    const nodes = Array.from({ length: 1_000 }, (_, i) => nodeInfo(`n${i}`, { memory: "1Gi" }));
    const r = findPlacement({ pod: podInfo("p", { memory: "2Gi" }), nodes, start: 7, profile: PROFILES.spread });
    assert.equal(r.fit, false);
    assert.deepEqual(!r.fit && [...r.reasons], [["Insufficient memory", 1_000]]);
    assert.equal(r.nextStart, 7);
  });

  test("equal scores: the random pick decides (reservoir sampling over the ties)", () => {
    const nodes = [nodeInfo("a"), nodeInfo("b"), nodeInfo("c")];
    const pick = (rnd: number) => (findPlacement({ pod: podInfo("p"), nodes, start: 0, profile: PROFILES.spread, random: () => rnd }) as Placed).node.name;
    assert.equal(pick(0.99), "a"); // never replaced
    assert.equal(pick(0), "c"); // always replaced by the later tie
  });

  test("no nodes: unschedulable with no reasons", () => {
    const r = findPlacement({ pod: podInfo("p"), nodes: [], start: 3, profile: PROFILES.spread });
    assert.deepEqual(r, { fit: false, total: 0, reasons: new Map(), nextStart: 0 });
  });
});
