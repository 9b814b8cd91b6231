import { Condition, type ReplicaSet } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { maxSurge, maxUnavailable, resolveFenceposts, scaledValue } from "./fenceposts.js";
import { proportion } from "./proportional.js";
import { DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, POD_TEMPLATE_HASH, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION } from "./reasons.js";
import { reconcile, type DeploymentState, type Plan } from "./reconcile.js";
import { canonicalJson, equalIgnoringHash, templateHash } from "./template-hash.js";
import { deployment, rs, template, type DeploymentOpts } from "./testing.js";

const NOW = new Date("2025-01-01T00:10:00Z");

function state(d: DeploymentOpts, sets: ReplicaSet[], extra: Partial<DeploymentState> = {}): DeploymentState {
  return {
    deployment: deployment(d),
    owned: sets,
    orphans: [],
    existing: (name) => sets.find((s) => s.metadata!.name === name),
    podsRunning: () => 0,
    namespaceTerminating: false,
    ...extra,
  };
}

/** image -> spec.replicas of every replica set the plan creates or updates. */
function sizes(plan: Plan): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of plan.steps) {
    if (s.type === "createReplicaSet" || s.type === "updateReplicaSet") out[s.rs.spec!.template!.spec!.containers[0]!.image] = s.rs.spec!.replicas!;
  }
  return out;
}

function rsOf(step: Plan["steps"][number] | undefined): ReplicaSet {
  assert.ok(step && step.type !== "event");
  return step.rs;
}

const events = (plan: Plan) => plan.steps.flatMap((s) => (s.type === "event" ? [s.message] : []));
const kinds = (plan: Plan) => plan.steps.filter((s) => s.type !== "event").map((s) => s.type);
const cond = (plan: Plan, type: string) => plan.deployment?.status?.conditions.find((c) => c.type === type);

describe("maxSurge / maxUnavailable arithmetic (Kubernetes rounding)", () => {
  const cases: [string, string, number, number, number][] = [
    // maxSurge, maxUnavailable, replicas -> surge (rounds up), unavailable (rounds down)
    ["25%", "25%", 10, 3, 2],
    ["25%", "25%", 4, 1, 1],
    ["25%", "25%", 1, 1, 0],
    ["25%", "25%", 0, 0, 1],
    ["50%", "50%", 5, 3, 2],
    ["1", "0", 5, 1, 0],
    ["0", "1", 5, 0, 1],
    ["100%", "0%", 4, 4, 0],
    ["0%", "10%", 3, 0, 1], // both round to 0: unavailable becomes 1 so the rollout can move
    ["10%", "10%", 3, 1, 0],
    ["", "", 8, 2, 2], // unset: the 25% defaults
    ["3", "2", 100, 3, 2],
  ];
  for (const [s, u, n, surge, unavailable] of cases) {
    test(`maxSurge ${s || "(unset)"}, maxUnavailable ${u || "(unset)"} of ${n}: surge ${surge}, unavailable ${unavailable}`, () => {
      assert.deepEqual(resolveFenceposts(s, u, n), { surge, unavailable });
    });
  }

  test("percentages of odd totals", () => {
    assert.equal(scaledValue("33%", 10, true), 4);
    assert.equal(scaledValue("33%", 10, false), 3);
    assert.equal(scaledValue("7", 10, false), 7);
    assert.throws(() => scaledValue("x%", 10, true));
  });

  test("maxUnavailable is at most replicas; Recreate has neither", () => {
    assert.equal(maxUnavailable(deployment({ replicas: 3, maxUnavailable: "10", maxSurge: "1" })), 3);
    assert.equal(maxUnavailable(deployment({ replicas: 0 })), 0);
    assert.equal(maxSurge(deployment({ strategy: "Recreate" })), 0);
    assert.equal(maxUnavailable(deployment({ strategy: "Recreate" })), 0);
  });
});

