// get and describe of DaemonSets and Jobs, as kubectl prints them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, type DaemonSet, type Job, type KindInfo, type Pod } from "@navarch/api";
import { jobCompletions, jobDuration, jobStatus, tableHeaders, tableRow } from "./columns.js";
import { describeObject } from "./describe.js";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const DS = KINDS.DaemonSet as unknown as KindInfo;
const JOB = KINDS.Job as unknown as KindInfo;

const daemonSet = KINDS.DaemonSet.codec.fromPartial({
  metadata: { name: "fluentd", namespace: "kube-logging", uid: "ds-1", creationTimestamp: "2024-05-01T11:00:00Z" },
  spec: {
    selector: { matchLabels: { name: "fluentd" } },
    template: { metadata: { labels: { name: "fluentd" } }, spec: { nodeSelector: { "kubernetes.io/os": "linux" }, containers: [{ name: "fluentd", image: "fluentd:v1" }] } },
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "1", maxSurge: "0" } },
  },
  status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 1, numberAvailable: 2, numberUnavailable: 1 },
}) as DaemonSet;

function job(status: object, spec: object = {}, deleting = false): Job {
  return KINDS.Job.codec.fromPartial({
    metadata: { name: "pi", namespace: "default", creationTimestamp: "2024-05-01T11:58:00Z", deletionTimestamp: deleting ? "2024-05-01T11:59:00Z" : "" },
    spec: { completions: 3, parallelism: 2, backoffLimit: 4, completionMode: "NonIndexed", selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u" } }, ...spec },
    status,
  }) as Job;
}

describe("get daemonsets", () => {
  it("NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE", () => {
    assert.deepEqual(tableHeaders(DS, {}), ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"]);
    assert.deepEqual(tableRow(DS, daemonSet, {}, NOW), ["fluentd", "3", "3", "2", "1", "2", "kubernetes.io/os=linux", "60m"]);
  });
  it("-o wide adds containers, images and the selector; no node selector is <none>", () => {
    assert.deepEqual(tableRow(DS, daemonSet, { wide: true }, NOW).slice(-3), ["fluentd", "fluentd:v1", "name=fluentd"]);
    const anywhere = KINDS.DaemonSet.codec.fromPartial({ ...daemonSet, spec: { ...daemonSet.spec, template: { spec: { containers: [] } } } }) as DaemonSet;
    assert.equal(tableRow(DS, anywhere, {}, NOW)[6], "<none>");
  });
});

describe("get jobs", () => {
  it("NAME STATUS COMPLETIONS DURATION AGE", () => {
    assert.deepEqual(tableHeaders(JOB, {}), ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    const running = job({ startTime: "2024-05-01T11:58:30Z", succeeded: 1, active: 2 });
    assert.deepEqual(tableRow(JOB, running, {}, NOW), ["pi", "Running", "1/3", "90s", "2m"]);
  });
  const cases: { name: string; job: Job; status: string; completions: string; duration: string }[] = [
    { name: "not started", job: job({}), status: "Running", completions: "0/3", duration: "" },
    {
      name: "complete: duration until completionTime",
      job: job({ startTime: "2024-05-01T11:58:00Z", completionTime: "2024-05-01T11:58:45Z", succeeded: 3, conditions: [{ type: "Complete", status: "True" }] }),
      status: "Complete",
      completions: "3/3",
      duration: "45s",
    },
    { name: "failed", job: job({ startTime: "2024-05-01T11:59:00Z", failed: 5, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] }), status: "Failed", completions: "0/3", duration: "60s" },
    { name: "being deleted", job: job({}, {}, true), status: "Terminating", completions: "0/3", duration: "" },
    { name: "suspended", job: job({ conditions: [{ type: "Suspended", status: "True" }] }), status: "Suspended", completions: "0/3", duration: "" },
    { name: "a work queue of 4 pods", job: job({ succeeded: 1 }, { completions: undefined, parallelism: 4 }), status: "Running", completions: "1/1 of 4", duration: "" },
    { name: "a work queue of 1 pod", job: job({}, { completions: undefined, parallelism: 1 }), status: "Running", completions: "0/1", duration: "" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(jobStatus(c.job), c.status);
      assert.equal(jobCompletions(c.job), c.completions);
      assert.equal(jobDuration(c.job, NOW), c.duration);
    });
  }
});

describe("describe", () => {
  it("a daemon set: node counts, pods status, strategy and template", () => {
    const pods = ["Running", "Running", "Pending"].map((phase) => KINDS.Pod.codec.fromPartial({ status: { phase } }) as Pod);
    const text = describeObject(DS, daemonSet, { events: [], pods }, NOW);
    for (const line of [
      /^Selector: +name=fluentd$/m,
      /^Node-Selector: +kubernetes\.io\/os=linux$/m,
      /^Desired Number of Nodes Scheduled: +3$/m,
      /^Number of Nodes Scheduled with Up-to-date Pods: +1$/m,
      /^Number of Nodes Scheduled with Available Pods: +2$/m,
      /^Number of Nodes Misscheduled: +0$/m,
      /^Pods Status: +2 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m,
      /^Update Strategy: +RollingUpdate$/m,
      /^Pod Template:$/m,
      /^ +Image: +fluentd:v1$/m,
      /^Events: +<none>$/m,
    ]) {
      assert.match(text, line);
    }
  });
  it("a job: parallelism, completions, times, pods statuses and conditions", () => {
    const j = job({
      startTime: "2024-05-01T11:58:00Z",
      completionTime: "2024-05-01T11:59:05Z",
      succeeded: 3,
      failed: 1,
      conditions: [{ type: "Complete", status: "True", reason: "CompletionsReached" }],
    });
    const text = describeObject(JOB, j, {}, NOW);
    for (const line of [
      /^Parallelism: +2$/m,
      /^Completions: +3$/m,
      /^Completion Mode: +NonIndexed$/m,
      /^Backoff Limit: +4$/m,
      /^Duration: +65s$/m,
      /^Pods Statuses: +0 Active \(0 Ready\) \/ 3 Succeeded \/ 1 Failed$/m,
      /^ +Complete +True +CompletionsReached$/m,
    ]) {
      assert.match(text, line);
    }
  });
});
