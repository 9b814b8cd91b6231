// Services and Endpoints end to end on a one-node testcontainers cluster (node "ep-1", real
// containers): `navctl apply` of an ordinary v1 Service and pods, then what navctl shows.
//
//   1. a ClusterIP Service gets a cluster IP from the cluster's range (10.96.0.0/16 by default); `navctl get svc` prints TYPE,
//      CLUSTER-IP, EXTERNAL-IP and PORT(S) as kubectl does; applying the same manifest again
//      keeps the address
//   2. `navctl get endpoints` lists the ready pod's IP with the resolved named target port; a
//      crash-looping pod is kept apart in notReadyAddresses; deleting the ready pod empties it
//   3. a NodePort Service gets a node port (PORT(S) 80:3xxxx/TCP); a second Service asking for a
//      cluster IP already in use is refused with the field path; deleting a Service frees its
//      address for the next one, and its Endpoints go with it
import type { Endpoints, Pod, Service } from "@navarch/api";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
import { getPod, isRunning, podSummary, waitForPod, waitUntil } from "./pods-helpers.js";

const dockerError = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
})();
const agentBuilt = existsSync(path.join(ROOT, "services", "node-agent", "dist", "main.js"));
const skip = dockerError
  ? `no Docker engine (\`docker info\` failed: ${dockerError})`
  : agentBuilt
    ? false
    : "services/node-agent/dist/main.js is not built yet (no node agent image)";

const NODE = "ep-1";

after(stopAllClusters);

const MANIFEST = `
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: v1
kind: Pod
metadata:
  name: web-ready
  labels:
    app: web
spec:
  nodeName: ${NODE}
  containers:
    - name: web
      image: navarch/demo:1
      imagePullPolicy: Never
      ports:
        - name: http
          containerPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: web-crashing
  labels:
    app: web
spec:
  nodeName: ${NODE}
  containers:
    - name: web
      image: navarch/exit:1
      imagePullPolicy: Never
      args: ["1"]
      ports:
        - name: http
          containerPort: 8080
`;

