import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError } from "../errors.js";
import { propagationPolicy } from "./delete.js";

test("--cascade maps to the API's propagationPolicy as kubectl's does", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "Background"],
    ["background", "Background"],
    ["true", "Background"],
    ["foreground", "Foreground"],
    ["Foreground", "Foreground"],
    ["orphan", "Orphan"],
    ["false", "Orphan"],
  ];
  for (const [cascade, want] of cases) assert.equal(propagationPolicy(cascade), want, String(cascade));
  assert.throws(() => propagationPolicy("sideways"), (e: unknown) => e instanceof CliError && /invalid cascade value \(sideways\)/.test((e as Error).message));
});
