// Keys are unambiguous: built only from a DNS-1123 label namespace and a DNS-1123 subdomain name.
import { InvalidError, KINDS } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkKeyParts, objectKey, objectKeyOrUndefined, splitKey } from "./keys.js";

test("namespaced keys are <namespace>.<name>, and a name may contain dots", () => {
  assert.equal(objectKey(KINDS.ConfigMap, "default", "app.key"), "default.app.key");
  assert.deepEqual(splitKey(KINDS.ConfigMap, "default.app.key"), { namespace: "default", name: "app.key" });
  assert.equal(objectKey(KINDS.Node, "", "node-1.example"), "node-1.example");
  // A cluster-scoped kind has no namespace part: one given is ignored.
  assert.equal(objectKey(KINDS.Node, "whatever", "n1"), "n1");
});

test("a namespace with a dot (default/app.key read as default.app/key) is refused", () => {
  assert.throws(() => objectKey(KINDS.ConfigMap, "default.app", "key"), (err: unknown) => err instanceof InvalidError && /^namespace: Invalid value: "default\.app"/.test(err.message));
  assert.equal(objectKeyOrUndefined(KINDS.ConfigMap, "default.app", "key"), undefined);
});

test("names and namespaces that cannot be NATS key tokens or are too long are refused, briefly", () => {
  const cases: [string, string, RegExp][] = [
    ["default", "", /^name: Required value$/],
    ["", "x", /^namespace: Required value$/],
    ["default", "a*b", /^name: Invalid value: "a\*b"/],
    ["default", "a>", /^name: /],
    ["default", "a b", /^name: /],
    ["default", "UPPER", /^name: /],
    ["default", "a".repeat(254), /^name: Invalid value: "a+\.\.\. \(190 more characters\)": must be no more than 253 characters$/],
    ["x".repeat(100_000), "a", /^namespace: .*no more than 63 characters$/],
  ];
  for (const [ns, name, want] of cases) {
    const errs = checkKeyParts(KINDS.ConfigMap, ns, name);
    assert.equal(errs.length, 1, `${ns.slice(0, 10)}/${name.slice(0, 10)}`);
    const message = `${errs[0]!.path}: ${errs[0]!.message}`;
    assert.match(message, want);
    assert.ok(message.length < 300);
  }
  // Cache lookups only need the namespace to be unambiguous: a bad name finds nothing anyway.
  assert.equal(objectKeyOrUndefined(KINDS.ConfigMap, "", "x"), undefined);
  assert.equal(objectKeyOrUndefined(KINDS.ConfigMap, "default", "a*b"), "default.a*b");
  assert.deepEqual(checkKeyParts(KINDS.ConfigMap, "default", "x", { namespace: "metadata.namespace", name: "metadata.name" }), []);
  assert.equal(checkKeyParts(KINDS.ConfigMap, "default", "", { namespace: "metadata.namespace", name: "metadata.name" })[0]!.path, "metadata.name");
});
