// Probe specs as the agent runs them: defaults for what a Pod written without the gateway lacks,
// named ports, thresholds, the grace of a kill.
import type { Container, Pod, Probe } from "@navarch/api";
import { KINDS } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { containerProbes, hasProbes, probeSpec } from "./spec.js";

function container(over: Partial<Container> = {}): Container {
  return KINDS.Pod.codec.fromPartial({
    spec: { containers: [{ name: "web", image: "demo:1", ports: [{ name: "http", containerPort: 8080 }], ...over }] },
  }).spec!.containers[0]!;
}

function probe(p: Partial<Probe>): Probe {
  return KINDS.Pod.codec.fromPartial({ spec: { containers: [{ name: "x", livenessProbe: p }] } }).spec!.containers[0]!.livenessProbe!;
}

describe("probe specs", () => {
  test("Kubernetes' defaults when the spec leaves them out (or zero)", () => {
    const s = probeSpec("readiness", probe({ tcpSocket: { port: "8080", host: "" }, periodSeconds: 0 }), container(), 30);
    assert.deepEqual(
      [s.initialDelayMs, s.periodMs, s.timeoutMs, s.successThreshold, s.failureThreshold, s.killGraceSeconds],
      [0, 10_000, 1_000, 1, 3, 30],
    );
    assert.deepEqual(s.action, { type: "tcp", host: "", port: 8080 });
  });

  test("seconds become ms; readiness keeps its successThreshold, liveness and startup need one success", () => {
    const p = probe({ exec: { command: ["cat", "/tmp/ready"] }, initialDelaySeconds: 2, periodSeconds: 3, timeoutSeconds: 4, successThreshold: 2, failureThreshold: 5 });
    const r = probeSpec("readiness", p, container(), 30);
    assert.deepEqual([r.initialDelayMs, r.periodMs, r.timeoutMs, r.successThreshold, r.failureThreshold], [2_000, 3_000, 4_000, 2, 5]);
    assert.equal(probeSpec("liveness", p, container(), 30).successThreshold, 1);
    assert.equal(probeSpec("startup", p, container(), 30).successThreshold, 1);
    assert.deepEqual(r.action, { type: "exec", command: ["cat", "/tmp/ready"] });
  });

  test("httpGet: a named port resolves to the container's port; scheme, path and headers", () => {
    const s = probeSpec(
      "liveness",
      probe({ httpGet: { port: "http", path: "healthz", scheme: "HTTPS", host: "", httpHeaders: [{ name: "X-Probe", value: "1" }] } }),
      container(),
      30,
    );
    assert.deepEqual(s.action, { type: "http", scheme: "https", host: "", port: 8080, path: "/healthz", headers: [["X-Probe", "1"]] });
  });

  test("a port name the container does not have fails every attempt with a reason", () => {
    const s = probeSpec("readiness", probe({ tcpSocket: { port: "metrics", host: "" } }), container(), 30);
    assert.deepEqual(s.action, { type: "invalid", message: 'port "metrics" is not a port of container web' });
  });

  test("the kill grace: the probe's own terminationGracePeriodSeconds, else the pod's, else 30 s", () => {
    const withOwn = container({ livenessProbe: probe({ exec: { command: ["true"] }, terminationGracePeriodSeconds: 3 }) });
    const pod = (grace?: number) => KINDS.Pod.codec.fromPartial({ spec: { terminationGracePeriodSeconds: grace } }) as Pod;
    assert.equal(containerProbes(withOwn, pod(10)).liveness!.killGraceSeconds, 3);
    const plain = container({ livenessProbe: probe({ exec: { command: ["true"] } }) });
    assert.equal(containerProbes(plain, pod(10)).liveness!.killGraceSeconds, 10);
    assert.equal(containerProbes(plain, pod()).liveness!.killGraceSeconds, 30);
  });

  test("a container without probes has none to run", () => {
    const none = containerProbes(container(), KINDS.Pod.codec.fromPartial({}) as Pod);
    assert.equal(hasProbes(none), false);
    const some = containerProbes(container({ readinessProbe: probe({ exec: { command: ["true"] } }) }), KINDS.Pod.codec.fromPartial({}) as Pod);
    assert.equal(hasProbes(some), true);
    assert.equal(some.liveness, undefined);
  });
});
