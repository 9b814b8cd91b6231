// Table tests of every ranker: raw scores per node, then normalized like the stack does.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeInfo } from "../node-info.js";
import { nodeInfo, podInfo, type NodeShape, type PodShape } from "../testing.js";
import { balancedAllocation } from "./balanced-allocation.js";
import { leastAllocated } from "./least-allocated.js";
import { mostAllocated } from "./most-allocated.js";
import { ownerSpread } from "./owner-spread.js";
import { preferNoScheduleTaints } from "./prefer-no-schedule.js";
import { preferredNodeAffinity } from "./preferred-node-affinity.js";
import type { Ranker } from "./ranker.js";

interface NodeRow {
  shape?: NodeShape;
  on?: PodShape[];
}

function scores(r: Ranker, pod: PodShape, nodes: NodeRow[]): number[] {
  const infos: NodeInfo[] = nodes.map((n, i) => nodeInfo(`n${i}`, n.shape ?? {}, (n.on ?? []).map((p, j) => podInfo(`on-${i}-${j}`, p))));
  const p = podInfo("p", pod);
  const s = infos.map((n) => r.score(p, n));
  r.normalize?.(s);
  return s;
}

const cases: { ranker: Ranker; name: string; pod: PodShape; nodes: NodeRow[]; want: number[] }[] = [
  {
    ranker: leastAllocated,
    name: "the emptier node scores higher",
    pod: { cpu: "1", memory: "1Gi" },
    nodes: [{ shape: { cpu: "4", memory: "4Gi" } }, { shape: { cpu: "4", memory: "4Gi" }, on: [{ cpu: "2", memory: "2Gi" }] }],
    // (3/4 + 3/4)/2 = 75; (1/4 + 1/4)/2 = 25
    want: [75, 25],
  },
  {
    ranker: leastAllocated,
    name: "pods without requests count 100m and 200Mi",
    pod: {},
    nodes: [{ shape: { cpu: "1", memory: "1000Mi" } }],
    // cpu 1 - 0.1 = 0.9, memory 1 - 0.2 = 0.8 -> 85
    want: [85],
  },
  {
    ranker: leastAllocated,
    name: "a node with no allocatable scores 0",
    pod: { cpu: "1" },
    nodes: [{ shape: { cpu: "0", memory: "0" } }],
    want: [0],
  },
  {
    ranker: mostAllocated,
    name: "the fuller node scores higher",
    pod: { cpu: "1", memory: "1Gi" },
    nodes: [{ shape: { cpu: "4", memory: "4Gi" } }, { shape: { cpu: "4", memory: "4Gi" }, on: [{ cpu: "2", memory: "2Gi" }] }],
    want: [25, 75],
  },
  {
    ranker: mostAllocated,
    name: "more than allocatable counts as full",
    pod: { cpu: "8", memory: "8Gi" },
    nodes: [{ shape: { cpu: "4", memory: "4Gi" } }],
    want: [100],
  },
  {
    ranker: balancedAllocation,
    name: "equal shares score 100, unequal less",
    pod: { cpu: "1", memory: "1Gi" },
    nodes: [{ shape: { cpu: "4", memory: "4Gi" } }, { shape: { cpu: "4", memory: "4Gi" }, on: [{ cpu: "2", memory: "100Mi" }] }],
    // node 2: cpu 3/4, memory (1Gi+100Mi)/4Gi = 0.2744 -> 1 - 0.4756/2 = 0.762
    want: [100, 76],
  },
  {
    ranker: ownerSpread,
    name: "fewer pods of the same owner score higher",
    pod: { owner: "rs" },
    nodes: [{ on: [{ owner: "rs" }, { owner: "rs" }] }, { on: [{ owner: "rs" }] }, { on: [{ owner: "other" }] }],
    want: [0, 50, 100],
  },
  {
    ranker: ownerSpread,
    name: "a pod without an owner scores the same everywhere",
    pod: {},
    nodes: [{ on: [{ owner: "rs" }] }, {}],
    want: [100, 100],
  },
  {
    ranker: preferredNodeAffinity,
    name: "matched preferred weights, scaled to the best node",
    pod: {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 80, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } },
            { weight: 20, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] } },
          ],
        },
      },
    },
    nodes: [{ shape: { labels: { disk: "ssd", zone: "a" } } }, { shape: { labels: { disk: "ssd" } } }, { shape: { labels: { zone: "a" } } }, {}],
    want: [100, 80, 20, 0],
  },
  {
    ranker: preferNoScheduleTaints,
    name: "untolerated PreferNoSchedule taints count against a node",
    pod: { tolerations: [{ key: "tolerated", operator: "Exists", effect: "PreferNoSchedule" }] },
    nodes: [
      {},
      { shape: { taints: [{ key: "a", effect: "PreferNoSchedule" }] } },
      { shape: { taints: [{ key: "a", effect: "PreferNoSchedule" }, { key: "b", effect: "PreferNoSchedule" }] } },
      { shape: { taints: [{ key: "tolerated", effect: "PreferNoSchedule" }] } },
    ],
    want: [100, 50, 0, 100],
  },
  {
    ranker: preferNoScheduleTaints,
    name: "no such taints anywhere: all 100",
    pod: {},
    nodes: [{}, { shape: { taints: [{ key: "x", effect: "NoSchedule" }] } }],
    want: [100, 100],
  },
];

describe("rankers", () => {
  for (const c of cases) {
    test(`${c.ranker.name}: ${c.name}`, () => {
      assert.deepEqual(scores(c.ranker, c.pod, c.nodes), c.want);
    });
  }
});
