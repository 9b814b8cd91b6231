import { KINDS, toManifest, type Node, type Pod } from "@navarch/api";
import { REPORTED_BY_ANNOTATION } from "@navarch/store";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { reconcile } from "./reconcile.js";

const NOW = new Date("2025-01-01T00:01:00Z");
const pod = (node: string, uid = "u1", phase = "Pending"): Pod =>
  KINDS.Pod.codec.fromPartial({ metadata: { name: "p", namespace: "default", uid }, spec: { nodeName: node }, status: { phase } });
const report = (node: string, uid = "u1", phase = "Running"): Pod =>
  KINDS.Pod.codec.fromPartial({ metadata: { name: "p", namespace: "default", uid, annotations: { [REPORTED_BY_ANNOTATION]: node } }, status: { phase, podIP: "172.18.0.5" } });
const fold = (p: Pod | undefined, r: Pod | undefined) => reconcile(p, r, undefined, NOW);

test("a report from the pod's node is folded into its status", () => {
  const d = fold(pod("n1"), report("n1"));
  assert.equal(d.type, "fold");
  assert.equal(d.type === "fold" && d.status.podIP, "172.18.0.5");
});

test("an equal status is not written again", () => {
  const p = pod("n1");
  p.status = report("n1").status;
  assert.equal(fold(p, report("n1")).type, "none");
});

/** As an informer holds it: stored as Kubernetes JSON, decoded again. */
const stored = (p: Pod): Pod => KINDS.Pod.codec.fromJSON(JSON.parse(JSON.stringify(toManifest(KINDS.Pod, p))));

test("a pod and its report as decoded from the store: equal statuses are not written, a changed one is", () => {
  const conditions = [
    { type: "PodScheduled", status: "True", lastTransitionTime: "2025-01-01T00:00:00Z" },
    { type: "Ready", status: "True", lastTransitionTime: "2025-01-01T00:00:09Z" },
  ];
  const containerStatuses = [{ name: "c", ready: true, restartCount: 0, state: { running: { startedAt: "2025-01-01T00:00:08Z" } } }];
  const r = stored(
    KINDS.Pod.codec.fromPartial({
      metadata: { name: "p", namespace: "default", uid: "u1", annotations: { [REPORTED_BY_ANNOTATION]: "n1" } },
      status: { phase: "Running", podIP: "172.18.0.5", conditions, containerStatuses },
    }),
  );
  const p = stored(KINDS.Pod.codec.fromPartial({ metadata: { name: "p", namespace: "default", uid: "u1" }, spec: { nodeName: "n1" }, status: r.status }));
  assert.equal(fold(p, r).type, "none");
  const restarted = stored({ ...r, status: { ...r.status!, containerStatuses: [{ ...r.status!.containerStatuses[0]!, restartCount: 1 }] } });
  const d = fold(p, restarted);
  assert.equal(d.type, "fold");
  assert.equal(d.type === "fold" && d.status.containerStatuses[0]!.restartCount, 1);
});

test("a report from another node is refused (fencing)", () => {
  const d = fold(pod("n2"), report("n1"));
  assert.equal(d.type, "none");
  assert.match(d.type === "none" ? d.why : "", /bound to "n2"/);
});

test("a report for an earlier pod of the same name is refused", () => {
  assert.equal(fold(pod("n1", "u2"), report("n1", "u1")).type, "none");
});

test("a report for an unbound pod is refused", () => {
  assert.equal(fold(pod(""), report("n1")).type, "none");
});

test("the report of a deleted pod is dropped", () => {
  assert.equal(fold(undefined, report("n1")).type, "dropReport");
});

test("the scheduler's PodScheduled condition is kept over the reported one", () => {
  const p = pod("n1");
  const scheduled = { type: "PodScheduled", status: "True", reason: "", message: "", lastTransitionTime: "2025-01-01T00:00:00Z" };
  p.status!.conditions = [KINDS.Pod.codec.fromPartial({ status: { conditions: [scheduled] } }).status!.conditions[0]!];
  const r = report("n1");
  r.status!.conditions = KINDS.Pod.codec.fromPartial({
    status: { conditions: [{ type: "Ready", status: "True" }, { type: "PodScheduled", status: "True", lastTransitionTime: "2025-01-01T00:00:05Z" }] },
  }).status!.conditions;
  const d = fold(p, r);
  assert.equal(d.type, "fold");
  const conds = d.type === "fold" ? d.status.conditions : [];
  assert.deepEqual(conds.map((c) => [c.type, c.lastTransitionTime]), [["Ready", ""], ["PodScheduled", "2025-01-01T00:00:00Z"]]);
  assert.equal(d.type === "fold" && d.status.podIP, "172.18.0.5");
});

test("a report without PodScheduled keeps the pod's (nothing to write if the rest is equal)", () => {
  const p = pod("n1");
  const r = report("n1");
  p.status = KINDS.Pod.codec.fromPartial({ status: { ...r.status, conditions: [{ type: "PodScheduled", status: "True" }] } }).status;
  assert.equal(fold(p, r).type, "none");
});

