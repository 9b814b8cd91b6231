import { KINDS, type Node } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "@navarch/controller";
import { FakeRuntime, type ContainerSpec } from "@navarch/runtime";
import { acknowledged, fenceStep, resolveFenceSeconds, stopNodeContainers } from "./fence.js";

test("fence when the lease has not been renewed for fenceMs; unfence once it is again", () => {
  const cases: [boolean, number, number, number, string, boolean?][] = [
    [false, 1_000, 4_000, 5_000, "none"],
    [false, 1_000, 6_001, 5_000, "fence"],
    [true, 1_000, 9_000, 5_000, "none"],
    [true, 8_500, 9_000, 5_000, "unfence"],
    [false, 0, 1e12, 0, "none"],
    // Stopping the pods failed part way: try again while the lease is stale.
    [true, 1_000, 9_000, 5_000, "fence", true],
    [true, 8_500, 9_000, 5_000, "unfence", true],
  ];
  for (const [fenced, last, now, fenceMs, want, incomplete] of cases) {
    assert.equal(fenceStep(fenced, last, now, fenceMs, incomplete), want, JSON.stringify({ fenced, last, now, fenceMs, incomplete }));
  }
});

test("the fence time: 3/4 of the lease by default, between the heartbeat and the lease duration", () => {
  assert.equal(resolveFenceSeconds({ fenceSeconds: -1, heartbeatSeconds: 1, leaseDurationSeconds: 4 }), 3);
  assert.equal(resolveFenceSeconds({ fenceSeconds: -1, heartbeatSeconds: 10, leaseDurationSeconds: 40 }), 30, "hollow nodes' long heartbeats");
  assert.equal(resolveFenceSeconds({ fenceSeconds: 2, heartbeatSeconds: 1, leaseDurationSeconds: 4 }), 2);
  assert.equal(resolveFenceSeconds({ fenceSeconds: 0, heartbeatSeconds: 1, leaseDurationSeconds: 4 }), 0, "0: never");
  assert.throws(() => resolveFenceSeconds({ fenceSeconds: 4, heartbeatSeconds: 1, leaseDurationSeconds: 4 }), /must be shorter than NAVARCH_NODE_LEASE_DURATION_SECONDS \(4\)/);
  assert.throws(() => resolveFenceSeconds({ fenceSeconds: 1, heartbeatSeconds: 1, leaseDurationSeconds: 4 }), /must be longer than NAVARCH_NODE_HEARTBEAT_SECONDS \(1\)/);
  assert.throws(() => resolveFenceSeconds({ fenceSeconds: -1, heartbeatSeconds: 5, leaseDurationSeconds: 4 }), /must be longer than NAVARCH_NODE_HEARTBEAT_SECONDS/);
});

test("unfence only once the control plane counts the node Ready and not unreachable", () => {
  const node = (ready: string, taints: string[] = []): Node =>
    KINDS.Node.codec.fromPartial({
      metadata: { name: "n1" },
      spec: { taints: taints.map((key) => ({ key, effect: "NoExecute" })) },
      status: { conditions: [{ type: "Ready", status: ready }] },
    });
  assert.equal(acknowledged(node("True")), true);
  assert.equal(acknowledged(node("True", ["dedicated"])), true);
  assert.equal(acknowledged(node("Unknown", ["node.kubernetes.io/unreachable"])), false);
  assert.equal(acknowledged(node("True", ["node.kubernetes.io/unreachable"])), false, "the taint is not removed yet");
  assert.equal(acknowledged(node("Unknown")), false);
  assert.equal(acknowledged(undefined), false, "deleted Node");
  assert.equal(acknowledged(KINDS.Node.codec.fromPartial({ metadata: { name: "n1" }, status: {} })), true, "no lifecycle controller judges it");
});

test("fencing stops every running container of this node at once (SIGKILL), keeps them, touches no other node's", async () => {
  const runtime = new FakeRuntime({ script: () => ({ ignoresSigterm: true }) });
  const start = async (node: string, uid: string) => {
    const pod = { namespace: "default", name: uid, uid, node };
    const sandbox = await runtime.runSandbox({ pod, hostname: uid, ports: [] });
    const spec: ContainerSpec = {
      pod, sandboxId: sandbox.id, name: "app", image: "i", command: [], args: [], env: {}, workingDir: "",
      cpuLimitMillis: 0, memoryLimitBytes: 0, cpuRequestMillis: 0, mounts: [], attempt: 0, tty: false,
    };
    await runtime.startContainer(await runtime.createContainer(spec));
  };
  await start("n1", "a");
  await start("n1", "b");
  await start("n2", "c");
  assert.equal(await stopNodeContainers(runtime, "n1", silentLogger), 2);
  const mine = await runtime.listContainers("n1");
  assert.equal(mine.length, 4, "stopped, not removed");
  assert.ok(mine.every((c) => c.state === "exited"));
  assert.deepEqual(mine.filter((c) => c.role === "app").map((c) => c.exitCode), [137, 137], "no grace period: SIGKILL");
  assert.ok((await runtime.listContainers("n2")).every((c) => c.state === "running"), "another node's containers");
  assert.equal(await stopNodeContainers(runtime, "n1", silentLogger), 0, "again: nothing left to stop");
});
