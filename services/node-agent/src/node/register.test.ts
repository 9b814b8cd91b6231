import { KINDS } from "@navarch/api";
import type { RuntimeInfo } from "@navarch/runtime";
import assert from "node:assert/strict";
import { test } from "node:test";
import { desiredNode, formatCpu, formatMemory, goArch, nodeFacts, type NodeSettings } from "./register.js";

const info: RuntimeInfo = {
  name: "docker", version: "20.10.24", apiVersion: "1.41", os: "linux", arch: "x86_64", kernelVersion: "6.1.0", cpus: 2, memoryBytes: 4 * 1024 ** 3 + 512, hostname: "h",
};
const settings: NodeSettings = {
  name: "n1", address: "127.0.0.1", userLabels: { zone: "a" }, taints: [{ key: "gpu", value: "", effect: "NoSchedule", timeAdded: "" }],
  cpu: "", memory: "", pods: "110", reservedCpu: "500m", reservedMemory: "1Gi",
};
const now = new Date("2025-01-01T00:00:00Z");

test("facts: capacity from the runtime, allocatable = capacity - reserved, labels, info", () => {
  const f = nodeFacts(settings, info);
  assert.deepEqual(f.capacity, { cpu: "2", memory: "4194304Ki", pods: "110" });
  assert.deepEqual(f.allocatable, { cpu: "1500m", memory: "3145728Ki", pods: "110" });
  assert.deepEqual(f.labels, { zone: "a", "kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" });
  assert.equal(f.nodeInfo.containerRuntimeVersion, "docker://20.10.24");
  assert.match(f.nodeInfo.kubeletVersion, /^navarch-\d+\.\d+\.\d+/);
  assert.deepEqual(f.addresses, [{ type: "InternalIP", address: "127.0.0.1" }, { type: "Hostname", address: "n1" }]);
});

test("facts: flags override the runtime", () => {
  const f = nodeFacts({ ...settings, cpu: "8", memory: "16Gi", pods: "20", reservedCpu: "0", reservedMemory: "0" }, info);
  assert.deepEqual(f.capacity, { cpu: "8", memory: "16777216Ki", pods: "20" });
  assert.deepEqual(f.allocatable, f.capacity);
});

test("quantities and architectures", () => {
  assert.equal(formatCpu(2000), "2");
  assert.equal(formatCpu(1500), "1500m");
  assert.equal(formatMemory(1024 * 1024 + 1000), "1024Ki");
  assert.equal(goArch("aarch64"), "arm64");
  assert.equal(goArch("x86_64"), "amd64");
});

test("a new node, then only real changes are written, keeping other writers' fields", () => {
  const f = nodeFacts(settings, info);
  const created = desiredNode(undefined, f, "n1", now)!;
  assert.equal(created.metadata!.name, "n1");
  assert.deepEqual(created.spec!.taints, [{ key: "gpu", value: "", effect: "NoSchedule", timeAdded: "2025-01-01T00:00:00Z" }]);
  assert.equal(created.status!.capacity.cpu, "2");

  // The control plane added Ready and an unreachable taint, an operator a label.
  const stored = structuredClone(created);
  stored.metadata!.resourceVersion = "7";
  stored.metadata!.labels.extra = "kept";
  stored.spec!.taints.push({ key: "node.kubernetes.io/unreachable", value: "", effect: "NoExecute", timeAdded: "x" });
  stored.status!.conditions = [KINDS.Node.codec.fromPartial({ status: { conditions: [{ type: "Ready", status: "True" }] } }).status!.conditions[0]!];
  assert.equal(desiredNode(stored, f, "n1", now), undefined, "nothing of ours changed: no write");

  const bigger = nodeFacts({ ...settings, cpu: "4" }, info);
  const next = desiredNode(stored, bigger, "n1", now)!;
  assert.equal(next.status!.capacity.cpu, "4");
  assert.equal(next.metadata!.labels.extra, "kept");
  assert.equal(next.spec!.taints.length, 2);
  assert.equal(next.status!.conditions[0]!.type, "Ready");
  assert.equal(next.metadata!.resourceVersion, "7", "CAS on the revision read");
});
