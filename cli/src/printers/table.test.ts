import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KINDS, type KindInfo, type KubeObject } from "@navarch/api";
import { formatEndpoints, podSummary, tableHeaders, tableRow, type RowOptions } from "./columns.js";
import { renderTable, TableWriter } from "./table.js";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const T = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();
const k = (name: keyof typeof KINDS) => KINDS[name] as unknown as KindInfo;

function table(info: KindInfo, objects: unknown[], opts: RowOptions = {}): string {
  const objs = objects.map((o) => info.codec.fromPartial(o) as KubeObject);
  return renderTable(tableHeaders(info, opts), objs.map((o) => tableRow(info, o, opts, NOW)));
}

describe("TableWriter", () => {
  it("separates columns by three spaces, left-aligned, without trailing spaces", () => {
    assert.equal(
      renderTable(["NAME", "DATA", "AGE"], [["x", "1", "5s"], ["kube-root-ca.crt", "12", "3m20s"]]),
      "NAME               DATA   AGE\nx                  1      5s\nkube-root-ca.crt   12     3m20s\n",
    );
  });
  it("keeps kubectl's minimum column width of 3 + 3", () => {
    assert.equal(renderTable(["A", "B"], [["x", "y"]]), "A     B\nx     y\n");
  });
  it("remembers widths across renders, as a watch needs", () => {
    const w = new TableWriter();
    assert.equal(w.render(["NAME", "AGE"], [["long-name", "1s"]]), "NAME        AGE\nlong-name   1s\n");
    assert.equal(w.render(undefined, [["x", "2s"]]), "x           2s\n");
  });
  it("keeps a cell on one line", () => {
    assert.equal(renderTable(["A", "MESSAGE"], [["x", "two\nlines"]]), "A     MESSAGE\nx     two lines\n");
  });
});

