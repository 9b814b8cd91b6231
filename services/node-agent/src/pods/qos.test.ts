import { KINDS, type Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { qosClass } from "./qos.js";

function pod(...resources: ({ requests?: Record<string, string>; limits?: Record<string, string> } | undefined)[]): Pod {
  return KINDS.Pod.codec.fromPartial({
    metadata: { name: "p", namespace: "default" },
    spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: "x", resources: r ? { requests: r.requests ?? {}, limits: r.limits ?? {} } : undefined })) },
  });
}

test("qosClass follows Kubernetes' rules", () => {
  const cases: [string, Pod, string][] = [
    ["nothing", pod(undefined, {}), "BestEffort"],
    ["zero quantities", pod({ requests: { cpu: "0" } }), "BestEffort"],
    ["limits for both (requests default to them)", pod({ limits: { cpu: "500m", memory: "64Mi" } }), "Guaranteed"],
    ["requests equal limits", pod({ requests: { cpu: "0.5", memory: "64Mi" }, limits: { cpu: "500m", memory: "67108864" } }), "Guaranteed"],
    ["requests below limits", pod({ requests: { cpu: "250m", memory: "64Mi" }, limits: { cpu: "500m", memory: "64Mi" } }), "Burstable"],
    ["only a memory limit", pod({ limits: { memory: "64Mi" } }), "Burstable"],
    ["only requests", pod({ requests: { cpu: "100m" } }), "Burstable"],
    ["one guaranteed, one best effort", pod({ limits: { cpu: "1", memory: "1Gi" } }, undefined), "Burstable"],
    ["two guaranteed", pod({ limits: { cpu: "1", memory: "1Gi" } }, { limits: { cpu: "2", memory: "2Gi" } }), "Guaranteed"],
  ];
  for (const [name, p, want] of cases) assert.equal(qosClass(p), want, name);
});
