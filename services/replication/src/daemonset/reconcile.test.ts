import { KINDS, type DaemonSet, type Node, type Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { maxUnavailable, reconcile, REVISION_HASH_LABEL, templateHash, type DaemonSetState, type Plan } from "./reconcile.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const EARLIER = "2026-03-01T11:00:00Z";
const UID = "ds-uid";

function daemonSet(extra: { nodeSelector?: Record<string, string>; strategy?: object; minReadySeconds?: number; image?: string; deleting?: boolean } = {}): DaemonSet {
  return KINDS.DaemonSet.codec.fromPartial({
    metadata: { name: "agent", namespace: "ops", uid: UID, generation: 3, deletionTimestamp: extra.deleting ? EARLIER : "" },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { containers: [{ name: "a", image: extra.image ?? "agent:1" }], nodeSelector: extra.nodeSelector ?? {} },
      },
      updateStrategy: extra.strategy ?? { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "1", maxSurge: "0" } },
      minReadySeconds: extra.minReadySeconds ?? 0,
    },
  });
}

function node(name: string, labels: Record<string, string> = {}, spec: object = {}): Node {
  return KINDS.Node.codec.fromPartial({ metadata: { name, labels }, spec });
}

interface PodOpts {
  hash?: string;
  ready?: boolean;
  readySince?: string;
  phase?: string;
  deleting?: boolean;
  created?: string;
  owner?: string | null;
  labels?: Record<string, string>;
}

const CURRENT = templateHash(daemonSet());
const EDGE = templateHash(daemonSet({ nodeSelector: { role: "edge" } }));

function pod(name: string, nodeName: string, o: PodOpts = {}): Pod {
  const ready = o.ready ?? true;
  return KINDS.Pod.codec.fromPartial({
    metadata: {
      name,
      namespace: "ops",
      uid: `uid-${name}`,
      creationTimestamp: o.created ?? EARLIER,
      deletionTimestamp: o.deleting ? EARLIER : "",
      labels: o.labels ?? { app: "agent", [REVISION_HASH_LABEL]: o.hash ?? CURRENT },
      ownerReferences: o.owner === null ? [] : [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: o.owner ?? UID, controller: true }],
    },
    spec: { nodeName },
    status: {
      phase: o.phase ?? "Running",
      conditions: ready ? [{ type: "Ready", status: "True", lastTransitionTime: o.readySince ?? EARLIER }] : [],
    },
  });
}

function state(ds: DaemonSet, nodes: Node[], pods: Pod[], extra: Partial<DaemonSetState> = {}): DaemonSetState {
  return {
    ds,
    nodes,
    owned: pods.filter((p) => p.metadata!.ownerReferences.some((o) => o.uid === UID)),
    orphans: pods.filter((p) => p.metadata!.ownerReferences.length === 0),
    expectationsSatisfied: true,
    namespaceTerminating: false,
    now: NOW,
    ...extra,
  };
}

/** The plan without its status, as names: easy to compare. */
function actions(plan: Plan) {
  return {
    create: plan.create,
    delete: plan.delete.map((d) => `${d.pod.metadata!.name}:${d.reason}${d.nodeGone ? ":now" : ""}`),
    adopt: plan.adopt.map((p) => p.metadata!.name),
    release: plan.release.map((p) => p.metadata!.name),
  };
}

const none = { create: [], delete: [], adopt: [], release: [] };
const nodes3 = [node("n1"), node("n2"), node("n3")];

