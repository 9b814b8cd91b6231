// navctl cordon / uncordon / drain: the pure parts (pod filters, names, messages), then the built
// CLI against the in-memory API server (testing/fake-server.ts; it deletes at once, so waiting for
// graceful termination is shown by e2e/src/testcontainers/node-failure.test.ts).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { KINDS, type KindInfo, type Pod } from "@navarch/api";
import { writeClientConfig } from "@navarch/config";
import { startFakeServer, type FakeServer } from "../testing/fake-server.js";
import { runCli } from "../testing/run-cli.js";
import { cordonMessage, nodeNameOf } from "./cordon.js";
import { formatTimeout, planDrain } from "./drain.js";

const NODE = KINDS.Node as unknown as KindInfo;
const POD = KINDS.Pod as unknown as KindInfo;

function pod(name: string, o: { owner?: string; phase?: string; emptyDir?: boolean; node?: string; namespace?: string } = {}): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      ownerReferences: o.owner ? [{ apiVersion: "apps/v1", kind: o.owner, name: "owner", uid: "o1", controller: true }] : [],
    },
    spec: { nodeName: o.node ?? "n1", containers: [{ name: "c", image: "i" }], volumes: o.emptyDir ? [{ name: "scratch", emptyDir: {} }] : [] },
    status: { phase: o.phase ?? "Running" },
  });
}

describe("drain: which pods, as kubectl", () => {
  const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name);

  it("evicts controller-managed pods; refuses unmanaged, DaemonSet and emptyDir pods without the flags", () => {
    const pods = [pod("rs", { owner: "ReplicaSet" }), pod("bare"), pod("ds", { owner: "DaemonSet" }), pod("scratch", { owner: "ReplicaSet", emptyDir: true })];
    const plan = planDrain(pods, {});
    assert.deepEqual(plan.errors, [
      "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds",
      "cannot delete Pods that declare no controller (use --force to override): default/bare",
      "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch",
    ]);
    const all = planDrain(pods, { force: true, ignoreDaemonsets: true, deleteEmptydirData: true });
    assert.deepEqual(all.errors, []);
    assert.deepEqual(names(all.evict), ["rs", "bare", "scratch"]);
    assert.deepEqual(names(all.ignored), ["ds"]);
    assert.deepEqual(all.warnings, [
      "ignoring DaemonSet-managed Pods: default/ds",
      "deleting Pods that declare no controller: default/bare",
      "deleting Pods with local storage: default/scratch",
    ]);
  });

  it("finished pods go without questions; a non-controller owner does not count", () => {
    const notController = pod("weak");
    notController.metadata!.ownerReferences = [{ apiVersion: "v1", kind: "ReplicaSet", name: "x", uid: "u", controller: false }];
    const plan = planDrain([pod("done", { phase: "Succeeded" }), pod("failed-ds", { owner: "DaemonSet", phase: "Failed" }), notController], {});
    assert.deepEqual(names(plan.evict), ["done", "failed-ds", "weak"]);
    assert.deepEqual(plan.errors, ["cannot delete Pods that declare no controller (use --force to override): default/weak"]);
  });

  it("names, messages, timeouts", () => {
    assert.equal(nodeNameOf("n1"), "n1");
    assert.equal(nodeNameOf("node/n1"), "n1");
    assert.equal(nodeNameOf("nodes/n1"), "n1");
    assert.throws(() => nodeNameOf("pod/p"), /pod\/p is not a node/);
    assert.throws(() => nodeNameOf("node/"), /a node name is required/);
    assert.equal(cordonMessage("n1", true, true), "node/n1 cordoned\n");
    assert.equal(cordonMessage("n1", true, false), "node/n1 already cordoned\n");
    assert.equal(cordonMessage("n1", false, true), "node/n1 uncordoned\n");
    assert.equal(formatTimeout(60_000), "1m");
    assert.equal(formatTimeout(45_000), "45s");
    assert.equal(formatTimeout(90_000), "1m30s");
  });
});