describe("a pod whose node is not ready (MarkPodsNotReady)", () => {
  const T0 = "2025-01-01T00:00:00Z";
  const node = (name: string, ready: string | undefined): Node =>
    KINDS.Node.codec.fromPartial({ metadata: { name }, status: { conditions: ready ? [{ type: "Ready", status: ready, reason: "NodeStatusUnknown" }] : [] } });
  /** A report of a running pod whose readiness conditions say `ready`. */
  const readyReport = (ready: "True" | "False", reason = "") => {
    const r = report("n1");
    r.status!.conditions = KINDS.Pod.codec.fromPartial({
      status: {
        conditions: [
          { type: "Initialized", status: "True", lastTransitionTime: T0 },
          { type: "Ready", status: ready, reason, lastTransitionTime: T0 },
          { type: "ContainersReady", status: ready, reason, lastTransitionTime: T0 },
          { type: "PodScheduled", status: "True", lastTransitionTime: T0 },
        ],
      },
    }).status!.conditions;
    return r;
  };
  /** The pod as it was stored after folding `r` (the status the folder wrote last). */
  const stored = (r: Pod) => ({ ...pod("n1"), status: r.status });
  const conds = (d: ReturnType<typeof reconcile>) =>
    d.type === "fold" ? d.status.conditions.map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime]) : d.type;

  const cases: Array<{ name: string; node: Node | undefined; current: Pod; report: Pod; want: unknown; marked?: boolean }> = [
    {
      name: "Ready=Unknown: Ready and ContainersReady turn False with NodeNotReady, now",
      node: node("n1", "Unknown"),
      current: stored(readyReport("True")),
      report: readyReport("True"),
      want: [
        ["Initialized", "True", "", "", T0],
        ["Ready", "False", "NodeNotReady", "Node is not ready", "2025-01-01T00:01:00Z"],
        ["ContainersReady", "False", "NodeNotReady", "Node is not ready", "2025-01-01T00:01:00Z"],
        ["PodScheduled", "True", "", "", T0],
      ],
      marked: true,
    },
    {
      name: "Ready=False (the node says so) is not ready either",
      node: node("n1", "False"),
      current: stored(readyReport("True")),
      report: readyReport("True"),
      want: [
        ["Initialized", "True", "", "", T0],
        ["Ready", "False", "NodeNotReady", "Node is not ready", "2025-01-01T00:01:00Z"],
        ["ContainersReady", "False", "NodeNotReady", "Node is not ready", "2025-01-01T00:01:00Z"],
        ["PodScheduled", "True", "", "", T0],
      ],
      marked: true,
    },
    {
      name: "already marked: nothing to write (the transition time stays)",
      node: node("n1", "Unknown"),
      current: { ...pod("n1"), status: (() => {
        const d = reconcile(stored(readyReport("True")), readyReport("True"), node("n1", "Unknown"), new Date("2025-01-01T00:00:30Z"));
        return d.type === "fold" ? d.status : undefined;
      })() },
      report: readyReport("True"),
      want: "none",
    },
    {
      name: "a pod that was not ready keeps its own reason and time",
      node: node("n1", "Unknown"),
      current: stored(readyReport("False", "ContainersNotReady")),
      report: readyReport("False", "ContainersNotReady"),
      want: "none",
    },
    {
      name: "a new report while the node is not ready is folded, still not ready",
      node: node("n1", "Unknown"),
      current: stored(readyReport("False", "ContainersNotReady")),
      report: readyReport("True"),
      want: [
        ["Initialized", "True", "", "", T0],
        ["Ready", "False", "NodeNotReady", "Node is not ready", T0],
        ["ContainersReady", "False", "NodeNotReady", "Node is not ready", T0],
        ["PodScheduled", "True", "", "", T0],
      ],
      marked: false,
    },
    {
      name: "the node is Ready again: the report wins",
      node: node("n1", "True"),
      current: { ...pod("n1"), status: (() => {
        const d = reconcile(stored(readyReport("True")), readyReport("True"), node("n1", "Unknown"), NOW);
        return d.type === "fold" ? d.status : undefined;
      })() },
      report: readyReport("True"),
      want: [
        ["Initialized", "True", "", "", T0],
        ["Ready", "True", "", "", T0],
        ["ContainersReady", "True", "", "", T0],
        ["PodScheduled", "True", "", "", T0],
      ],
      marked: false,
    },
    {
      name: "a node without a Ready condition yet (just registered) is taken at its agent's word",
      node: node("n1", undefined),
      current: pod("n1"),
      report: readyReport("True"),
      want: [
        ["Initialized", "True", "", "", T0],
        ["Ready", "True", "", "", T0],
        ["ContainersReady", "True", "", "", T0],
        ["PodScheduled", "True", "", "", T0],
      ],
      marked: false,
    },
    {
      name: "no Node object: the report wins",
      node: undefined,
      current: pod("n1"),
      report: readyReport("True"),
      want: [
        ["Initialized", "True", "", "", T0],
        ["Ready", "True", "", "", T0],
        ["ContainersReady", "True", "", "", T0],
        ["PodScheduled", "True", "", "", T0],
      ],
      marked: false,
    },
    {
      name: "another node's readiness does not count",
      node: node("n2", "Unknown"),
      current: stored(readyReport("True")),
      report: readyReport("True"),
      want: "none",
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = reconcile(c.current, c.report, c.node, NOW);
      assert.deepEqual(conds(d), c.want);
      if (c.marked !== undefined) assert.equal(d.type === "fold" && d.markedNotReady, c.marked);
    });
  }

  test("the report itself is not changed (it wins again later)", () => {
    const r = readyReport("True");
    reconcile(stored(r), r, node("n1", "Unknown"), NOW);
    assert.equal(r.status!.conditions.find((c) => c.type === "Ready")!.status, "True");
  });
});
