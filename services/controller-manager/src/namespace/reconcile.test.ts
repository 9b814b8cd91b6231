import { KINDS, type Condition, type Namespace } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { contentConditions, reconcile, type ContentItem, type Plan } from "./reconcile.js";

const NOW = new Date("2026-01-02T03:04:05.678Z");
const T = "2026-01-02T03:04:05Z";
const DELETED_AT = "2026-01-02T03:00:00Z";

function ns(
  name: string,
  opts: { deleting?: boolean; phase?: string; specFinalizers?: string[]; finalizers?: string[]; conditions?: Condition[] } = {},
): Namespace {
  return KINDS.Namespace.codec.fromPartial({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      resourceVersion: "40",
      deletionTimestamp: opts.deleting ? DELETED_AT : "",
      finalizers: opts.finalizers ?? [],
    },
    spec: { finalizers: opts.specFinalizers ?? ["kubernetes"] },
    status: { phase: opts.phase ?? (opts.deleting ? "Terminating" : "Active"), conditions: opts.conditions ?? [] },
  });
}

function item(kind: string, name: string, opts: { finalizers?: string[]; deleting?: boolean; rv?: string } = {}): ContentItem {
  return {
    kind,
    namespace: "team-a",
    name,
    finalizers: opts.finalizers ?? [],
    deletionTimestamp: opts.deleting ? DELETED_AT : "",
    resourceVersion: opts.rv ?? "7",
  };
}

const del = (kind: string, name: string, resourceVersion = "7") =>
  ({ type: "deleteObject", kind, namespace: "team-a", name, resourceVersion }) as const;

function cond(type: string, status: string, reason: string, message: string, lastTransitionTime = T): Condition {
  return { type, status, reason, message, lastTransitionTime, lastUpdateTime: "", lastHeartbeatTime: "", lastProbeTime: "", observedGeneration: 0 };
}

