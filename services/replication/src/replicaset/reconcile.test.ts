import type { Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Expectations } from "../pod-ownership/expectations.js";
import { deletionOrder } from "../pod-ownership/pod-state.js";
import { BURST_REPLICAS, computeStatus, reconcile, statusChanged, type ReplicaSetState } from "./reconcile.js";
import { pod, replicaSet } from "./testing.js";

const READY = "2025-01-01T00:01:00Z";
const names = (pods: Pod[]) => pods.map((p) => p.metadata!.name);

function state(over: Partial<ReplicaSetState> & Pick<ReplicaSetState, "rs">): ReplicaSetState {
  return { owned: [], orphans: [], expectationsSatisfied: true, namespaceTerminating: false, ...over };
}

describe("replicaset reconcile: scale up and down", () => {
  const cases: { name: string; s: ReplicaSetState; create: number; del: string[]; pods: string[] }[] = [
    { name: "no pods, 3 wanted: create 3", s: state({ rs: replicaSet({ replicas: 3 }) }), create: 3, del: [], pods: [] },
    {
      name: "enough pods: nothing",
      s: state({ rs: replicaSet({ replicas: 2 }), owned: [pod("a"), pod("b")] }),
      create: 0,
      del: [],
      pods: ["a", "b"],
    },
    {
      name: "terminating and finished pods do not count: replaced",
      s: state({ rs: replicaSet({ replicas: 3 }), owned: [pod("a"), pod("b", { deleting: true }), pod("c", { phase: "Failed" }), pod("d", { phase: "Succeeded" })] }),
      create: 2,
      del: [],
      pods: ["a"],
    },
    {
      name: "expectations not met: no creates (the cache has not shown the last ones yet)",
      s: state({ rs: replicaSet({ replicas: 3 }), expectationsSatisfied: false }),
      create: 0,
      del: [],
      pods: [],
    },
    {
      name: "expectations not met: no deletes either",
      s: state({ rs: replicaSet({ replicas: 0 }), owned: [pod("a")], expectationsSatisfied: false }),
      create: 0,
      del: [],
      pods: ["a"],
    },
    {
      name: "namespace terminating: no creates",
      s: state({ rs: replicaSet({ replicas: 3 }), namespaceTerminating: true }),
      create: 0,
      del: [],
      pods: [],
    },
    {
      name: "replica set being deleted: neither creates nor deletes",
      s: state({ rs: replicaSet({ replicas: 0, deleting: true }), owned: [pod("a")] }),
      create: 0,
      del: [],
      pods: ["a"],
    },
    {
      name: "scale down: unscheduled, then pending, then not ready, then ready for less time",
      s: state({
        rs: replicaSet({ replicas: 1 }),
        owned: [
          pod("ready-long", { readySince: "2025-01-01T00:01:00Z" }),
          pod("ready-short", { readySince: "2025-01-01T00:05:00Z" }),
          pod("not-ready"),
          pod("pending", { phase: "Pending" }),
          pod("unscheduled", { node: "", phase: "Pending" }),
        ],
      }),
      create: 0,
      del: ["unscheduled", "pending", "not-ready", "ready-short"],
      pods: ["ready-long", "ready-short", "not-ready", "pending", "unscheduled"],
    },
    {
      name: "scale down among equals: more restarts, then newest first",
      s: state({
        rs: replicaSet({ replicas: 1 }),
        owned: [
          pod("old", { readySince: READY, created: "2025-01-01T00:00:00Z" }),
          pod("new", { readySince: READY, created: "2025-01-01T00:00:30Z" }),
          pod("crashy", { readySince: READY, created: "2025-01-01T00:00:00Z", restarts: 3 }),
        ],
      }),
      create: 0,
      del: ["crashy", "new"],
      pods: ["old", "new", "crashy"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const plan = reconcile(c.s);
      assert.equal(plan.create, c.create);
      assert.deepEqual(names(plan.delete), c.del);
      assert.deepEqual(names(plan.pods), c.pods);
    });
  }

  test("a burst is capped per pass", () => {
    assert.equal(reconcile(state({ rs: replicaSet({ replicas: 2000 }) })).create, BURST_REPLICAS);
  });
});

describe("replicaset reconcile: adoption and release", () => {
  test("a matching active orphan is adopted and counts; others are left alone", () => {
    const plan = reconcile(
      state({
        rs: replicaSet({ replicas: 2 }),
        orphans: [
          pod("match", { owner: null }),
          pod("other-labels", { owner: null, labels: { app: "db" } }),
          pod("finished", { owner: null, phase: "Succeeded" }),
          pod("terminating", { owner: null, deleting: true }),
        ],
      }),
    );
    assert.deepEqual(names(plan.adopt), ["match"]);
    assert.deepEqual(names(plan.pods), ["match"]);
    assert.equal(plan.create, 1);
  });

  test("an owned pod whose labels stop matching is released and replaced", () => {
    const plan = reconcile(state({ rs: replicaSet({ replicas: 2 }), owned: [pod("a"), pod("relabelled", { labels: { app: "debug" } })] }));
    assert.deepEqual(names(plan.release), ["relabelled"]);
    assert.deepEqual(names(plan.pods), ["a"]);
    assert.equal(plan.create, 1);
  });

  test("pods of another controller are never counted (the index files them under another uid)", () => {
    const plan = reconcile(state({ rs: replicaSet({ replicas: 1 }), owned: [pod("theirs", { owner: "other-uid" })], orphans: [pod("x", { owner: "other-uid" })] }));
    assert.deepEqual(plan.adopt, []);
    assert.deepEqual(plan.pods, []);
    assert.equal(plan.create, 1);
  });

  test("a replica set being deleted adopts and releases nothing", () => {
    const plan = reconcile(
      state({ rs: replicaSet({ replicas: 1, deleting: true }), owned: [pod("relabelled", { labels: { app: "x" } })], orphans: [pod("o", { owner: null })] }),
    );
    assert.deepEqual(plan.adopt, []);
    assert.deepEqual(plan.release, []);
  });

  test("an empty selector selects nothing", () => {
    const rs = replicaSet({ replicas: 1 });
    rs.spec!.selector = { matchLabels: {}, matchExpressions: [] };
    const plan = reconcile(state({ rs, orphans: [pod("o", { owner: null })] }));
    assert.deepEqual(plan.adopt, []);
  });
});

