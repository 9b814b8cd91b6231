import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeSelectorTerm, Taint, Toleration } from "./generated/index.js";
import { KINDS } from "./kinds.js";
import {
  addDefaultTolerations,
  anyTermMatches,
  requestsFromLimits,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  termMatches,
  toleratedByAny,
  toleratedSeconds,
  tolerates,
  type NodeFacts,
} from "./placement.js";

const taint = (key: string, value = "", effect = "NoExecute"): Taint => ({ key, value, effect, timeAdded: "" });
const tol = (key: string, operator = "Exists", effect = "", value = "", seconds?: number): Toleration => ({ key, operator, value, effect, tolerationSeconds: seconds });

test("tolerates: Kubernetes' ToleratesTaint", () => {
  const db = taint("dedicated", "db", "NoExecute");
  const rows: [string, Toleration, Taint, boolean][] = [
    ["Equal, same key, value and effect", tol("dedicated", "Equal", "NoExecute", "db"), db, true],
    ["an empty operator is Equal", tol("dedicated", "", "NoExecute", "db"), db, true],
    ["Equal with another value", tol("dedicated", "Equal", "NoExecute", "web"), db, false],
    ["Equal with no value against a valued taint", tol("dedicated", "Equal", "NoExecute"), db, false],
    ["Equal without value against a taint without value", tol("dedicated", "Equal", "NoSchedule"), taint("dedicated", "", "NoSchedule"), true],
    ["Exists ignores the value", tol("dedicated", "Exists", "NoExecute"), db, true],
    ["an empty effect matches every effect", tol("dedicated", "Exists", ""), db, true],
    ["another effect does not match", tol("dedicated", "Exists", "NoSchedule"), db, false],
    ["another key does not match", tol("other"), db, false],
    ["an empty key with Exists tolerates every taint", tol(""), db, true],
    ["an empty key with Exists and an effect tolerates that effect only", tol("", "Exists", "NoSchedule"), db, false],
    ["an unknown operator tolerates nothing", tol("dedicated", "Maybe", "", "db"), db, false],
  ];
  for (const [name, t, of, want] of rows) assert.equal(tolerates(t, of), want, name);
});

test("toleratedByAny: one matching toleration is enough; none for no tolerations", () => {
  const t = taint(TAINT_UNREACHABLE, "", "NoSchedule");
  assert.equal(toleratedByAny([], t), false);
  assert.equal(toleratedByAny([tol(TAINT_NOT_READY), tol(TAINT_UNREACHABLE, "Exists", "NoSchedule")], t), true);
  assert.equal(toleratedByAny([tol(TAINT_NOT_READY), tol(TAINT_UNREACHABLE, "Exists", "NoExecute")], t), false);
  // A taint given without its timeAdded (as the scheduler's checks pass one).
  assert.equal(toleratedByAny([tol("", "Exists")], { key: "k", value: "", effect: "NoSchedule" }), true);
});

test("toleratedSeconds: 0 untolerated, the smallest matching seconds, Infinity without seconds", () => {
  const t = taint(TAINT_UNREACHABLE);
  const rows: [string, Toleration[], number][] = [
    ["no tolerations", [], 0],
    ["only another key", [tol("other", "Exists", "NoExecute", "", 30)], 0],
    ["tolerated without seconds", [tol(TAINT_UNREACHABLE)], Infinity],
    ["tolerated with seconds", [tol(TAINT_UNREACHABLE, "Exists", "NoExecute", "", 30)], 30],
    ["the smallest of several matching", [tol(TAINT_UNREACHABLE, "Exists", "NoExecute", "", 60), tol("", "Exists", "", "", 7)], 7],
    ["one without seconds does not lift another's", [tol(TAINT_UNREACHABLE), tol("", "Exists", "", "", 7)], 7],
    ["0 seconds: not at all", [tol(TAINT_UNREACHABLE, "Exists", "NoExecute", "", 60), tol(TAINT_UNREACHABLE, "Exists", "NoExecute", "", 0)], 0],
    ["negative seconds: not at all", [tol(TAINT_UNREACHABLE, "Exists", "NoExecute", "", -5)], 0],
    ["a non-matching toleration's seconds do not count", [tol(TAINT_UNREACHABLE), tol(TAINT_NOT_READY, "Exists", "NoExecute", "", 1)], Infinity],
  ];
  for (const [name, tolerations, want] of rows) assert.equal(toleratedSeconds(tolerations, t), want, name);
});