describe("navctl cordon / uncordon / drain against an API server", () => {
  let server: FakeServer;
  let home: string;
  const navctl = (args: string[]) => runCli(args, { env: { NAVARCH_HOME: home } });
  const unschedulable = () => (server.objects.get("Node//n1")!.object as unknown as { spec: { unschedulable: boolean } }).spec.unschedulable;

  before(async () => {
    server = await startFakeServer();
    home = fs.mkdtempSync(path.join(os.tmpdir(), "navctl-drain-"));
    writeClientConfig({ server: server.address, token: server.token }, path.join(home, "config"));
    server.seed(NODE, KINDS.Node.codec.fromPartial({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec: { taints: [{ key: "k", value: "v", effect: "NoSchedule" }] } }) as never);
  });
  after(async () => {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("cordon, cordon again, uncordon, uncordon again; other fields kept", async () => {
    let r = await navctl(["cordon", "n1"]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "node/n1 cordoned\n", ""]);
    assert.equal(unschedulable(), true);
    r = await navctl(["cordon", "node/n1"]);
    assert.deepEqual([r.code, r.stdout], [0, "node/n1 already cordoned\n"]);
    r = await navctl(["uncordon", "n1"]);
    assert.deepEqual([r.code, r.stdout], [0, "node/n1 uncordoned\n"]);
    assert.equal(unschedulable(), false);
    r = await navctl(["uncordon", "n1"]);
    assert.deepEqual([r.code, r.stdout], [0, "node/n1 already uncordoned\n"]);
    const taints = (server.objects.get("Node//n1")!.object as unknown as { spec: { taints: { key: string }[] } }).spec.taints;
    assert.deepEqual(taints.map((t) => t.key), ["k"]);
  });

  it("a missing node: exit 1 with the API's message", async () => {
    const r = await navctl(["cordon", "nope"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: nodes "nope" not found\n');
    const d = await navctl(["drain", "nope"]);
    assert.equal(d.code, 1);
    assert.equal(d.stderr, 'error: nodes "nope" not found\n');
  });

  it("drain refuses unmanaged and DaemonSet pods, evicts nothing, leaves the node cordoned", async () => {
    server.seed(POD, pod("web-1", { owner: "ReplicaSet" }) as never);
    server.seed(POD, pod("bare", { namespace: "other" }) as never);
    server.seed(POD, pod("agent", { owner: "DaemonSet" }) as never);
    server.seed(POD, pod("elsewhere", { node: "n2" }) as never);
    const r = await navctl(["drain", "n1"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "node/n1 cordoned\n");
    assert.equal(
      r.stderr,
      'error: unable to drain node "n1" due to error: cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent; ' +
        "cannot delete Pods that declare no controller (use --force to override): other/bare\n",
    );
    assert.equal(unschedulable(), true);
    assert.equal([...server.objects.keys()].filter((k) => k.startsWith("Pod/")).length, 4, "nothing deleted");
  });

  it("drain --force --ignore-daemonsets: evicts the rest, keeps the DaemonSet pod and other nodes' pods", async () => {
    const r = await navctl(["drain", "n1", "--force", "--ignore-daemonsets", "--grace-period", "5", "--timeout", "30s"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      ["node/n1 already cordoned", "evicting pod default/web-1", "evicting pod other/bare", "pod/web-1 evicted", "pod/bare evicted", "node/n1 drained", ""].join("\n"),
    );
    assert.equal(r.stderr, "Warning: ignoring DaemonSet-managed Pods: default/agent\nWarning: deleting Pods that declare no controller: other/bare\n");
    assert.deepEqual([...server.objects.keys()].filter((k) => k.startsWith("Pod/")).sort(), ["Pod/default/agent", "Pod/default/elsewhere"]);
  });

  it("bad flags are refused before anything happens", async () => {
    const r = await navctl(["drain", "n1", "--grace-period", "soon"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--grace-period.*expected an integer/);
  });
});
