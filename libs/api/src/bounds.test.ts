// Error messages stay small whatever the input (docs/api-errors.md).
import assert from "node:assert/strict";
import { test } from "node:test";
import { clip, clipBytes, MAX_SELECTOR_CHARS, MAX_STATUS_MESSAGE_BYTES } from "./bounds.js";
import { formatFieldErrors, InvalidError } from "./errors.js";
import { parseFieldSelector, parseSelector } from "./labels.js";
import { parseResourceVersion } from "./resource-version.js";

test("clip keeps short values and says how much of a long one it left out", () => {
  assert.equal(clip("abc"), "abc");
  assert.equal(clip("x".repeat(1000), 10), "xxxxxxxxxx... (990 more characters)");
});

test("clipBytes cuts on a character boundary within the byte budget", () => {
  const out = clipBytes("é".repeat(5000), 100);
  assert.ok(Buffer.byteLength(out) <= 100, String(Buffer.byteLength(out)));
  assert.match(out, /^é+ \.\.\. \(message truncated\)$/);
  assert.equal(clipBytes("short"), "short");
});

test("formatFieldErrors lists what fits and counts the rest", () => {
  const errors = Array.from({ length: 1000 }, (_, i) => ({ path: `metadata.labels["${"k".repeat(10_000)}${i}"]`, message: `Invalid value: ${"v".repeat(500)}` }));
  const text = formatFieldErrors(errors);
  assert.ok(Buffer.byteLength(text) <= MAX_STATUS_MESSAGE_BYTES, String(Buffer.byteLength(text)));
  assert.match(text, /^metadata\.labels\["k+\.\.\. \(\d+ more characters\): Invalid value: v+/);
  assert.match(text, /; and 99\d more errors$/);
  assert.equal(formatFieldErrors([{ path: "a", message: "b" }, { path: "", message: "c" }]), "a: b; c");
  assert.equal(new InvalidError(errors).message, text);
});

test("resourceVersions: only canonical decimal integers", () => {
  assert.equal(parseResourceVersion(""), 0);
  assert.equal(parseResourceVersion("0"), 0);
  assert.equal(parseResourceVersion("8"), 8);
  assert.equal(parseResourceVersion("9007199254740991"), Number.MAX_SAFE_INTEGER);
  for (const bad of [" 8", "8 ", "1e3", "0x10", "08", "00", "-1", "+1", "1.0", "1e20", "9007199254740992", "99999999999999999999", "٣", "x".repeat(100_000)]) {
    assert.throws(
      () => parseResourceVersion(bad, "metadata.resourceVersion"),
      (err: unknown) => err instanceof InvalidError && /^metadata\.resourceVersion: Invalid value: /.test(err.message) && err.message.length < 300,
      JSON.stringify(bad.slice(0, 20)),
    );
  }
});

test("selectors longer than the cap are refused before parsing, without echoing them", () => {
  const long = "a=b,".repeat(MAX_SELECTOR_CHARS);
  assert.throws(() => parseSelector(long), (err: unknown) => err instanceof InvalidError && err.message.length < 200 && /^labelSelector: must be no more than/.test(err.message));
  assert.throws(() => parseFieldSelector(long, ["a"]), (err: unknown) => err instanceof InvalidError && err.message.length < 200 && /^fieldSelector: must be no more than/.test(err.message));
  // Just under the cap parses (in linear time: the old parser copied the rest of the text per term).
  const many = Array.from({ length: 1000 }, (_, i) => `k${i} in (a,b)`).join(",");
  assert.ok(many.length <= MAX_SELECTOR_CHARS);
  assert.equal(parseSelector(many).length, 1000);
});

test("a bad selector quotes where it went wrong, clipped", () => {
  assert.throws(
    () => parseSelector(`${"a".repeat(5000)} in (`),
    (err: unknown) => err instanceof InvalidError && err.message.length < 300 && /^labelSelector: expected a value at the end$/.test(err.message),
  );
  assert.throws(() => parseSelector(`app=${"v".repeat(5000)}`), (err: unknown) => err instanceof InvalidError && err.message.length < 400);
  assert.throws(() => parseSelector(`${"a".repeat(5000)} ? x`), (err: unknown) => err instanceof InvalidError && /at position 5001: "\? x"$/.test(err.message));
});

test("field selectors are strict: no empty terms, no spaces or separators in values", () => {
  const fields = ["metadata.name", "metadata.namespace"];
  assert.deepEqual(parseFieldSelector("", fields), []);
  assert.deepEqual(parseFieldSelector("metadata.name==a, metadata.namespace!=b", fields), [
    { field: "metadata.name", op: "=", value: "a" },
    { field: "metadata.namespace", op: "!=", value: "b" },
  ]);
  for (const bad of ["metadata.name=a,,metadata.namespace=b", ",", "metadata.name=a,", "metadata.name=a=b", "metadata.name", "metadata.name=a b", "metadata.name =a", "metadata.name=!a", "metadata.name=a\\,b"]) {
    assert.throws(() => parseFieldSelector(bad, fields), (err: unknown) => err instanceof InvalidError && /^fieldSelector: /.test(err.message), JSON.stringify(bad));
  }
});
