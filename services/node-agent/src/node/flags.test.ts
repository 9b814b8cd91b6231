import assert from "node:assert/strict";
import { test } from "node:test";
import { parseLabels, parseTaints } from "./flags.js";

test("node labels from NAVARCH_NODE_LABELS", () => {
  assert.deepEqual(parseLabels(""), {});
  assert.deepEqual(parseLabels("zone=a, disk=ssd ,navarch.dev/pool=blue"), { zone: "a", disk: "ssd", "navarch.dev/pool": "blue" });
  assert.deepEqual(parseLabels("empty="), { empty: "" });
  for (const bad of ["novalue", "=x", "bad key=x", "k=bad value"]) assert.throws(() => parseLabels(bad), /node label/, bad);
});

test("node taints from NAVARCH_NODE_TAINTS", () => {
  assert.deepEqual(parseTaints("dedicated=gpu:NoSchedule,maintenance:NoExecute"), [
    { key: "dedicated", value: "gpu", effect: "NoSchedule", timeAdded: "" },
    { key: "maintenance", value: "", effect: "NoExecute", timeAdded: "" },
  ]);
  assert.deepEqual(parseTaints(""), []);
  for (const bad of ["k=v", "k=v:Sometimes", ":NoSchedule", "a:NoSchedule,a:NoSchedule"]) assert.throws(() => parseTaints(bad), /node taint/, bad);
});