const term = (...matchExpressions: { key: string; operator: string; values?: string[] }[]): NodeSelectorTerm => ({
  matchExpressions: matchExpressions.map((e) => ({ values: [], ...e })),
  matchFields: [],
});
const fields = (...matchFields: { key: string; operator: string; values?: string[] }[]): NodeSelectorTerm => ({
  matchExpressions: [],
  matchFields: matchFields.map((e) => ({ values: [], ...e })),
});

test("termMatches: node selector requirements as Kubernetes evaluates them", () => {
  const n1: NodeFacts = { name: "n1", labels: { "kubernetes.io/os": "linux", disk: "ssd", cores: "16", empty: "" } };
  const rows: [string, NodeSelectorTerm | undefined, boolean][] = [
    ["In", term({ key: "disk", operator: "In", values: ["ssd", "nvme"] }), true],
    ["In, value not listed", term({ key: "disk", operator: "In", values: ["hdd"] }), false],
    ["In on a missing key", term({ key: "zone", operator: "In", values: ["a"] }), false],
    ["In on an empty label value", term({ key: "empty", operator: "In", values: [""] }), true],
    ["NotIn", term({ key: "disk", operator: "NotIn", values: ["ssd"] }), false],
    ["NotIn on a missing key matches", term({ key: "zone", operator: "NotIn", values: ["a"] }), true],
    ["Exists", term({ key: "disk", operator: "Exists" }), true],
    ["Exists on an empty label value", term({ key: "empty", operator: "Exists" }), true],
    ["Exists on a missing key", term({ key: "gpu", operator: "Exists" }), false],
    ["DoesNotExist", term({ key: "disk", operator: "DoesNotExist" }), false],
    ["DoesNotExist on a missing key", term({ key: "gpu", operator: "DoesNotExist" }), true],
    ["a label named like an Object property is still missing", term({ key: "constructor", operator: "Exists" }), false],
    ["Gt", term({ key: "cores", operator: "Gt", values: ["8"] }), true],
    ["Gt, equal is not greater", term({ key: "cores", operator: "Gt", values: ["16"] }), false],
    ["Lt", term({ key: "cores", operator: "Lt", values: ["8"] }), false],
    ["Lt with a sign", term({ key: "cores", operator: "Lt", values: ["+32"] }), true],
    ["Gt on a non-number label", term({ key: "disk", operator: "Gt", values: ["1"] }), false],
    ["Gt with a non-number bound", term({ key: "cores", operator: "Gt", values: ["1.5"] }), false],
    ["Gt with two values", term({ key: "cores", operator: "Gt", values: ["1", "2"] }), false],
    ["Gt on a missing key", term({ key: "gpus", operator: "Gt", values: ["0"] }), false],
    ["an unknown operator", term({ key: "disk", operator: "Like", values: ["ssd"] }), false],
    ["a term's requirements all hold (AND)", term({ key: "disk", operator: "Exists" }, { key: "gpu", operator: "Exists" }), false],
    ["two requirements that hold", term({ key: "disk", operator: "Exists" }, { key: "cores", operator: "Gt", values: ["4"] }), true],
    ["an empty term matches nothing", term(), false],
    ["no term matches nothing", undefined, false],
    ["matchFields on metadata.name", fields({ key: "metadata.name", operator: "In", values: ["n1"] }), true],
    ["matchFields of another node", fields({ key: "metadata.name", operator: "In", values: ["n2"] }), false],
    ["matchFields NotIn another node", fields({ key: "metadata.name", operator: "NotIn", values: ["n2"] }), true],
    ["matchFields knows only metadata.name", fields({ key: "metadata.namespace", operator: "DoesNotExist" }), false],
    [
      "matchExpressions and matchFields both hold",
      { matchExpressions: term({ key: "disk", operator: "Exists" }).matchExpressions, matchFields: fields({ key: "metadata.name", operator: "In", values: ["n2"] }).matchFields },
      false,
    ],
  ];
  for (const [name, t, want] of rows) assert.equal(termMatches(t, n1), want, name);
});

