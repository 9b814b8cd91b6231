import { KINDS, type Condition } from "@navarch/api";
import type { RuntimeInfo } from "@navarch/runtime";
import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeConditions } from "./conditions.js";
import { desiredNode, nodeFacts } from "./register.js";

const cond = (type: string, status: string, reason = "", lastTransitionTime = "2025-01-01T00:00:00Z"): Condition =>
  KINDS.Node.codec.fromPartial({ status: { conditions: [{ type, status, reason, lastTransitionTime }] } }).status!.conditions[0]!;

test("merge: other writers' conditions kept in place, ours replaced or added, transition time moves only with the status", () => {
  const existing = [cond("Ready", "True"), cond("ServiceProxyReady", "False", "Starting"), cond("MemoryPressure", "False")];
  const now = "2025-02-02T00:00:00Z";
  const merged = mergeConditions(
    existing,
    [
      { type: "ServiceProxyReady", status: "False", reason: "NftNotFound", message: "nft not found" },
      { type: "ClusterDNSReady", status: "True", reason: "Listening", message: "listening on 10.0.0.1:53" },
    ],
    now,
  );
  assert.deepEqual(merged.map((c) => `${c.type}=${c.status}/${c.reason}`), ["Ready=True/", "ServiceProxyReady=False/NftNotFound", "MemoryPressure=False/", "ClusterDNSReady=True/Listening"]);
  assert.equal(merged[1]!.lastTransitionTime, "2025-01-01T00:00:00Z", "same status: the transition time stays");
  assert.equal(merged[3]!.lastTransitionTime, now);
  const again = mergeConditions(merged, [{ type: "ServiceProxyReady", status: "True", reason: "RulesWritten", message: "" }], "2025-03-03T00:00:00Z");
  assert.equal(again[1]!.lastTransitionTime, "2025-03-03T00:00:00Z");
  assert.equal(again[3]!.reason, "Listening", "a condition not given is left as it is");
});

test("registration: the agent's conditions are written with its facts, and nothing is written when they did not change", () => {
  const info: RuntimeInfo = { name: "docker", version: "20.10", apiVersion: "1.41", os: "linux", arch: "x86_64", kernelVersion: "6", cpus: 2, memoryBytes: 2 ** 32, hostname: "h" };
  const facts = nodeFacts({ name: "n1", address: "127.0.0.1", userLabels: {}, taints: [], cpu: "", memory: "", pods: "", reservedCpu: "", reservedMemory: "" }, info);
  const ours = [{ type: "ServiceProxyReady", status: "False" as const, reason: "NftNotFound", message: "nft not found" }];
  const created = desiredNode(undefined, { ...facts, conditions: ours }, "n1", new Date())!;
  assert.deepEqual(created.status!.conditions.map((c) => c.type), ["ServiceProxyReady"]);
  // The lifecycle controller adds Ready; our next registration keeps it and writes nothing new.
  const withReady = { ...created, status: { ...created.status!, conditions: [cond("Ready", "True"), ...created.status!.conditions] } };
  assert.equal(desiredNode(withReady, { ...facts, conditions: ours }, "n1", new Date()), undefined);
  // Without conditions in the facts (a caller that does not know them), the stored ones stay.
  assert.equal(desiredNode(withReady, facts, "n1", new Date()), undefined);
  const fixed = desiredNode(withReady, { ...facts, conditions: [{ ...ours[0]!, status: "True", reason: "RulesWritten" }] }, "n1", new Date())!;
  assert.deepEqual(fixed.status!.conditions.map((c) => `${c.type}=${c.status}`), ["Ready=True", "ServiceProxyReady=True"]);
});