describe("daemonset reconcile: one pod per eligible node", () => {
  const cases: { name: string; state: DaemonSetState; want: ReturnType<typeof actions> }[] = [
    { name: "no pods: one per node", state: state(daemonSet(), nodes3, []), want: { ...none, create: ["n1", "n2", "n3"] } },
    {
      name: "a node selector picks the nodes",
      state: state(daemonSet({ nodeSelector: { role: "edge" } }), [node("n1", { role: "edge" }), node("n2"), node("n3", { role: "edge" })], []),
      want: { ...none, create: ["n1", "n3"] },
    },
    { name: "every node has its pod: nothing to do", state: state(daemonSet(), nodes3, [pod("a", "n1"), pod("b", "n2"), pod("c", "n3")]), want: none },
    { name: "a node that joined gets a pod", state: state(daemonSet(), nodes3, [pod("a", "n1"), pod("b", "n2")]), want: { ...none, create: ["n3"] } },
    {
      name: "a node that left: its pod is deleted at once (no agent to finish it)",
      state: state(daemonSet(), [node("n1")], [pod("a", "n1"), pod("b", "gone")]),
      want: { ...none, delete: ["b:NodeGone:now"] },
    },
    {
      name: "a node that no longer matches the selector: its pod goes",
      state: state(daemonSet({ nodeSelector: { role: "edge" } }), [node("n1", { role: "edge" }), node("n2")], [pod("a", "n1", { hash: EDGE }), pod("b", "n2", { hash: EDGE })]),
      want: { ...none, delete: ["b:Misscheduled"] },
    },
    {
      name: "an untolerated NoSchedule taint added later: the pod stays",
      state: state(daemonSet(), [node("n1", {}, { taints: [{ key: "k", value: "v", effect: "NoSchedule" }] })], [pod("a", "n1")]),
      want: none,
    },
    {
      name: "an untolerated NoExecute taint: the pod goes, none is made",
      state: state(daemonSet(), [node("n1", {}, { taints: [{ key: "k", value: "v", effect: "NoExecute" }] })], [pod("a", "n1")]),
      want: { ...none, delete: ["a:Misscheduled"] },
    },
    {
      name: "a failed pod is deleted; its replacement comes once it is gone",
      state: state(daemonSet(), [node("n1")], [pod("a", "n1", { phase: "Failed", ready: false })]),
      want: { ...none, delete: ["a:Failed"] },
    },
    { name: "a terminating pod: wait until it is gone", state: state(daemonSet(), [node("n1")], [pod("a", "n1", { deleting: true })]), want: none },
    {
      name: "two live pods on a node: the newer goes",
      state: state(daemonSet(), [node("n1")], [pod("new", "n1", { created: "2026-03-01T11:30:00Z" }), pod("old", "n1")]),
      want: { ...none, delete: ["new:Excess"] },
    },
    {
      name: "a pod without a node is deleted at once",
      state: state(daemonSet(), [node("n1")], [pod("a", "n1"), pod("unbound", "")]),
      want: { ...none, delete: ["unbound:NodeGone:now"] },
    },
    { name: "writes not yet seen (expectations): nothing but status", state: state(daemonSet(), nodes3, [], { expectationsSatisfied: false }), want: none },
    { name: "namespace terminating: nothing created", state: state(daemonSet(), nodes3, [], { namespaceTerminating: true }), want: none },
    { name: "the daemon set is being deleted: nothing", state: state(daemonSet({ deleting: true }), nodes3, [pod("a", "gone")]), want: none },
    {
      name: "an orphan that matches is adopted and counts for its node",
      state: state(daemonSet(), [node("n1"), node("n2")], [pod("orphan", "n1", { owner: null })]),
      want: { ...none, create: ["n2"], adopt: ["orphan"] },
    },
    {
      name: "an owned pod that stopped matching is released (and its node gets a new pod)",
      state: state(daemonSet(), [node("n1")], [pod("relabelled", "n1", { labels: { app: "debug" } })]),
      want: { ...none, create: ["n1"], release: ["relabelled"] },
    },
    {
      name: "another controller's pod is not touched",
      state: state(daemonSet(), [node("n1")], [pod("theirs", "n1", { owner: "other" })]),
      want: { ...none, create: ["n1"] },
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(actions(reconcile(c.state)), c.want));
});

describe("daemonset reconcile: rolling update", () => {
  const nodes4 = [node("n1"), node("n2"), node("n3"), node("n4")];
  const old = (name: string, n: string, o: PodOpts = {}) => pod(name, n, { hash: "old", ...o });
  const v2 = daemonSet({ image: "agent:2" });
  const v2hash = templateHash(v2);
  const cur = (name: string, n: string, o: PodOpts = {}) => pod(name, n, { hash: v2hash, ...o });
  const cases: { name: string; state: DaemonSetState; want: ReturnType<typeof actions> }[] = [
    {
      name: "all old and available, maxUnavailable 1: one at a time",
      state: state(v2, nodes4, [old("a", "n1"), old("b", "n2"), old("c", "n3"), old("d", "n4")]),
      want: { ...none, delete: ["a:Outdated"] },
    },
    {
      name: "a new pod not ready yet uses up the budget",
      state: state(v2, nodes4, [cur("a", "n1", { ready: false }), old("b", "n2"), old("c", "n3"), old("d", "n4")]),
      want: none,
    },
    {
      name: "a node whose old pod is still terminating counts as unavailable",
      state: state(v2, nodes4, [old("a", "n1", { deleting: true }), old("b", "n2"), old("c", "n3"), old("d", "n4")]),
      want: none,
    },
    {
      name: "the new pod is available: the next old one goes",
      state: state(v2, nodes4, [cur("a", "n1"), old("b", "n2"), old("c", "n3"), old("d", "n4")]),
      want: { ...none, delete: ["b:Outdated"] },
    },
    {
      name: "old pods that are not available are replaced at once, outside the budget",
      state: state(v2, nodes4, [old("a", "n1", { ready: false }), old("b", "n2", { ready: false }), old("c", "n3"), old("d", "n4")]),
      want: { ...none, delete: ["a:Outdated", "b:Outdated", "c:Outdated"] },
    },
    {
      name: "maxUnavailable 50% of 4 nodes: two at a time",
      state: state(daemonSet({ image: "agent:2", strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "50%" } } }), nodes4, [
        old("a", "n1"),
        old("b", "n2"),
        old("c", "n3"),
        old("d", "n4"),
      ]),
      want: { ...none, delete: ["a:Outdated", "b:Outdated"] },
    },
    {
      name: "minReadySeconds: a new pod ready for less than that is not available yet",
      state: state(daemonSet({ image: "agent:2", minReadySeconds: 30 }), nodes4, [
        pod("a", "n1", { hash: templateHash(daemonSet({ image: "agent:2", minReadySeconds: 30 })), readySince: "2026-03-01T11:59:50Z" }),
        old("b", "n2"),
        old("c", "n3"),
        old("d", "n4"),
      ]),
      want: none,
    },
    {
      name: "OnDelete: old pods stay",
      state: state(daemonSet({ image: "agent:2", strategy: { type: "OnDelete" } }), nodes4, [old("a", "n1"), old("b", "n2"), old("c", "n3"), old("d", "n4")]),
      want: none,
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(actions(reconcile(c.state)), c.want));
});

