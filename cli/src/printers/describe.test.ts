import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, type Event, type KindInfo, type KubeObject } from "@navarch/api";
import { describeObject } from "./describe.js";
import { tabwrite } from "./tabwriter.js";

const NOW = Date.parse("2024-05-01T12:00:00Z");

describe("tabwrite (Go's text/tabwriter as kubectl describe uses it)", () => {
  it("aligns consecutive lines that share a column; a line without tabs ends the block", () => {
    assert.equal(
      tabwrite(["Name:\tx", "Namespace:\tdefault", "Data", "a:\t1", "long-key:\t2"]),
      "Name:       x\nNamespace:  default\nData\na:         1\nlong-key:  2\n",
    );
  });
  it("aligns nested columns per block", () => {
    assert.equal(tabwrite(["  Type\tStatus", "  Ready\tTrue"]), "  Type   Status\n  Ready  True\n");
  });
});

describe("describeObject", () => {
  const cmInfo = KINDS.ConfigMap as unknown as KindInfo;
  const cm = cmInfo.codec.fromPartial({
    metadata: { name: "app", namespace: "default", labels: { b: "2", a: "1" }, creationTimestamp: "2024-05-01T11:00:00Z" },
    data: { "x.conf": "k=v\nk2=v2" },
  }) as KubeObject;

  it("prints a config map with its events", () => {
    const ev = KINDS.Event.codec.fromPartial({
      type: "Warning",
      reason: "Invalid",
      message: "bad key",
      count: 3,
      firstTimestamp: "2024-05-01T11:50:00Z",
      lastTimestamp: "2024-05-01T11:59:00Z",
      source: { component: "checker" },
    }) as Event;
    const text = describeObject(cmInfo, cm, { events: [ev] }, NOW);
    const lines = text.split("\n");
    assert.deepEqual(lines.slice(0, 4), ["Name:               app", "Namespace:          default", "Labels:             a=1", "                    b=2"]);
    assert.match(lines[5]!, /^CreationTimestamp: {2}Wed, 01 May 2024 \d\d:00:00 [+-]\d{4}$/);
    assert.match(text, /\nData\n====\nx\.conf:\n----\nk=v\nk2=v2\n\n\nBinaryData\n====\n\n/);
    assert.match(text, /\nEvents:\n {2}Type {5}Reason {3}Age {16}From {5}Message\n {2}---- {5}------ {3}---- {15}---- {5}-------\n {2}Warning {2}Invalid {2}60s \(x3 over 10m\) {2}checker {2}bad key\n$/);
  });

  it("leaves out the manifest apply recorded, as kubectl does, and keeps the other annotations", () => {
    const applied = cmInfo.codec.fromPartial({
      metadata: { name: "app", namespace: "default", annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"secret":"x"}}\n', note: "n" } },
    }) as KubeObject;
    const text = describeObject(cmInfo, applied, { events: [] }, NOW);
    assert.match(text, /\nAnnotations: {8}note: n\n/);
    assert.doesNotMatch(text, /last-applied/);
  });

  it("prints Events: <none> when there are none, and secret sizes, not values", () => {
    const secretInfo = KINDS.Secret as unknown as KindInfo;
    const s = secretInfo.codec.fromPartial({ metadata: { name: "s", namespace: "default" }, type: "Opaque", data: { password: Buffer.from("hunter2") } }) as KubeObject;
    const text = describeObject(secretInfo, s, { events: [] }, NOW);
    assert.match(text, /\nType: {2}Opaque\n\nData\n====\npassword: {2}7 bytes\n\nEvents: {2}<none>\n$/);
    assert.doesNotMatch(text, /hunter2/);
  });

  it("prints a pod's containers, status and conditions", () => {
    const podInfo = KINDS.Pod as unknown as KindInfo;
    const pod = podInfo.codec.fromPartial({
      metadata: { name: "web-1", namespace: "default" },
      spec: { nodeName: "n1", containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 80, protocol: "TCP" }] }] },
      status: {
        phase: "Running",
        hostIP: "10.0.0.1",
        podIP: "10.1.0.5",
        podIPs: [{ ip: "10.1.0.5" }],
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [{ name: "web", ready: true, restartCount: 1, image: "nginx", imageID: "sha256:abc", containerID: "docker://c1", state: { running: { startedAt: "2024-05-01T11:00:00Z" } } }],
      },
    }) as KubeObject;
    const text = describeObject(podInfo, pod, {}, NOW);
    assert.match(text, /\nNode: +n1\/10\.0\.0\.1\n/);
    assert.match(text, /\nStatus: +Running\n/);
    assert.match(text, /\nContainers:\n {2}web:\n {4}Container ID: +docker:\/\/c1\n {4}Image: +nginx\n/);
    assert.match(text, /\n {4}State: +Running\n {6}Started: +\w{3}, /);
    assert.match(text, /\n {4}Restart Count: +1\n/);
    assert.match(text, /\nConditions:\n {2}Type +Status\n {2}Ready +True\nVolumes: +<none>\n/);
    assert.doesNotMatch(text, /Events/);
    assert.ok(text.split("\n").every((l) => l === l.trimEnd()), "no trailing spaces");
  });
});