describe("replicaset status", () => {
  const now = new Date("2025-01-01T00:02:00Z");
  test("counts replicas, fully labelled, ready and available (minReadySeconds) and asks for a recheck", () => {
    const rs = replicaSet({ replicas: 4, minReadySeconds: 90, generation: 7, labels: { app: "web", tier: "front" } });
    const pods = [
      pod("a", { readySince: "2025-01-01T00:00:00Z", labels: { app: "web", tier: "front" } }), // ready 120 s: available
      pod("b", { readySince: "2025-01-01T00:01:30Z", labels: { app: "web", tier: "front" } }), // ready 30 s: not yet
      pod("c", { labels: { app: "web" } }), // not ready, not fully labelled
    ];
    const { status, recheckMs } = computeStatus(rs, pods, now);
    assert.deepEqual(status, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 7, conditions: [] });
    assert.equal(recheckMs, 60_000);
  });

  test("minReadySeconds 0: ready is available", () => {
    const { status, recheckMs } = computeStatus(replicaSet(), [pod("a", { readySince: READY })], now);
    assert.equal(status.availableReplicas, 1);
    assert.equal(recheckMs, undefined);
  });

  test("ReplicaFailure while creates fail; removed once they do not; unchanged status is no write", () => {
    const rs = replicaSet();
    const failed = computeStatus(rs, [], now, { reason: "FailedCreate", message: "Error creating: boom" }).status;
    assert.deepEqual(
      failed.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
      [["ReplicaFailure", "True", "FailedCreate", "Error creating: boom"]],
    );
    assert.equal(statusChanged(rs.status, failed), true);
    rs.status = failed;
    const again = computeStatus(rs, [], new Date("2025-01-01T00:05:00Z"), { reason: "FailedCreate", message: "Error creating: boom" }).status;
    assert.equal(again.conditions[0]!.lastTransitionTime, failed.conditions[0]!.lastTransitionTime, "transition time kept");
    assert.equal(statusChanged(rs.status, again), false);
    const cleared = computeStatus(rs, [], now).status;
    assert.deepEqual(cleared.conditions, []);
    assert.equal(statusChanged(rs.status, cleared), true);
  });
});

describe("deletion order", () => {
  test("is a total order: sorting twice in different input orders gives one result", () => {
    const pods = [pod("b"), pod("a"), pod("c", { readySince: READY }), pod("d", { node: "" })];
    const one = names([...pods].sort(deletionOrder));
    const two = names([...pods].reverse().sort(deletionOrder));
    assert.deepEqual(one, two);
    assert.deepEqual(one, ["d", "a", "b", "c"]);
  });
});

describe("expectations", () => {
  const cache = (revision: number, pods: Record<string, { uid: string; deletionTimestamp?: string }> = {}) => ({
    revision,
    getByKey: (k: string) => (pods[k] ? { metadata: { uid: pods[k].uid, deletionTimestamp: pods[k].deletionTimestamp ?? "" } } : undefined),
  });

  test("unsatisfied until the cache reaches the revision written; then forgotten", () => {
    const e = new Expectations(60_000, () => 0);
    e.expect("default.web", 42, []);
    assert.equal(e.satisfied("default.web", cache(41)).satisfied, false);
    assert.equal(e.satisfied("default.web", cache(42)).satisfied, true);
    assert.equal(e.size, 0);
    assert.equal(e.satisfied("default.other", cache(0)).satisfied, true);
  });

  test("deletions: observed when the pod is gone, replaced by another uid, or terminating", () => {
    const e = new Expectations(60_000, () => 0);
    e.expect("rs", 0, [{ key: "default.a", uid: "ua" }, { key: "default.b", uid: "ub" }, { key: "default.c", uid: "uc" }]);
    assert.equal(e.satisfied("rs", cache(9, { "default.a": { uid: "ua" }, "default.b": { uid: "ub" }, "default.c": { uid: "uc" } })).satisfied, false);
    const r = e.satisfied("rs", cache(9, { "default.b": { uid: "other" }, "default.c": { uid: "uc", deletionTimestamp: "2025-01-01T00:00:00Z" } }));
    assert.equal(r.satisfied, true);
  });

  test("expire: a stuck cache does not block the replica set forever", () => {
    let t = 0;
    const e = new Expectations(1_000, () => t);
    e.expect("rs", 100, []);
    assert.deepEqual(e.satisfied("rs", cache(1)), { satisfied: false, recheckMs: 1_000 });
    t = 1_000;
    assert.equal(e.satisfied("rs", cache(1)).satisfied, true);
  });

  test("a later pass adds to what is pending", () => {
    const e = new Expectations(60_000, () => 0);
    e.expect("rs", 10, []);
    e.expect("rs", 5, [{ key: "k", uid: "u" }]);
    assert.equal(e.satisfied("rs", cache(10, { k: { uid: "u" } })).satisfied, false);
    assert.equal(e.satisfied("rs", cache(10)).satisfied, true);
  });
});