describe("services and endpoints on a testcontainers cluster", { skip }, () => {
  let cluster: Cluster;

  before(
    async () => {
      assert.ok(await ensureDemoImages(), "scripts/build-images.sh does not exist (the demo images navarch/demo:1 ...)");
      cluster = await startCluster({ nodes: 1, nodeNamePrefix: "ep-" });
      console.log(`# startCluster({ nodes: 1 }) took ${cluster.startupMs} ms`);
    },
    { timeout: 300_000 },
  );

  after(() => cluster?.stop(), { timeout: 120_000 });

  const navctl = async (args: string[], input?: string) => {
    const r = await cluster.navctl(args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `navctl ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await navctl([...args, "-o", "json"])) as T;
  /** `navctl get KIND NAME` as its header and row, split on runs of spaces. */
  const table = async (kind: string, name: string) => {
    const [header = "", row = ""] = (await navctl(["get", kind, name])).trim().split("\n");
    return { header: header.split(/\s{2,}/), row: row.split(/\s{2,}/) };
  };

  it("1. a ClusterIP Service gets a stable cluster IP; get svc prints it like kubectl", { timeout: 60_000 }, async () => {
    await navctl(["apply", "-f", "-"], MANIFEST);
    const svc = await json<Service>(["get", "svc", "web"]);
    const ip = svc.spec!.clusterIP;
    // The fixture gives each cluster its own range (clusters share this host's netfilter).
    const prefix = cluster.serviceClusterIPRange.split(".").slice(0, 2).join(".");
    assert.ok(ip.startsWith(`${prefix}.`), `${ip} from the cluster's range ${cluster.serviceClusterIPRange}`);
    assert.deepEqual(svc.spec!.clusterIPs, [ip]);

    const { header, row } = await table("svc", "web");
    assert.deepEqual(header, ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    assert.deepEqual(row.slice(0, 5), ["web", "ClusterIP", ip, "<none>", "80/TCP"]);

    // The manifest has no clusterIP: applying it again keeps the allocated one.
    await navctl(["apply", "-f", "-"], MANIFEST);
    assert.equal((await json<Service>(["get", "svc", "web"])).spec!.clusterIP, ip);
  });

  it("2. get endpoints lists the ready pod; a crash-looping pod is not ready; deleting the ready one empties the list", { timeout: 120_000 }, async () => {
    const ready = await waitForPod(cluster, "web-ready", "Running with a pod IP", 60_000, isRunning);
    let crashing: Pod | undefined;
    await waitUntil("web-crashing to have a pod IP", 60_000, async () => {
      crashing = await getPod(cluster, "web-crashing");
      return crashing?.status?.podIP ? crashing : undefined;
    }, () => podSummary(crashing));

    let last = "";
    await waitUntil(
      "navctl get endpoints web to list the ready pod",
      30_000,
      async () => {
        const { header, row } = await table("endpoints", "web");
        last = `${header.join(" ")}\n${row.join(" ")}`;
        return header.join(" ") === "NAME ENDPOINTS AGE" && row[0] === "web" && row[1] === `${ready.status!.podIP}:8080` ? true : undefined;
      },
      () => last,
    );
    // The not-ready pod is in the same subset (same resolved port), kept apart from the addresses.
    const ep = await waitUntil("the crashing pod among notReadyAddresses", 30_000, async () => {
      const e = await json<Endpoints>(["get", "endpoints", "web"]);
      return e.subsets.some((s) => s.notReadyAddresses.some((a) => a.ip === crashing!.status!.podIP)) ? e : undefined;
    });
    assert.equal(ep.subsets.length, 1, JSON.stringify(ep.subsets));
    const subset = ep.subsets[0]!;
    assert.deepEqual(subset.ports.map((p) => [p.name, p.port, p.protocol]), [["http", 8080, "TCP"]]);
    assert.deepEqual(subset.addresses.map((a) => [a.ip, a.nodeName, a.targetRef?.kind, a.targetRef?.name]), [[ready.status!.podIP, NODE, "Pod", "web-ready"]]);
    assert.deepEqual((ep.metadata?.labels ?? {}) as Record<string, string>, { app: "web" }, "the Service's labels");

    await navctl(["delete", "pod", "web-ready"]);
    await waitUntil("endpoints without the deleted pod", 60_000, async () => {
      const { row } = await table("endpoints", "web");
      last = row.join(" ");
      return row[1] === "<none>" ? true : undefined;
    }, () => last);
  });

  it("3. NodePort, a taken cluster IP refused, deletion frees the address and the Endpoints", { timeout: 60_000 }, async () => {
    await navctl(["apply", "-f", "-"], service("web-np", { type: "NodePort" }));
    const np = await json<Service>(["get", "svc", "web-np"]);
    const nodePort = np.spec!.ports[0]!.nodePort!;
    const [low, high] = cluster.serviceNodePortRange.split("-").map(Number);
    assert.ok(nodePort >= low! && nodePort <= high!, `node port ${nodePort} in ${cluster.serviceNodePortRange}`);
    const { row } = await table("svc", "web-np");
    assert.deepEqual(row.slice(0, 5), ["web-np", "NodePort", np.spec!.clusterIP, "<none>", `80:${nodePort}/TCP`]);

    const dnsIP = `${cluster.serviceClusterIPRange.split(".").slice(0, 2).join(".")}.0.10`;
    await navctl(["apply", "-f", "-"], service("dns-a", { clusterIP: dnsIP }));
    const taken = await cluster.navctl(["apply", "-f", "-"], { input: service("dns-b", { clusterIP: dnsIP }) });
    assert.notEqual(taken.code, 0, "a second Service with the same cluster IP must be refused");
    assert.match(taken.stderr, new RegExp(`spec\\.clusterIP: Invalid value: "${dnsIP.replaceAll(".", "\\.")}": provided IP is already allocated`));

    await navctl(["delete", "svc", "dns-a"]);
    await navctl(["apply", "-f", "-"], service("dns-b", { clusterIP: dnsIP }));
    assert.equal((await json<Service>(["get", "svc", "dns-b"])).spec!.clusterIP, dnsIP, "the freed address is given to the next Service");

    await navctl(["delete", "svc", "web"]);
    await waitUntil("the Endpoints to go with their Service", 30_000, async () => {
      const r = await cluster.navctl(["get", "endpoints", "web"]);
      return r.code !== 0 && /not found/.test(r.stderr) ? true : undefined;
    });
  });
});

function service(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: 8080 }], ...spec },
  });
}
