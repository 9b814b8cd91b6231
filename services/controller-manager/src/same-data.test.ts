import assert from "node:assert/strict";
import { test } from "node:test";
import { sameData } from "./same-data.js";

test("equal plain data, nested, in any key order", () => {
  assert.equal(sameData({ a: 1, b: [{ c: "x", d: true }], e: null }, { e: null, b: [{ d: true, c: "x" }], a: 1 }), true);
  assert.equal(sameData("x", "x"), true);
  assert.equal(sameData([], []), true);
});

test("a key holding undefined is the same as no key", () => {
  assert.equal(sameData({ a: 1, b: undefined }, { a: 1 }), true);
  assert.equal(sameData({ a: 1 }, { a: 1, b: undefined }), true);
});

test("any difference is found", () => {
  assert.equal(sameData({ a: 1 }, { a: 2 }), false);
  assert.equal(sameData({ a: 1 }, { a: 1, b: 0 }), false);
  assert.equal(sameData({ a: 1, b: 0 }, { a: 1 }), false);
  assert.equal(sameData({ a: [1, 2] }, { a: [2, 1] }), false);
  assert.equal(sameData({ a: [1] }, { a: [1, 1] }), false);
  assert.equal(sameData({ a: [] }, { a: {} }), false);
  assert.equal(sameData({ a: "" }, { a: undefined }), false, "an empty string is a value");
  assert.equal(sameData({ a: null }, { a: {} }), false);
  assert.equal(sameData(0, "0"), false);
  assert.equal(sameData(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(sameData(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
});
