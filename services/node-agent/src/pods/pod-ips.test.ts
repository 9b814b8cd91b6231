import { KINDS } from "@navarch/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { PodIPs } from "./pod-ips.js";
import { ownNetwork, runsWithoutSandbox } from "./sandbox.js";

test("IPs: a pod keeps its IP; taken, listed and reserved addresses are skipped; a released IP comes back last", () => {
  const ips = new PodIPs("10.244.16.0/30");
  // A /30 has one pod address: .0 network, .1 skipped (gateway by habit), .3 broadcast.
  assert.equal(ips.allocate("u1"), "10.244.16.2");
  assert.equal(ips.allocate("u1"), "10.244.16.2", "the same pod, the same IP");
  assert.equal(ips.allocate("u2"), undefined, "full: the caller falls back to a sandbox");
  ips.release("u1");
  assert.equal(ips.allocate("u2"), "10.244.16.2");

  const big = new PodIPs("10.244.17.0/24");
  big.hold("adopted", "10.244.17.2");
  big.observe(["10.244.17.3"]);
  assert.equal(big.allocate("a"), "10.244.17.4", "held by an adopted pod and on a listed container: not free");
  assert.equal(big.allocate("b"), "10.244.17.5");
  big.release("a");
  assert.equal(big.allocate("c"), "10.244.17.6", "a freed address is not the next one handed out");
  big.observe([]);
  big.clear();
  assert.equal(big.ipOf("b"), undefined);
});

test("which pods run without a sandbox: exactly one container and no init containers", () => {
  const pod = (containers: number, inits: number) =>
    KINDS.Pod.codec.fromPartial({
      metadata: { name: "p", namespace: "default", uid: "u" },
      spec: {
        containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: "img" })),
        initContainers: Array.from({ length: inits }, (_, i) => ({ name: `i${i}`, image: "img" })),
      },
    });
  assert.equal(runsWithoutSandbox(pod(1, 0)), true);
  assert.equal(runsWithoutSandbox(pod(2, 0)), false);
  assert.equal(runsWithoutSandbox(pod(1, 1)), false);
  assert.equal(runsWithoutSandbox(pod(0, 0)), false);
});

test("the own network of a pod's only container: the sandbox's hostname and hostPorts, the DNS, the IP", () => {
  const pod = KINDS.Pod.codec.fromPartial({
    metadata: { name: "web.sub", namespace: "default", uid: "u" },
    spec: { containers: [{ name: "web", image: "img", ports: [{ containerPort: 8080, hostPort: 18080 }, { containerPort: 9090, protocol: "UDP" }] }] },
  });
  const dns = { servers: ["10.244.0.1"], searches: ["default.svc.cluster.local"], options: ["ndots:5"] };
  assert.deepEqual(ownNetwork(pod, "n1", "10.244.16.9", dns), {
    ip: "10.244.16.9",
    hostname: "web",
    ports: [{ containerPort: 8080, hostPort: 18080, protocol: "TCP", hostIP: "127.0.0.1" }],
    dns,
  });
  assert.equal(ownNetwork(pod, "n1", "10.244.16.9", undefined).dns, undefined);
});