describe("columns", () => {
  it("configmaps: NAME DATA AGE", () => {
    assert.equal(
      table(k("ConfigMap"), [
        { metadata: { name: "app", creationTimestamp: T(5) }, data: { a: "1", b: "2" } },
        { metadata: { name: "empty", creationTimestamp: T(200) } },
      ]),
      "NAME    DATA   AGE\napp     2      5s\nempty   0      3m20s\n",
    );
  });

  it("pods: READY STATUS RESTARTS AGE, and IP NODE when wide", () => {
    const pod = {
      metadata: { name: "web-1", creationTimestamp: T(3600) },
      spec: { nodeName: "node-1", containers: [{ name: "a" }, { name: "b" }] },
      status: {
        phase: "Running",
        podIP: "10.0.0.5",
        containerStatuses: [
          { name: "a", ready: true, restartCount: 2, state: { running: { startedAt: T(60) } }, lastState: { terminated: { exitCode: 1, finishedAt: T(65) } } },
          { name: "b", ready: false, restartCount: 0, state: { waiting: { reason: "CrashLoopBackOff" } } },
        ],
      },
    };
    assert.equal(
      table(k("Pod"), [pod], { wide: true }),
      "NAME    READY   STATUS             RESTARTS      AGE   IP         NODE\nweb-1   1/2     CrashLoopBackOff   2 (65s ago)   60m   10.0.0.5   node-1\n",
    );
  });

  it("pods: init containers and terminating", () => {
    const init = podSummary(
      { spec: { initContainers: [{ name: "i1" }, { name: "i2" }], containers: [{ name: "c" }] }, status: { phase: "Pending", initContainerStatuses: [{ name: "i1", state: { terminated: { exitCode: 0 } } }, { name: "i2", state: { running: {} } }] } } as never,
      NOW,
    );
    assert.equal(init.status, "Init:1/2");
    const term = podSummary({ metadata: { deletionTimestamp: T(1) }, spec: { containers: [] }, status: { phase: "Running" } } as never, NOW);
    assert.equal(term.status, "Terminating");
  });

  it("services: TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", () => {
    assert.equal(
      table(k("Service"), [
        { metadata: { name: "web", creationTimestamp: T(10) }, spec: { type: "ClusterIP", clusterIP: "10.96.0.10", ports: [{ port: 80, protocol: "TCP" }, { port: 443, nodePort: 30443 }] } },
        { metadata: { name: "lb", creationTimestamp: T(10) }, spec: { type: "LoadBalancer", clusterIP: "10.96.0.11", ports: [] } },
      ]),
      "NAME   TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S)                AGE\n" +
        "web    ClusterIP      10.96.0.10   <none>        80/TCP,443:30443/TCP   10s\n" +
        "lb     LoadBalancer   10.96.0.11   <pending>     <none>                 10s\n",
    );
  });

  it("deployments and replicasets", () => {
    assert.equal(
      table(k("Deployment"), [{ metadata: { name: "web", creationTimestamp: T(7200) }, spec: { replicas: 3 }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }]),
      "NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/3     3            2           120m\n",
    );
    assert.equal(
      table(k("ReplicaSet"), [{ metadata: { name: "web-abc", creationTimestamp: T(30) }, spec: { replicas: 3 }, status: { replicas: 3, readyReplicas: 1 } }]),
      "NAME      DESIRED   CURRENT   READY   AGE\nweb-abc   3         3         1       30s\n",
    );
  });

  it("nodes: STATUS ROLES AGE VERSION", () => {
    assert.equal(
      table(k("Node"), [
        {
          metadata: { name: "n1", creationTimestamp: T(86400 * 3), labels: { "node-role.kubernetes.io/control-plane": "" } },
          spec: { unschedulable: true },
          status: { conditions: [{ type: "Ready", status: "True" }], nodeInfo: { kubeletVersion: "v0.1.0" } },
        },
      ]),
      "NAME   STATUS                     ROLES           AGE   VERSION\nn1     Ready,SchedulingDisabled   control-plane   3d    v0.1.0\n",
    );
  });

  it("nodes: a broken service proxy or cluster DNS shows in STATUS; one off on purpose does not", () => {
    const node = (name: string, conditions: { type: string; status: string; reason?: string }[]) => ({
      metadata: { name, creationTimestamp: T(60) },
      status: { conditions: [{ type: "Ready", status: "True" }, ...conditions], nodeInfo: { kubeletVersion: "v0.1.0" } },
    });
    const text = table(k("Node"), [
      node("broken", [
        { type: "ServiceProxyReady", status: "False", reason: "NftNotFound" },
        { type: "ClusterDNSReady", status: "False", reason: "NotListening" },
      ]),
      node("fine", [
        { type: "ServiceProxyReady", status: "True", reason: "RulesWritten" },
        { type: "ClusterDNSReady", status: "True", reason: "Listening" },
      ]),
      node("hollow", [
        { type: "ServiceProxyReady", status: "False", reason: "NotSupported" },
        { type: "ClusterDNSReady", status: "False", reason: "Disabled" },
      ]),
    ]);
    assert.match(text, /^broken +Ready,ServiceProxyNotReady,ClusterDNSNotReady +<none>/m);
    assert.match(text, /^fine +Ready +<none>/m);
    assert.match(text, /^hollow +Ready +<none>/m);
  });

  it("events: LAST SEEN TYPE REASON OBJECT MESSAGE, and NAMESPACE with -A", () => {
    assert.equal(
      table(
        k("Event"),
        [{ metadata: { name: "e", namespace: "default" }, involvedObject: { kind: "Pod", name: "web-1" }, reason: "Started", message: "Started container", type: "Normal", lastTimestamp: T(42) }],
        { withNamespace: true },
      ),
      "NAMESPACE   LAST SEEN   TYPE     REASON    OBJECT      MESSAGE\ndefault     42s         Normal   Started   pod/web-1   Started container\n",
    );
  });

  it("namespaces, secrets, leases and labels", () => {
    assert.equal(
      table(k("Namespace"), [{ metadata: { name: "default", creationTimestamp: T(5), labels: { b: "2", a: "1" } }, status: { phase: "Active" } }], { showLabels: true }),
      "NAME      STATUS   AGE   LABELS\ndefault   Active   5s    a=1,b=2\n",
    );
    assert.equal(
      table(k("Secret"), [{ metadata: { name: "s", creationTimestamp: T(5) }, type: "Opaque", data: { a: new Uint8Array([1]) } }]),
      "NAME   TYPE     DATA   AGE\ns      Opaque   1      5s\n",
    );
    assert.equal(
      table(k("Lease"), [{ metadata: { name: "scheduler", creationTimestamp: T(5) }, spec: { holderIdentity: "host-1" } }]),
      "NAME        HOLDER   AGE\nscheduler   host-1   5s\n",
    );
  });

  it("endpoints show at most three addresses", () => {
    const ep = { subsets: [{ addresses: [1, 2, 3, 4].map((i) => ({ ip: `10.0.0.${i}` })), ports: [{ port: 80 }] }] };
    assert.equal(formatEndpoints(ep as never), "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...");
    assert.equal(formatEndpoints({ subsets: [] } as never), "<none>");
  });

  it("prefixes names with the kind when asked", () => {
    assert.equal(
      table(k("Deployment"), [{ metadata: { name: "web", creationTimestamp: T(1) } }], { namePrefix: "deployment.apps/" }).split("\n")[1],
      "deployment.apps/web   0/1     0            0           1s",
    );
  });
});