test("anyTermMatches: terms are alternatives (OR); no terms match nothing", () => {
  const n1: NodeFacts = { name: "n1", labels: { disk: "ssd" } };
  assert.equal(anyTermMatches([term({ key: "gpu", operator: "Exists" }), term({ key: "disk", operator: "In", values: ["ssd"] })], n1), true);
  assert.equal(anyTermMatches([term({ key: "gpu", operator: "Exists" }), term()], n1), false);
  assert.equal(anyTermMatches([], n1), false);
});

const spec = (tolerations: Partial<Toleration>[], containers: object[] = [{ name: "c", image: "i" }]) =>
  KINDS.Pod.codec.fromPartial({ spec: { tolerations, containers } }).spec!;
const shown = (ts: Toleration[]) => ts.map((t) => `${t.key || "*"}:${t.operator}:${t.effect || "*"}:${t.tolerationSeconds ?? "-"}`);

test("addDefaultTolerations: adds the not-ready and unreachable NoExecute tolerations a pod lacks", () => {
  const rows: [string, Partial<Toleration>[], string[]][] = [
    ["none", [], [`${TAINT_NOT_READY}:Exists:NoExecute:30`, `${TAINT_UNREACHABLE}:Exists:NoExecute:5`]],
    ["its own not-ready toleration", [{ key: TAINT_NOT_READY, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }], [`${TAINT_NOT_READY}:Exists:NoExecute:300`, `${TAINT_UNREACHABLE}:Exists:NoExecute:5`]],
    ["unreachable forever", [{ key: TAINT_UNREACHABLE, operator: "Exists", effect: "NoExecute" }], [`${TAINT_UNREACHABLE}:Exists:NoExecute:-`, `${TAINT_NOT_READY}:Exists:NoExecute:30`]],
    ["any effect of the key", [{ key: TAINT_UNREACHABLE, operator: "Exists" }], [`${TAINT_UNREACHABLE}:Exists:*:-`, `${TAINT_NOT_READY}:Exists:NoExecute:30`]],
    ["everything", [{ operator: "Exists" }], ["*:Exists:*:-"]],
    ["every NoExecute taint", [{ operator: "Exists", effect: "NoExecute" }], ["*:Exists:NoExecute:-"]],
    [
      "a NoSchedule toleration does not count",
      [{ key: TAINT_UNREACHABLE, operator: "Exists", effect: "NoSchedule" }],
      [`${TAINT_UNREACHABLE}:Exists:NoSchedule:-`, `${TAINT_NOT_READY}:Exists:NoExecute:30`, `${TAINT_UNREACHABLE}:Exists:NoExecute:5`],
    ],
  ];
  for (const [name, given, want] of rows) {
    const s = spec(given);
    addDefaultTolerations(s, 30, 5);
    assert.deepEqual(shown(s.tolerations), want, name);
    addDefaultTolerations(s, 30, 5);
    assert.deepEqual(shown(s.tolerations), want, `${name}: adding twice adds nothing`);
  }
});

test("requestsFromLimits: a limit without a request requests the limit; a request is kept", () => {
  const s = spec(
    [],
    [
      { name: "app", image: "i", resources: { requests: { cpu: "100m" }, limits: { cpu: "500m", memory: "128Mi" } } },
      { name: "no-resources", image: "i" },
    ],
  );
  s.initContainers = spec([], [{ name: "init", image: "i", resources: { limits: { memory: "64Mi" } } }]).containers;
  requestsFromLimits(s);
  assert.deepEqual(s.containers[0]!.resources!.requests, { cpu: "100m", memory: "128Mi" });
  assert.deepEqual(s.containers[0]!.resources!.limits, { cpu: "500m", memory: "128Mi" });
  assert.deepEqual(s.containers[1]!.resources?.requests ?? {}, {});
  assert.deepEqual(s.initContainers[0]!.resources!.requests, { memory: "64Mi" });
});
