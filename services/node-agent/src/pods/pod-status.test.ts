import { KINDS, type Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { canonicalStatus, computePodStatus, containerStatus, formatImageID, podPhase, type ContainerView, type Termination } from "./pod-status.js";

const T0 = Date.parse("2025-01-01T00:00:00Z");
const term = (exitCode: number, reason = exitCode === 0 ? "Completed" : "Error"): Termination => ({
  exitCode,
  reason,
  message: "",
  startedAt: T0,
  finishedAt: T0 + 5_000,
  containerId: "abc",
});
const waiting = (name = "a", reason = "ContainerCreating", last?: Termination): ContainerView => ({
  name, image: "img", imageID: "", containerId: "", state: { kind: "waiting", reason, message: "" }, lastTermination: last, restartCount: last ? 1 : 0,
});
const running = (name = "a"): ContainerView => ({
  name, image: "img", imageID: "sha256:1", containerId: "c1", state: { kind: "running", startedAt: T0 }, lastTermination: undefined, restartCount: 0,
});
const terminated = (name: string, exitCode: number): ContainerView => ({
  name, image: "img", imageID: "sha256:1", containerId: "c1", state: { kind: "terminated", termination: term(exitCode) }, lastTermination: undefined, restartCount: 0,
});

function pod(restartPolicy = "Always"): Pod {
  return KINDS.Pod.codec.fromPartial({
    metadata: { name: "web", namespace: "default", uid: "u1" },
    spec: { restartPolicy, containers: [{ name: "a", image: "img" }] },
  });
}

describe("pod phase", () => {
  test("kubelet's getPhase", () => {
    const cases: [string, string, ContainerView[], string][] = [
      ["nothing started", "Always", [waiting()], "Pending"],
      ["one running, one creating", "Always", [running("a"), waiting("b")], "Pending"],
      ["all running", "Always", [running("a"), running("b")], "Running"],
      ["crash looping counts as stopped", "Always", [waiting("a", "CrashLoopBackOff", term(1))], "Running"],
      ["one running, one in backoff", "Always", [running("a"), waiting("b", "CrashLoopBackOff", term(1))], "Running"],
      ["Always: everything exited 0 still restarts", "Always", [terminated("a", 0)], "Running"],
      ["Never: all 0", "Never", [terminated("a", 0), terminated("b", 0)], "Succeeded"],
      ["Never: one failed", "Never", [terminated("a", 0), terminated("b", 1)], "Failed"],
      ["Never: one still running", "Never", [terminated("a", 1), running("b")], "Running"],
      ["OnFailure: all 0", "OnFailure", [terminated("a", 0)], "Succeeded"],
      ["OnFailure: a failure is being restarted", "OnFailure", [terminated("a", 0), waiting("b", "CrashLoopBackOff", term(1))], "Running"],
      ["no containers", "Always", [], "Pending"],
    ];
    for (const [name, policy, views, want] of cases) assert.equal(podPhase(policy, views), want, name);
  });
});

describe("pod status", () => {
  test("a running pod: conditions, IPs, container statuses, qos", () => {
    const now = new Date(T0 + 10_000);
    const s = computePodStatus({ pod: pod(), containers: [running()], podIP: "172.17.0.5", hostIP: "127.0.0.1", startTime: T0, runtimeName: "docker", previous: undefined, now });
    assert.equal(s.phase, "Running");
    assert.equal(s.podIP, "172.17.0.5");
    assert.deepEqual(s.podIPs, [{ ip: "172.17.0.5" }]);
    assert.equal(s.hostIP, "127.0.0.1");
    assert.equal(s.startTime, "2025-01-01T00:00:00Z");
    assert.equal(s.qosClass, "BestEffort");
    assert.deepEqual(s.conditions.map((c) => [c.type, c.status]), [["Initialized", "True"], ["Ready", "True"], ["ContainersReady", "True"], ["PodScheduled", "True"]]);
    const cs = s.containerStatuses[0]!;
    assert.equal(cs.containerID, "docker://c1");
    assert.equal(cs.imageID, "docker://sha256:1");
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.deepEqual(cs.state, { running: { startedAt: "2025-01-01T00:00:00Z" } });
  });

  test("startTime stays what was reported (an adopting agent's sandbox time must not move it)", () => {
    const first = computePodStatus({ pod: pod(), containers: [running()], podIP: "ip", hostIP: "h", startTime: T0 + 1_500, runtimeName: "docker", previous: undefined, now: new Date(T0 + 2_000) });
    assert.equal(first.startTime, "2025-01-01T00:00:01Z");
    const later = computePodStatus({ pod: pod(), containers: [running()], podIP: "ip", hostIP: "h", startTime: T0 + 2_000, runtimeName: "docker", previous: first, now: new Date(T0 + 9_000) });
    assert.equal(later.startTime, "2025-01-01T00:00:01Z");
  });

  test("not ready: reason and message name the containers", () => {
    const s = computePodStatus({ pod: pod(), containers: [running("a"), waiting("b")], podIP: "", hostIP: "h", startTime: T0, runtimeName: "docker", previous: undefined, now: new Date(T0) });
    const ready = s.conditions.find((c) => c.type === "Ready")!;
    assert.equal(ready.status, "False");
    assert.equal(ready.reason, "ContainersNotReady");
    assert.equal(ready.message, "containers with unready status: [b]");
    assert.deepEqual(s.podIPs, []);
  });

  test("lastTransitionTime is kept while a condition holds and moves when it flips", () => {
    const base = { pod: pod(), podIP: "ip", hostIP: "h", startTime: T0, runtimeName: "docker" };
    const first = computePodStatus({ ...base, containers: [waiting()], previous: undefined, now: new Date(T0) });
    const second = computePodStatus({ ...base, containers: [waiting()], previous: first, now: new Date(T0 + 60_000) });
    assert.equal(canonicalStatus(first), canonicalStatus(second), "nothing changed, nothing to write");
    const third = computePodStatus({ ...base, containers: [running()], previous: second, now: new Date(T0 + 120_000) });
    const t = (s: typeof first, type: string) => s.conditions.find((c) => c.type === type)!.lastTransitionTime;
    assert.equal(t(third, "Ready"), "2025-01-01T00:02:00Z");
    assert.equal(t(third, "PodScheduled"), "2025-01-01T00:00:00Z");
    assert.notEqual(canonicalStatus(second), canonicalStatus(third));
  });

  test("completed pods: Ready False with PodCompleted", () => {
    const s = computePodStatus({ pod: pod("Never"), containers: [terminated("a", 0)], podIP: "ip", hostIP: "h", startTime: T0, runtimeName: "docker", previous: undefined, now: new Date(T0) });
    assert.equal(s.phase, "Succeeded");
    assert.equal(s.conditions.find((c) => c.type === "Ready")!.reason, "PodCompleted");
  });

  test("container states as Kubernetes JSON", () => {
    const crash: ContainerView = { ...waiting("a", "CrashLoopBackOff", term(137, "OOMKilled")), containerId: "c2", imageID: "sha256:9" };
    const json = KINDS.Pod.codec.toJSON(KINDS.Pod.codec.fromPartial({ status: { containerStatuses: [containerStatus(crash, "docker")] } })) as {
      status: { containerStatuses: Record<string, unknown>[] };
    };
    assert.deepEqual(json.status.containerStatuses[0], {
      name: "a",
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: {
        terminated: { exitCode: 137, reason: "OOMKilled", startedAt: "2025-01-01T00:00:00Z", finishedAt: "2025-01-01T00:00:05Z", containerID: "docker://abc" },
      },
      restartCount: 1,
      image: "img",
      imageID: "docker://sha256:9",
      containerID: "docker://c2",
      started: false,
    });
  });

  test("image IDs get a scheme once", () => {
    assert.equal(formatImageID("sha256:x"), "docker://sha256:x");
    assert.equal(formatImageID("docker-pullable://r/i@sha256:x"), "docker-pullable://r/i@sha256:x");
    assert.equal(formatImageID(""), "");
  });

  test("init containers: PodInitializing, Initialized, init ready once completed, Failed under Never", () => {
    const base = { pod: pod(), podIP: "ip", hostIP: "h", startTime: T0, runtimeName: "docker", previous: undefined, now: new Date(T0) };
    const initRunning = computePodStatus({ ...base, containers: [waiting("a")], initContainers: [{ ...running("init"), name: "init" }] });
    assert.equal(initRunning.phase, "Pending");
    assert.equal(initRunning.containerStatuses[0]!.state!.waiting!.reason, "PodInitializing");
    assert.equal(initRunning.initContainerStatuses[0]!.ready, false);
    const initialized = initRunning.conditions.find((c) => c.type === "Initialized")!;
    assert.deepEqual([initialized.status, initialized.reason, initialized.message], ["False", "ContainersNotInitialized", "containers with incomplete status: [init]"]);

    const done = computePodStatus({ ...base, containers: [running("a")], initContainers: [terminated("init", 0)] });
    assert.equal(done.phase, "Running");
    assert.equal(done.initContainerStatuses[0]!.ready, true);
    assert.equal(done.conditions.find((c) => c.type === "Initialized")!.status, "True");

    const failed = computePodStatus({ ...base, pod: pod("Never"), containers: [waiting("a")], initContainers: [terminated("init", 1)] });
    assert.equal(failed.phase, "Failed");
  });
});
