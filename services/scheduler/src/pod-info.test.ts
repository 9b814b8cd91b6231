import assert from "node:assert/strict";
import { test } from "node:test";
import { KINDS } from "@navarch/api";
import { podInfoOf } from "./pod-info.js";
import { makePod } from "./testing.js";

test("requests sum over containers; limits stand in for missing requests", () => {
  const pod = KINDS.Pod.codec.fromPartial({
    metadata: { name: "p", namespace: "ns", uid: "u" },
    spec: {
      containers: [
        { name: "a", resources: { requests: { cpu: "250m", memory: "64Mi" } } },
        { name: "b", resources: { limits: { cpu: "1", memory: "1Gi" } } },
        { name: "c" },
      ],
    },
  });
  const p = podInfoOf(pod);
  assert.equal(p.key, "ns.p");
  assert.equal(p.milliCpu, 1250);
  assert.equal(p.memory, 64 * 2 ** 20 + 2 ** 30);
  // c requests nothing: 100m and 200Mi for scoring
  assert.equal(p.nonZeroMilliCpu, 1350);
  assert.equal(p.nonZeroMemory, 64 * 2 ** 20 + 2 ** 30 + 200 * 2 ** 20);
});

test("the largest init container counts when it is bigger than the app containers together", () => {
  const p = podInfoOf(makePod("p", { cpu: "200m", initCpu: "2" }));
  assert.equal(p.milliCpu, 2000);
});

test("host ports, owner, priority", () => {
  const p = podInfoOf(makePod("p", { hostPorts: [80, 443], owner: "rs", priority: 7 }));
  assert.deepEqual(p.hostPorts, ["TCP/80", "TCP/443"]);
  assert.equal(p.ownerUid, "uid-rs");
  assert.equal(p.priority, 7);
});
