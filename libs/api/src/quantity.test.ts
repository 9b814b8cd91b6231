import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesOf, checkQuantity, milliCpu } from "./quantity.js";

const cpu: [string, number][] = [["500m", 500], ["1", 1000], ["2.5", 2500], ["0.1", 100], ["1500u", 2], ["1e3", 1_000_000], ["250m", 250]];
for (const [q, want] of cpu) test(`cpu ${q} = ${want}m`, () => assert.equal(milliCpu(q), want));

const mem: [string, number][] = [["128Mi", 134_217_728], ["1Gi", 1_073_741_824], ["1G", 1_000_000_000], ["64Ki", 65_536], ["100", 100], ["1.5Gi", 1_610_612_736], ["2e3", 2000]];
for (const [q, want] of mem) test(`memory ${q} = ${want}`, () => assert.equal(bytesOf(q), want));

for (const bad of ["", "abc", "1.2.3", "5 Mi", "-1", "1Qi"]) {
  test(`"${bad}" is not a quantity`, () => assert.ok(checkQuantity(bad)));
}
for (const good of ["1", "500m", "1Gi", "0.5", "1e3", "128974848"]) {
  test(`"${good}" is a quantity`, () => assert.equal(checkQuantity(good), undefined));
}
