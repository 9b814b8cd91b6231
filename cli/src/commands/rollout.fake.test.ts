// navctl scale, set image and rollout against the in-memory API server (testing/fake-server.ts):
// the built CLI as a child process, its output and exit codes. The controllers behind these
// commands are exercised in services/replication and in e2e/src/testcontainers/deployments.test.ts.
import { KINDS, type Deployment, type KindInfo, type ReplicaSet } from "@navarch/api";
import { writeClientConfig } from "@navarch/config";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startFakeServer, type FakeServer } from "../testing/fake-server.js";
import { NAVCTL, runCli } from "../testing/run-cli.js";
import { revisionToRollBackTo, rolloutState } from "./rollout.js";

const DEPLOYMENT = KINDS.Deployment as unknown as KindInfo;
const REPLICA_SET = KINDS.ReplicaSet as unknown as KindInfo;

let server: FakeServer;
let home: string;
const navctl = (args: string[]) => runCli(args, { env: { NAVARCH_HOME: home } });

before(async () => {
  server = await startFakeServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), "navctl-rollout-"));
  writeClientConfig({ server: server.address, token: server.token }, path.join(home, "config"));
});

after(async () => {
  await server.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

function template(image: string, hash?: string) {
  return {
    metadata: { labels: { app: "web", ...(hash ? { "pod-template-hash": hash } : {}) } },
    spec: { containers: [{ name: "app", image }, { name: "sidecar", image: "navarch/busybox:1" }] },
  };
}

function deployment(name: string, o: { image?: string; replicas?: number; generation?: number; status?: object; paused?: boolean; annotations?: Record<string, string> } = {}): Deployment {
  return server.seed(DEPLOYMENT, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default", generation: o.generation ?? 1, annotations: o.annotations ?? {} },
    spec: { replicas: o.replicas ?? 3, selector: { matchLabels: { app: "web" } }, template: template(o.image ?? "navarch/demo:2"), paused: o.paused ?? false },
    status: o.status ?? {},
  } as never) as Deployment;
}

function replicaSet(owner: Deployment, hash: string, image: string, revision: number, extra: Record<string, string> = {}): ReplicaSet {
  return server.seed(REPLICA_SET, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${owner.metadata!.name}-${hash}`,
      namespace: "default",
      labels: { app: "web", "pod-template-hash": hash },
      annotations: { "deployment.kubernetes.io/revision": String(revision), ...extra },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: owner.metadata!.name, uid: owner.metadata!.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas: 0, selector: { matchLabels: { app: "web", "pod-template-hash": hash } }, template: template(image, hash) },
    status: { replicas: 0 },
  } as never) as ReplicaSet;
}

const stored = (name: string) => server.objects.get(`Deployment/default/${name}`)!.object as Deployment;

describe("rollout status lines (kubectl's DeploymentStatusViewer)", () => {
  const d = (generation: number, observed: number, replicas: number, s: Record<string, number>, reason = "ReplicaSetUpdated") =>
    KINDS.Deployment.codec.fromPartial({
      metadata: { name: "web", generation },
      spec: { replicas },
      status: { observedGeneration: observed, ...s, conditions: [{ type: "Progressing", status: reason === "ProgressDeadlineExceeded" ? "False" : "True", reason }] },
    });
  const cases: [string, Deployment, string, boolean][] = [
    ["spec not observed yet", d(2, 1, 5, {}), "Waiting for deployment spec update to be observed...", false],
    ["updating", d(2, 2, 5, { updatedReplicas: 2, replicas: 6 }), 'Waiting for deployment "web" rollout to finish: 2 out of 5 new replicas have been updated...', false],
    ["old pods left", d(2, 2, 5, { updatedReplicas: 5, replicas: 7 }), 'Waiting for deployment "web" rollout to finish: 2 old replicas are pending termination...', false],
    ["not available yet", d(2, 2, 5, { updatedReplicas: 5, replicas: 5, availableReplicas: 2 }), 'Waiting for deployment "web" rollout to finish: 2 of 5 updated replicas are available...', false],
    ["done", d(2, 2, 5, { updatedReplicas: 5, replicas: 5, availableReplicas: 5 }), 'deployment "web" successfully rolled out', true],
  ];
  for (const [name, dep, message, done] of cases) {
    it(name, () => assert.deepEqual(rolloutState(dep), { message, done }));
  }
  it("a progress deadline exceeded is an error", () => {
    assert.deepEqual(rolloutState(d(2, 2, 5, { updatedReplicas: 1 }, "ProgressDeadlineExceeded")), {
      message: "",
      done: false,
      error: 'deployment "web" exceeded its progress deadline',
    });
  });
});

describe("navctl scale and set image", () => {
  it("scales a deployment, conditionally too", async () => {
    deployment("scaled", { replicas: 3 });
    let r = await navctl(["scale", "deployment/scaled", "--replicas", "5"]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "deployment.apps/scaled scaled\n", ""]);
    assert.equal(stored("scaled").spec!.replicas, 5);
    r = await navctl(["scale", "deploy", "scaled", "--replicas=1", "--current-replicas=3"]);
    assert.deepEqual([r.code, r.stderr], [1, "error: Expected replicas to be 3, was 5\n"]);
    assert.equal(stored("scaled").spec!.replicas, 5);
    r = await navctl(["scale", "configmap/x", "--replicas=1"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /scale is not supported for configmaps/);
  });

  it("sets the image of one container, of several, or of all", async () => {
    deployment("img");
    let r = await navctl(["set", "image", "deployment/img", "app=navarch/demo:3"]);
    assert.deepEqual([r.code, r.stdout], [0, "deployment.apps/img image updated\n"]);
    assert.deepEqual(stored("img").spec!.template!.spec!.containers.map((c) => c.image), ["navarch/demo:3", "navarch/busybox:1"]);
    r = await navctl(["set", "image", "deployment/img", "*=navarch/demo:4"]);
    assert.deepEqual(stored("img").spec!.template!.spec!.containers.map((c) => c.image), ["navarch/demo:4", "navarch/demo:4"]);
    r = await navctl(["set", "image", "deployment/img", "nope=x:1"]);
    assert.deepEqual([r.code, r.stderr], [1, 'error: unable to find container named "nope"\n']);
  });
});

describe("navctl rollout", () => {
  it("status follows the deployment until it is rolled out", async () => {
    deployment("live", { generation: 2, status: { observedGeneration: 1 } });
    const child = spawn(process.execPath, [NAVCTL, "rollout", "status", "deployment/live", "--timeout", "20s"], {
      env: { ...process.env, NAVARCH_HOME: home, NAVARCH_SERVER: "", NAVARCH_TOKEN: "" },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const lines = () => out.split("\n").filter(Boolean).length;
    const until = async (n: number) => {
      for (let i = 0; lines() < n && i < 300; i++) await new Promise((r) => setTimeout(r, 50));
    };
    await until(1);
    deployment("live", { generation: 2, status: { observedGeneration: 2, replicas: 4, updatedReplicas: 1 } });
    await until(2);
    deployment("live", { generation: 2, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 } });
    await until(3);
    deployment("live", { generation: 2, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } });
    assert.equal(await exited, 0, err);
    assert.equal(
      out,
      [
        "Waiting for deployment spec update to be observed...",
        'Waiting for deployment "live" rollout to finish: 1 out of 3 new replicas have been updated...',
        'Waiting for deployment "live" rollout to finish: 2 of 3 updated replicas are available...',
        'deployment "live" successfully rolled out',
        "",
      ].join("\n"),
    );
  });

  it("status exits non-zero on ProgressDeadlineExceeded and on --timeout", async () => {
    deployment("stuck", {
      status: { observedGeneration: 1, replicas: 4, updatedReplicas: 1, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] },
    });
    let r = await navctl(["rollout", "status", "deployment/stuck"]);
    assert.deepEqual([r.code, r.stderr], [1, 'error: deployment "stuck" exceeded its progress deadline\n']);
    deployment("slow", { status: { observedGeneration: 1, replicas: 4, updatedReplicas: 1 } });
    r = await navctl(["rollout", "status", "deployment/slow", "--timeout=1s"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'Waiting for deployment "slow" rollout to finish: 1 out of 3 new replicas have been updated...\n');
    assert.equal(r.stderr, "error: timed out waiting for the condition\n");
  });

  it("history lists revisions with their change cause, and one revision's template", async () => {
    const d = deployment("hist", { image: "navarch/demo:2" });
    replicaSet(d, "aaa", "navarch/demo:1", 1);
    replicaSet(d, "bbb", "navarch/demo:2", 2, { "kubernetes.io/change-cause": "navctl set image app=navarch/demo:2" });
    let r = await navctl(["rollout", "history", "deployment/hist"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/hist \nREVISION  CHANGE-CAUSE\n1         <none>\n2         navctl set image app=navarch/demo:2\n\n");
    r = await navctl(["rollout", "history", "deployment/hist", "--revision", "1"]);
    assert.match(r.stdout, /^deployment\.apps\/hist with revision #1\nPod Template:\n/);
    assert.match(r.stdout, /Image:\s+navarch\/demo:1/);
    r = await navctl(["rollout", "history", "deployment/hist", "--revision", "9"]);
    assert.equal(r.code, 1);
  });

  it("undo puts the previous revision's template back (without its hash label); again to a given revision", async () => {
    const d = deployment("undo", { image: "navarch/demo:2", annotations: { "deployment.kubernetes.io/revision": "2" } });
    replicaSet(d, "aaa", "navarch/demo:1", 1, { "kubernetes.io/change-cause": "first" });
    replicaSet(d, "bbb", "navarch/demo:2", 2);
    let r = await navctl(["rollout", "undo", "deployment/undo"]);
    assert.deepEqual([r.code, r.stdout], [0, "deployment.apps/undo rolled back\n"]);
    const back = stored("undo");
    assert.equal(back.spec!.template!.spec!.containers[0]!.image, "navarch/demo:1");
    assert.deepEqual(back.spec!.template!.metadata!.labels, { app: "web" });
    assert.equal(back.metadata!.annotations["kubernetes.io/change-cause"], "first");
    assert.equal(back.metadata!.annotations["deployment.kubernetes.io/revision"], "2", "the controller's revision stays");
    r = await navctl(["rollout", "undo", "deployment/undo", "--to-revision=1"]);
    assert.equal(r.stdout, "deployment.apps/undo skipped rollback (current template already matches revision 1)\n");
    r = await navctl(["rollout", "undo", "deployment/undo", "--to-revision=7"]);
    assert.deepEqual([r.code, r.stderr], [1, "error: unable to find specified revision 7 in history\n"]);
  });

  it("the revision before the newest is the default undo target", () => {
    const rsAt = (rev: number) => KINDS.ReplicaSet.codec.fromPartial({ metadata: { name: `r${rev}`, annotations: { "deployment.kubernetes.io/revision": String(rev) } } });
    assert.equal(revisionToRollBackTo([rsAt(3), rsAt(5), rsAt(4)], 0, "web").metadata!.name, "r4");
    assert.throws(() => revisionToRollBackTo([rsAt(1)], 0, "web"), /no rollout history found for deployment "web"/);
  });

  it("pause, resume and restart", async () => {
    deployment("pr");
    let r = await navctl(["rollout", "pause", "deployment/pr"]);
    assert.deepEqual([r.code, r.stdout], [0, "deployment.apps/pr paused\n"]);
    assert.equal(stored("pr").spec!.paused, true);
    r = await navctl(["rollout", "pause", "deployment/pr"]);
    assert.deepEqual([r.code, r.stderr], [1, 'error: deployments.apps "pr" is already paused\n']);
    r = await navctl(["rollout", "restart", "deployment/pr"]);
    assert.equal(r.code, 1);
    r = await navctl(["rollout", "undo", "deployment/pr"]);
    assert.match(r.stderr, /you cannot rollback a paused deployment/);
    r = await navctl(["rollout", "resume", "deployment/pr"]);
    assert.deepEqual([r.code, r.stdout], [0, "deployment.apps/pr resumed\n"]);
    assert.equal(stored("pr").spec!.paused, false);
    r = await navctl(["rollout", "restart", "deployment/pr"]);
    assert.deepEqual([r.code, r.stdout], [0, "deployment.apps/pr restarted\n"]);
    assert.match(stored("pr").spec!.template!.metadata!.annotations["kubectl.kubernetes.io/restartedAt"] ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("describe deployment names the old and new replica sets", async () => {
    const d = deployment("desc", { annotations: { "deployment.kubernetes.io/revision": "2" } });
    replicaSet(d, "aaa", "navarch/demo:1", 1);
    const r = await navctl(["describe", "deployment", "desc"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /StrategyType:\s+RollingUpdate/);
    assert.match(r.stdout, /OldReplicaSets:\s+<none>\n/);
    assert.match(r.stdout, /NewReplicaSet:\s+<none>\n/);
    server.seed(REPLICA_SET, { ...replicaSet(d, "bbb", "navarch/demo:2", 2), spec: { replicas: 3, selector: { matchLabels: { app: "web", "pod-template-hash": "bbb" } }, template: template("navarch/demo:2", "bbb") }, status: { replicas: 3 } } as never);
    const again = await navctl(["describe", "deployment", "desc"]);
    assert.match(again.stdout, /NewReplicaSet:\s+desc-bbb \(3\/3 replicas created\)/);

    // describe replicaset counts its pods by phase, as kubectl's Pods Status.
    const rs = server.objects.get("ReplicaSet/default/desc-bbb")!.object as ReplicaSet;
    const POD = KINDS.Pod as unknown as KindInfo;
    for (const [name, phase] of [["desc-bbb-a", "Running"], ["desc-bbb-b", "Running"], ["desc-bbb-c", "Pending"]] as const) {
      server.seed(POD, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default", labels: { app: "web", "pod-template-hash": "bbb" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "desc-bbb", uid: rs.metadata!.uid, controller: true }] },
        spec: { containers: [{ name: "app", image: "navarch/demo:2" }] },
        status: { phase },
      } as never);
    }
    const described = await navctl(["describe", "rs", "desc-bbb"]);
    assert.match(described.stdout, /^Replicas:\s+3 current \/ 3 desired\nPods Status:\s+2 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
  });
});