const NO_CONTENT_CONDITIONS = [
  cond("NamespaceContentRemaining", "False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
  cond("NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
];

const HELD_CONDITIONS = [
  cond("NamespaceContentRemaining", "True", "SomeResourcesRemain", "Some resources are remaining: ConfigMap has 1 resource instances"),
  cond("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"),
];

describe("namespace reconcile", () => {
  const cases: { name: string; namespace: Namespace; contents: ContentItem[]; want: Plan }[] = [
    { name: "an active namespace: nothing to do", namespace: ns("team-a"), contents: [item("Pod", "p")], want: [] },
    { name: "default is never deleted", namespace: ns("default", { deleting: true }), contents: [item("ConfigMap", "c")], want: [] },
    { name: "navarch-system is never deleted", namespace: ns("navarch-system", { deleting: true }), contents: [], want: [] },
    {
      name: "terminating with content: delete every object, of every kind",
      namespace: ns("team-a", { deleting: true }),
      contents: [item("ConfigMap", "c1"), item("Secret", "s1", { rv: "9" }), item("Event", "e1"), item("Pod", "p1")],
      want: [del("ConfigMap", "c1"), del("Secret", "s1", "9"), del("Event", "e1"), del("Pod", "p1")],
    },
    {
      name: "deletionTimestamp set but phase not yet Terminating: set it first",
      namespace: ns("team-a", { deleting: true, phase: "Active" }),
      contents: [item("ConfigMap", "c1")],
      want: [{ type: "setPhase", phase: "Terminating", conditions: NO_CONTENT_CONDITIONS }, del("ConfigMap", "c1")],
    },
    {
      name: "an object with finalizers is asked to go, then waited for",
      namespace: ns("team-a", { deleting: true }),
      contents: [item("ConfigMap", "held", { finalizers: ["example.com/hold"] }), item("ConfigMap", "plain")],
      want: [
        { type: "setPhase", phase: "Terminating", conditions: HELD_CONDITIONS },
        del("ConfigMap", "held"),
        del("ConfigMap", "plain"),
        { type: "waitFor", objects: 1, finalizers: ["example.com/hold"] },
      ],
    },
    {
      name: "already being deleted and held: not deleted again; conditions already say so: no write",
      namespace: ns("team-a", { deleting: true, conditions: HELD_CONDITIONS }),
      contents: [item("ConfigMap", "held", { finalizers: ["example.com/hold"], deleting: true })],
      want: [{ type: "waitFor", objects: 1, finalizers: ["example.com/hold"] }],
    },
    {
      name: "being deleted with no finalizers left (not normally stored): deleted",
      namespace: ns("team-a", { deleting: true }),
      contents: [item("Secret", "s", { deleting: true })],
      want: [del("Secret", "s")],
    },
    {
      name: "empty: remove the kubernetes finalizer, then delete the namespace on its revision",
      namespace: ns("team-a", { deleting: true }),
      contents: [],
      want: [{ type: "removeFinalizer", finalizer: "kubernetes" }, { type: "deleteNamespace", resourceVersion: "40" }],
    },
    {
      name: "empty, finalizer already removed: delete",
      namespace: ns("team-a", { deleting: true, specFinalizers: [] }),
      contents: [],
      want: [{ type: "deleteNamespace", resourceVersion: "40" }],
    },
    {
      name: "empty but another spec finalizer remains: finalize ours, leave the namespace to its owner",
      namespace: ns("team-a", { deleting: true, specFinalizers: ["kubernetes", "example.com/ns"] }),
      contents: [],
      want: [{ type: "removeFinalizer", finalizer: "kubernetes" }],
    },
    {
      name: "empty but a metadata finalizer remains: the store deletes it when that goes",
      namespace: ns("team-a", { deleting: true, specFinalizers: [], finalizers: ["example.com/meta"] }),
      contents: [],
      want: [],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(reconcile(c.namespace, c.contents, NOW), c.want));
  }

  test("a pass that deletes does not also finalize, even when nothing will be held", () => {
    const plan = reconcile(ns("team-a", { deleting: true }), [item("ConfigMap", "c")], NOW);
    assert.ok(!plan.some((s) => s.type === "removeFinalizer" || s.type === "deleteNamespace"));
  });

  test("conditions keep their transition time while their status holds, and count by kind and finalizer", () => {
    const held = [
      item("ConfigMap", "a", { finalizers: ["x.io/a"] }),
      item("ConfigMap", "b", { finalizers: ["x.io/a", "x.io/b"] }),
      item("Pod", "p", { finalizers: ["x.io/a"] }),
    ];
    const earlier = [cond("NamespaceContentRemaining", "True", "SomeResourcesRemain", "old message", "2025-01-01T00:00:00Z"), cond("Other", "True", "R", "m")];
    const got = contentConditions(earlier, held, NOW);
    assert.deepEqual(got, [
      cond("Other", "True", "R", "m"),
      cond(
        "NamespaceContentRemaining",
        "True",
        "SomeResourcesRemain",
        "Some resources are remaining: ConfigMap has 2 resource instances, Pod has 1 resource instances",
        "2025-01-01T00:00:00Z",
      ),
      cond(
        "NamespaceFinalizersRemaining",
        "True",
        "SomeFinalizersRemain",
        "Some content in the namespace has finalizers remaining: x.io/a in 3 resource instances, x.io/b in 1 resource instances",
      ),
    ]);
  });

  test("a changed remaining count rewrites the conditions", () => {
    const namespace = ns("team-a", { deleting: true, conditions: HELD_CONDITIONS });
    const plan = reconcile(
      namespace,
      [
        item("ConfigMap", "held", { finalizers: ["example.com/hold"], deleting: true }),
        item("ConfigMap", "held2", { finalizers: ["example.com/hold"], deleting: true }),
      ],
      NOW,
    );
    assert.equal(plan[0]?.type, "setPhase");
    assert.equal(plan.at(-1)?.type, "waitFor");
  });
});