describe("template hash", () => {
  test("stable, of the safe alphabet, and different for another template or collision count", () => {
    const h = templateHash(template("demo:1"));
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(templateHash(template("demo:1")), h);
    assert.notEqual(templateHash(template("demo:2")), h);
    assert.notEqual(templateHash(template("demo:1"), 1), h);
  });

  test("templates compare equal apart from the pod-template-hash label, whatever the key order", () => {
    const a = template("demo:1");
    const b = template("demo:1");
    b.metadata!.labels = { [POD_TEMPLATE_HASH]: "abc", app: "web" };
    assert.ok(equalIgnoringHash(a, b));
    b.metadata!.labels = { app: "web", other: "x" };
    assert.ok(!equalIgnoringHash(a, b));
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
  });
});

describe("rolling update decisions (replicas 10, maxSurge 25% = 3, maxUnavailable 25% = 2)", () => {
  test("a new deployment: one replica set at full size, revision 1, NewReplicaSetCreated", () => {
    const plan = reconcile(state({ image: "demo:1" }, []), NOW);
    assert.deepEqual(kinds(plan), ["createReplicaSet"]);
    const created = rsOf(plan.steps[0]);
    const hash = templateHash(template("demo:1"));
    assert.equal(created.metadata!.name, `web-${hash}`);
    assert.equal(created.spec!.replicas, 10);
    assert.equal(created.spec!.selector!.matchLabels[POD_TEMPLATE_HASH], hash);
    assert.equal(created.spec!.template!.metadata!.labels[POD_TEMPLATE_HASH], hash);
    assert.equal(created.metadata!.labels[POD_TEMPLATE_HASH], hash);
    assert.equal(created.metadata!.annotations[REVISION_ANNOTATION], "1");
    assert.equal(created.metadata!.annotations[DESIRED_REPLICAS_ANNOTATION], "10");
    assert.equal(created.metadata!.annotations[MAX_REPLICAS_ANNOTATION], "13");
    assert.deepEqual(created.metadata!.ownerReferences[0], { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d-uid-1", controller: true, blockOwnerDeletion: true });
    assert.deepEqual(events(plan), [`Scaled up replica set web-${hash} to 10 from 0`]);
    assert.equal(plan.deployment?.metadata?.annotations[REVISION_ANNOTATION], "1");
    assert.equal(cond(plan, "Progressing")?.reason, "NewReplicaSetCreated");
    assert.equal(cond(plan, "Available")?.status, "False");
  });

  test("a template change: the new replica set gets maxSurge, the old one loses maxUnavailable", () => {
    const plan = reconcile(state({ image: "demo:2" }, [rs({ image: "demo:1", replicas: 10, revision: 1 })]), NOW);
    assert.deepEqual(sizes(plan), { "demo:2": 3, "demo:1": 8 });
    assert.deepEqual(kinds(plan), ["createReplicaSet", "updateReplicaSet"]);
    const created = rsOf(plan.steps[0]);
    assert.equal(created.metadata!.annotations[REVISION_ANNOTATION], "2");
    assert.equal(plan.deployment?.metadata?.annotations[REVISION_ANNOTATION], "2");
  });

  const rolling: { name: string; sets: ReplicaSet[]; want: Record<string, number> }[] = [
    {
      name: "new pods available: scale the new one up again (old 8 + new 3 < 13)",
      sets: [rs({ image: "demo:1", replicas: 8, revision: 1 }), rs({ image: "demo:2", replicas: 3, revision: 2, created: "2025-01-01T00:05:00Z" })],
      want: { "demo:2": 5 },
    },
    {
      name: "at maxSurge and new pods not available: nothing may move",
      sets: [rs({ image: "demo:1", replicas: 8, revision: 1 }), rs({ image: "demo:2", replicas: 5, available: 0, revision: 2, created: "2025-01-01T00:05:00Z" })],
      want: {},
    },
    {
      name: "at maxSurge, new pods available: scale old down to keep available >= 8",
      sets: [rs({ image: "demo:1", replicas: 8, revision: 1 }), rs({ image: "demo:2", replicas: 5, revision: 2, created: "2025-01-01T00:05:00Z" })],
      want: { "demo:1": 3 },
    },
    {
      name: "unavailable old pods go first, then available ones within the budget",
      sets: [rs({ image: "demo:1", replicas: 8, available: 5, revision: 1 }), rs({ image: "demo:2", replicas: 5, revision: 2, created: "2025-01-01T00:05:00Z" })],
      want: { "demo:1": 3 },
    },
    {
      name: "two old replica sets: the oldest is scaled down first",
      sets: [
        rs({ image: "demo:0", replicas: 4, revision: 1, created: "2025-01-01T00:00:00Z" }),
        rs({ image: "demo:1", replicas: 4, revision: 2, created: "2025-01-01T00:01:00Z" }),
        rs({ image: "demo:2", replicas: 5, revision: 3, created: "2025-01-01T00:05:00Z" }),
      ],
      want: { "demo:0": 0, "demo:1": 3 },
    },
    {
      name: "old set scaled down a pass ago, its status not caught up (8 available, spec 5): only 2 more go, not 5",
      sets: [rs({ image: "demo:1", replicas: 5, current: 8, available: 8, revision: 1 }), rs({ image: "demo:2", replicas: 5, revision: 2, created: "2025-01-01T00:05:00Z" })],
      want: { "demo:1": 3 },
    },
    {
      name: "pods an old set still has beyond its spec count toward the surge (8 + 3 + 2 = 13)",
      sets: [rs({ image: "demo:1", replicas: 5, current: 8, available: 8, revision: 1 }), rs({ image: "demo:2", replicas: 3, revision: 2, created: "2025-01-01T00:05:00Z" })],
      want: { "demo:2": 5 },
    },
    {
      name: "the new replica set above replicas (spec.replicas lowered): scaled down to replicas",
      sets: [rs({ image: "demo:2", replicas: 12, revision: 2, desired: 12 })],
      want: { "demo:2": 10 },
    },
  ];
  for (const c of rolling) {
    test(c.name, () => assert.deepEqual(sizes(reconcile(state({ image: "demo:2" }, c.sets), NOW)), c.want));
  }

  test("maxSurge 0, maxUnavailable 1: old down one at a time, new up one at a time", () => {
    const d = { image: "demo:2", replicas: 3, maxSurge: "0", maxUnavailable: "1" };
    const first = reconcile(state(d, [rs({ image: "demo:1", replicas: 3, revision: 1, desired: 3 })]), NOW);
    assert.deepEqual(sizes(first), { "demo:2": 0, "demo:1": 2 });
    const second = reconcile(
      state(d, [rs({ image: "demo:1", replicas: 2, revision: 1, desired: 3 }), rs({ image: "demo:2", replicas: 0, revision: 2, desired: 3, created: "2025-01-01T00:05:00Z" })]),
      NOW,
    );
    assert.deepEqual(sizes(second), { "demo:2": 1 });
  });

  test("complete: status counts, Available, NewReplicaSetAvailable", () => {
    const d = deployment({ image: "demo:2" });
    d.metadata!.annotations[REVISION_ANNOTATION] = "2";
    const plan = reconcile(
      { ...state({ image: "demo:2" }, [rs({ image: "demo:1", replicas: 0, revision: 1 }), rs({ image: "demo:2", replicas: 10, revision: 2 })]), deployment: d },
      NOW,
    );
    assert.deepEqual(sizes(plan), {});
    const s = plan.deployment!.status!;
    assert.deepEqual(
      [s.replicas, s.updatedReplicas, s.readyReplicas, s.availableReplicas, s.unavailableReplicas, s.observedGeneration],
      [10, 10, 10, 10, 0, 1],
    );
    assert.equal(cond(plan, "Available")?.reason, "MinimumReplicasAvailable");
    assert.equal(cond(plan, "Progressing")?.reason, "NewReplicaSetAvailable");
    assert.equal(cond(plan, "Progressing")?.message, `ReplicaSet "web-${templateHash(template("demo:2"))}" has successfully progressed.`);
  });
});

describe("progress deadline", () => {
  const updated = (at: string) =>
    Condition.fromPartial({ type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: "x", lastUpdateTime: at, lastTransitionTime: "2025-01-01T00:00:00Z" });
  const stuck = () => [rs({ image: "demo:1", replicas: 8, revision: 1 }), rs({ image: "demo:2", replicas: 5, available: 0, current: 5, revision: 2, created: "2025-01-01T00:05:00Z" })];
  const stuckStatus = { replicas: 13, updatedReplicas: 5, readyReplicas: 8, availableReplicas: 8, unavailableReplicas: 5 };

  test("no progress for progressDeadlineSeconds: Progressing False ProgressDeadlineExceeded", () => {
    const plan = reconcile(state({ image: "demo:2", progressDeadlineSeconds: 60, status: { ...stuckStatus, conditions: [updated("2025-01-01T00:08:00Z")] } }, stuck()), NOW);
    const c = cond(plan, "Progressing")!;
    assert.deepEqual([c.status, c.reason], ["False", "ProgressDeadlineExceeded"]);
    assert.match(c.message, /has timed out progressing/);
    assert.equal(plan.requeueAfterMs, undefined);
  });

  test("before the deadline: unchanged, and a recheck when it would pass", () => {
    const plan = reconcile(state({ image: "demo:2", progressDeadlineSeconds: 600, status: { ...stuckStatus, conditions: [updated("2025-01-01T00:08:00Z")] } }, stuck()), NOW);
    assert.equal(cond(plan, "Progressing")?.reason ?? "ReplicaSetUpdated", "ReplicaSetUpdated");
    assert.equal(plan.requeueAfterMs, 480_000 + 1_000);
  });

  test("progress moves lastUpdateTime and keeps the transition time", () => {
    const sets = [rs({ image: "demo:1", replicas: 8, revision: 1 }), rs({ image: "demo:2", replicas: 5, available: 3, current: 5, revision: 2, created: "2025-01-01T00:05:00Z" })];
    const plan = reconcile(state({ image: "demo:2", progressDeadlineSeconds: 60, status: { ...stuckStatus, conditions: [updated("2025-01-01T00:01:00Z")] } }, sets), NOW);
    const c = cond(plan, "Progressing")!;
    assert.deepEqual([c.status, c.reason, c.lastUpdateTime, c.lastTransitionTime], ["True", "ReplicaSetUpdated", "2025-01-01T00:10:00Z", "2025-01-01T00:00:00Z"]);
  });

  test("a paused deployment says so and neither rolls out nor times out", () => {
    const plan = reconcile(state({ image: "demo:2", paused: true, progressDeadlineSeconds: 60, status: { conditions: [updated("2025-01-01T00:00:00Z")] } }, [rs({ image: "demo:1", replicas: 10, revision: 1 })]), NOW);
    assert.deepEqual(kinds(plan), []);
    const c = cond(plan, "Progressing")!;
    assert.deepEqual([c.status, c.reason], ["Unknown", "DeploymentPaused"]);
  });

  test("resumed: DeploymentResumed, and the rollout starts", () => {
    const paused = Condition.fromPartial({ type: "Progressing", status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused", lastUpdateTime: "2025-01-01T00:00:00Z" });
    // Before the template changed, everything ran the old template.
    const before = { replicas: 10, updatedReplicas: 10, readyReplicas: 10, availableReplicas: 10, conditions: [paused] };
    const plan = reconcile(state({ image: "demo:2", status: before }, [rs({ image: "demo:1", replicas: 10, revision: 1 })]), NOW);
    assert.deepEqual(sizes(plan), { "demo:2": 3, "demo:1": 8 });
    assert.equal(cond(plan, "Progressing")?.reason, "NewReplicaSetCreated");
  });
});

describe("recreate", () => {
  test("old replica sets go to 0 first; no new one yet", () => {
    const plan = reconcile(state({ image: "demo:2", strategy: "Recreate" }, [rs({ image: "demo:1", replicas: 10, revision: 1 })]), NOW);
    assert.deepEqual(sizes(plan), { "demo:1": 0 });
    assert.deepEqual(kinds(plan), ["updateReplicaSet"]);
  });

  test("while old pods still run (terminating), wait", () => {
    const old = rs({ image: "demo:1", replicas: 0, current: 0, revision: 1 });
    const plan = reconcile(state({ image: "demo:2", strategy: "Recreate" }, [old], { podsRunning: () => 2 }), NOW);
    assert.deepEqual(kinds(plan), []);
  });

  test("old pods gone: the new replica set at full size", () => {
    const old = rs({ image: "demo:1", replicas: 0, current: 0, revision: 1 });
    const plan = reconcile(state({ image: "demo:2", strategy: "Recreate" }, [old]), NOW);
    assert.deepEqual(sizes(plan), { "demo:2": 10 });
  });
});

describe("scaling (spec.replicas changed) and pause", () => {
  test("one active replica set: it gets spec.replicas", () => {
    const plan = reconcile(state({ image: "demo:1", replicas: 15 }, [rs({ image: "demo:1", replicas: 10, revision: 1 })]), NOW);
    assert.deepEqual(sizes(plan), { "demo:1": 15 });
    assert.deepEqual(events(plan), [`Scaled up replica set web-${templateHash(template("demo:1"))} to 15 from 10`]);
  });

  test("mid-rollout 10 -> 20: the extra replicas spread in proportion (old 8 -> 15, new 5 -> 10)", () => {
    const sets = [
      rs({ image: "demo:1", replicas: 8, revision: 1, maxReplicas: 13 }),
      rs({ image: "demo:2", replicas: 5, available: 0, revision: 2, maxReplicas: 13, created: "2025-01-01T00:05:00Z" }),
    ];
    const plan = reconcile(state({ image: "demo:2", replicas: 20 }, sets), NOW);
    assert.deepEqual(sizes(plan), { "demo:1": 15, "demo:2": 10 });
    for (const s of plan.steps) if (s.type === "updateReplicaSet") assert.equal(s.rs.metadata!.annotations[DESIRED_REPLICAS_ANNOTATION], "20");
  });

  test("mid-rollout 10 -> 5: old ones shrink first (5 + 25% surge = 7 pods)", () => {
    const sets = [
      rs({ image: "demo:1", replicas: 8, revision: 1, maxReplicas: 13 }),
      rs({ image: "demo:2", replicas: 5, available: 0, revision: 2, maxReplicas: 13, created: "2025-01-01T00:05:00Z" }),
    ];
    const plan = reconcile(state({ image: "demo:2", replicas: 5 }, sets), NOW);
    const s = sizes(plan);
    assert.equal(s["demo:1"]! + s["demo:2"]!, 7);
    assert.deepEqual(s, { "demo:1": 4, "demo:2": 3 });
  });

  test("proportion rounds half away from zero and never exceeds what is left", () => {
    const set = rs({ image: "demo:1", replicas: 5, maxReplicas: 10 });
    // 5 replicas of a 10-pod deployment going to 5: 5 * 5 / 10 = 2.5 rounds to 3, so -2.
    assert.equal(proportion(set, 5, 0, 10, -5, 0), -2);
    // Only -1 left to take: no more than that.
    assert.equal(proportion(set, 5, 0, 10, -5, -4), -1);
    // No max-replicas annotation: the deployment's status.replicas is the base.
    const bare = rs({ image: "demo:1", replicas: 4 });
    delete bare.metadata!.annotations[MAX_REPLICAS_ANNOTATION];
    assert.equal(proportion(bare, 12, 3, 10, 5, 0), 2); // 4 * 15 / 10 = 6
  });
});

describe("revisions and history", () => {
  test("rollback: the old template's replica set is the new one again, with the next revision", () => {
    const sets = [rs({ image: "demo:1", replicas: 0, revision: 1 }), rs({ image: "demo:2", replicas: 10, revision: 2, created: "2025-01-01T00:05:00Z" })];
    const plan = reconcile(state({ image: "demo:1" }, sets), NOW);
    const back = plan.steps.find((s) => s.type === "updateReplicaSet" && s.rs.spec!.template!.spec!.containers[0]!.image === "demo:1")!;
    assert.ok(back && back.type === "updateReplicaSet");
    assert.equal(back.rs.metadata!.annotations[REVISION_ANNOTATION], "3");
    assert.equal(back.rs.metadata!.annotations[REVISION_HISTORY_ANNOTATION], "1");
    assert.equal(back.rs.spec!.replicas, 3);
    assert.equal(plan.deployment?.metadata?.annotations[REVISION_ANNOTATION], "3");
    assert.equal(kinds(plan).includes("createReplicaSet"), false);
  });

  const complete = { replicas: 10, updatedReplicas: 10, availableReplicas: 10, readyReplicas: 10 };
  test("complete: old replica sets beyond revisionHistoryLimit are deleted, oldest revisions first", () => {
    const sets = [
      rs({ image: "demo:a", replicas: 0, revision: 1 }),
      rs({ image: "demo:b", replicas: 0, revision: 3 }),
      rs({ image: "demo:c", replicas: 0, revision: 2 }),
      rs({ image: "demo:2", replicas: 10, revision: 4 }),
    ];
    const plan = reconcile(state({ image: "demo:2", revisionHistoryLimit: 1, status: complete }, sets), NOW);
    const deleted = plan.steps.flatMap((s) => (s.type === "deleteReplicaSet" ? [s.rs.spec!.template!.spec!.containers[0]!.image] : []));
    assert.deepEqual(deleted, ["demo:a", "demo:c"]);
  });

  test("history is not pruned of replica sets with pods or an unobserved generation, nor mid-rollout", () => {
    const sets = [
      rs({ image: "demo:a", replicas: 0, current: 1, revision: 1 }),
      rs({ image: "demo:b", replicas: 0, revision: 2, generation: 3, observedGeneration: 2 }),
      rs({ image: "demo:2", replicas: 10, revision: 4 }),
    ];
    const kept = reconcile(state({ image: "demo:2", revisionHistoryLimit: 0, status: complete }, sets), NOW);
    assert.equal(kept.steps.some((s) => s.type === "deleteReplicaSet"), false);
    const midRollout = reconcile(state({ image: "demo:2", revisionHistoryLimit: 0, status: { ...complete, updatedReplicas: 5 } }, [rs({ image: "demo:a", replicas: 0, revision: 1 }), rs({ image: "demo:2", replicas: 10, revision: 4 })]), NOW);
    assert.equal(midRollout.steps.some((s) => s.type === "deleteReplicaSet"), false);
  });

  test("a taken name with another template is a hash collision: the count goes up, nothing is created", () => {
    const hash = templateHash(template("demo:2"));
    const squatter = rs({ image: "demo:x", replicas: 1, owner: "someone-else" });
    squatter.metadata!.name = `web-${hash}`;
    const plan = reconcile(state({ image: "demo:2" }, [], { existing: (n) => (n === `web-${hash}` ? squatter : undefined) }), NOW);
    assert.deepEqual(kinds(plan), []);
    assert.equal(plan.deployment?.status?.collisionCount, 1);
  });
});

describe("claiming replica sets", () => {
  test("a matching orphan is adopted; an owned one that stops matching is released", () => {
    const orphan = rs({ image: "demo:1", replicas: 10, revision: 1, owner: null });
    const stray = rs({ image: "demo:0", replicas: 0, revision: 1 });
    stray.metadata!.labels = { app: "other" };
    const plan = reconcile(state({ image: "demo:1" }, [stray], { orphans: [orphan] }), NOW);
    assert.deepEqual(
      plan.steps.filter((s) => s.type === "adoptReplicaSet" || s.type === "releaseReplicaSet").map((s) => [s.type, rsOf(s).spec!.template!.spec!.containers[0]!.image]),
      [
        ["adoptReplicaSet", "demo:1"],
        ["releaseReplicaSet", "demo:0"],
      ],
    );
    assert.equal(kinds(plan).includes("createReplicaSet"), false, "the adopted replica set runs the template");
  });
});