test("maxUnavailable: numbers, and percentages of the desired count rounded up; never below 1", () => {
  const cases: [string, number, number][] = [
    ["1", 10, 1],
    ["3", 2, 3],
    ["25%", 10, 3],
    ["25%", 3, 1],
    ["50%", 5, 3],
    ["100%", 7, 7],
    ["0%", 4, 1],
    ["10%", 0, 1],
  ];
  for (const [value, desired, want] of cases) assert.equal(maxUnavailable(value, desired), want, `${value} of ${desired}`);
});

describe("daemonset status", () => {
  test("counted per node as Kubernetes counts it", () => {
    const ds = daemonSet({ nodeSelector: { role: "edge" } });
    const plan = reconcile(
      state(
        ds,
        [node("n1", { role: "edge" }), node("n2", { role: "edge" }), node("n3", { role: "edge" }), node("n4")],
        [pod("a", "n1", { hash: EDGE }), pod("b", "n2", { ready: false, hash: "old" }), pod("stray", "n4", { hash: EDGE })],
      ),
    );
    assert.deepEqual(plan.status, {
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberReady: 1,
      numberAvailable: 1,
      numberUnavailable: 2,
      updatedNumberScheduled: 1,
      numberMisscheduled: 1,
      observedGeneration: 3,
      conditions: [],
    });
  });

  test("a pod ready for less than minReadySeconds is ready but not available; the plan says when to look again", () => {
    const ds = daemonSet({ minReadySeconds: 30 });
    const hash = templateHash(ds);
    const plan = reconcile(state(ds, [node("n1")], [pod("a", "n1", { hash, readySince: "2026-03-01T11:59:50Z" })]));
    assert.equal(plan.status.numberReady, 1);
    assert.equal(plan.status.numberAvailable, 0);
    assert.equal(plan.recheckMs, 20_000);
  });

  test("the template hash changes with the template and nothing else", () => {
    assert.equal(templateHash(daemonSet()), templateHash(daemonSet({ minReadySeconds: 9 })));
    assert.notEqual(templateHash(daemonSet()), templateHash(daemonSet({ image: "agent:2" })));
    assert.match(templateHash(daemonSet()), /^[0-9a-f]{10}$/);
  });
});
