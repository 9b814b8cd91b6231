import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidError } from "./errors.js";
import { formatSelector, fromLabelSelector, matches, parseFieldSelector, parseSelector } from "./labels.js";

const cases: [string, Record<string, string>, boolean][] = [
  ["", { a: "1" }, true],
  ["app=web", { app: "web" }, true],
  ["app=web", { app: "db" }, false],
  ["app==web", { app: "web" }, true],
  ["app!=web", { app: "db" }, true],
  ["app!=web", {}, true],
  ["app!=web", { app: "web" }, false],
  ["env in (prod, staging)", { env: "staging" }, true],
  ["env in (prod,staging)", { env: "dev" }, false],
  ["env notin (prod)", { env: "dev" }, true],
  ["env notin (prod)", {}, true],
  ["tier", { tier: "" }, true],
  ["tier", {}, false],
  ["!legacy", { app: "x" }, true],
  ["!legacy", { legacy: "yes" }, false],
  ["app=web,tier in (fe),!legacy", { app: "web", tier: "fe" }, true],
  ["example.com/role=edge", { "example.com/role": "edge" }, true],
];

for (const [selector, labels, want] of cases) {
  test(`"${selector}" on ${JSON.stringify(labels)} -> ${want}`, () => {
    assert.equal(matches(parseSelector(selector), labels), want);
  });
}

for (const bad of ["app in (", "app=web,", "=x", "app in ()", "Bad Key=1", "app=bad value!", "a=" + "x".repeat(64)]) {
  test(`"${bad}" is refused with the request field in the error`, () => {
    assert.throws(() => parseSelector(bad), (err: unknown) => err instanceof InvalidError && /^labelSelector: /.test(err.message));
  });
}

test("structured selectors compile to the same requirements and print back", () => {
  const reqs = fromLabelSelector({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["fe", "be"] }, { key: "old", operator: "DoesNotExist", values: [] }] });
  assert.equal(formatSelector(reqs), "app=web,tier in (fe,be),!old");
  assert.ok(matches(reqs, { app: "web", tier: "be" }));
  assert.throws(() => fromLabelSelector({ matchLabels: {}, matchExpressions: [{ key: "a", operator: "Near", values: [] }] }), /spec\.selector\.matchExpressions\[0\]\.operator/);
});

test("field selectors accept only the supported fields", () => {
  assert.deepEqual(parseFieldSelector("spec.nodeName=n1,metadata.name!=x", ["spec.nodeName", "metadata.name"]), [
    { field: "spec.nodeName", op: "=", value: "n1" },
    { field: "metadata.name", op: "!=", value: "x" },
  ]);
  assert.throws(() => parseFieldSelector("spec.foo=1", ["spec.nodeName"]), /fieldSelector: field "spec.foo" is not supported/);
});
