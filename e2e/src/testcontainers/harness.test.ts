// The testcontainers cluster fixture itself: a containerized control plane serves navctl, node
// agents in containers register distinct nodes and run pods on the host's Docker, a stopped agent's
// node goes Ready=Unknown, and nothing is left behind afterwards.
import type { Node, Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { sleep } from "../cluster.js";
import { listNodes, startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
import { LABEL_PID, NETWORK_PREFIX, POD_CLUSTER_LABEL, POD_NODE_LABEL } from "./leftovers.js";

const dockerError = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
})();
const skipAll = dockerError
  ? `no Docker engine (\`docker info\` failed: ${dockerError}); start one with \`dockerd > /tmp/dockerd.log 2>&1 &\``
  : false;
const agentBuilt = existsSync(path.join(ROOT, "services", "node-agent", "dist", "main.js"));
const skipNodes = skipAll || (agentBuilt ? false : "services/node-agent/dist/main.js is not built yet (no node agent image)");

after(stopAllClusters);
/** The Navarch cluster ids of the clusters started here, for the cleanup check. */
const navarchClusters: string[] = [];

describe("testcontainers cluster: control plane only (nodes: 0)", { skip: skipAll }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ nodes: 0 });
    console.log(`# startCluster({ nodes: 0 }) took ${cluster.startupMs} ms`);
  });
  after(() => cluster?.stop());

  it("serves navctl get ns on 127.0.0.1 from the containerized control plane", async () => {
    assert.match(cluster.apiAddr, /^127\.0\.0\.1:\d+$/);
    const r = await cluster.navctl(["get", "ns"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^default\s+Active/m);
    assert.match(r.stdout, /^navarch-system\s+Active/m);
    // Published on loopback only.
    const ports = execFileSync("docker", ["port", cluster.controlPlane.getId()], { encoding: "utf8" });
    assert.match(ports, /^7443\/tcp -> 127\.0\.0\.1:\d+$/m);
    assert.doesNotMatch(ports, /0\.0\.0\.0|::/);
  });

  it("applies a ConfigMap and reads it back", async () => {
    const manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tc-settings\ndata:\n  mode: containers\n";
    const applied = await cluster.navctl(["apply", "-f", "-"], { input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /configmap\/tc-settings created/);
    const got = await cluster.navctl(["get", "cm", "tc-settings", "-o", "json"]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).data.mode, "containers");
  });
});

describe("testcontainers cluster: two node agents", { skip: skipNodes }, () => {
  let cluster: Cluster;
  before(async () => {
    assert.ok(await ensureDemoImages(), "scripts/build-images.sh (navarch/demo:1) does not exist");
    cluster = await startCluster({ nodes: 2 });
    navarchClusters.push(cluster.navarchCluster);
    console.log(`# startCluster({ nodes: 2 }) took ${cluster.startupMs} ms`);
  });
  after(() => cluster?.stop());
  const readyNow = async (name: string) => readyOf(await listNodes(cluster), name);

  it("registers node-1 and node-2, both Ready=True within 10 s", async () => {
    const ready = await waitFor(10_000, async () => {
      const nodes = await listNodes(cluster);
      return ["node-1", "node-2"].every((n) => readyOf(nodes, n) === "True") ? nodes : undefined;
    });
    assert.ok(ready, `nodes not Ready within 10 s: ${JSON.stringify(summary(await listNodes(cluster)))}`);
    const r = await cluster.navctl(["get", "nodes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^node-1\s/m);
    assert.match(r.stdout, /^node-2\s/m);
  });

  it("runs a pod bound to node-1; its IP answers HTTP from the host with its name", async () => {
    assert.match(cluster.navarchCluster, /^[0-9a-f-]{36}$/, "the fixture knows the cluster's id");
    const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: tc-web
spec:
  nodeName: node-1
  containers:
  - name: web
    image: navarch/demo:1
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
`;
    const applied = await cluster.navctl(["apply", "-f", "-"], { input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    let last: Pod | undefined;
    const pod = await waitFor(30_000, async () => {
      const r = await cluster.navctl(["get", "pod", "tc-web", "-o", "json"]);
      if (r.code !== 0) return undefined;
      last = JSON.parse(r.stdout) as Pod;
      return last.status?.phase === "Running" && last.status.podIP ? last : undefined;
    });
    assert.ok(pod, `pod not Running with an IP within 30 s: ${JSON.stringify(last?.status)}\n${cluster.node("node-1").logs().slice(-3000)}`);
    const body = await httpGet(`http://${pod.status!.podIP}:8080/`);
    assert.match(body, /pod=tc-web\b/);
    // It runs on the host's Docker, labelled as node-1's.
    const ids = execFileSync("docker", ["ps", "-q", "--filter", `label=${POD_NODE_LABEL}=node-1`, "--filter", `label=${POD_CLUSTER_LABEL}=${cluster.navarchCluster}`], { encoding: "utf8" }).trim();
    assert.ok(ids, "no running container labelled navarch.node=node-1 and with this cluster's navarch.cluster");
  });

  it("can cut node-2 off the network and back, and restart its agent without restarting its pods", async () => {
    const node2 = cluster.node("node-2");
    await node2.disconnect();
    assert.ok(await waitFor(12_000, async () => ((await readyNow("node-2")) === "Unknown" ? true : undefined)), "node-2 not Unknown after disconnect");
    await node2.reconnect();
    assert.ok(await waitFor(10_000, async () => ((await readyNow("node-2")) === "True" ? true : undefined)), "node-2 not Ready after reconnect");

    const manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tc-adopt\nspec:\n  nodeName: node-2\n  containers:\n  - name: web\n    image: navarch/demo:1\n    imagePullPolicy: Never\n";
    const applied = await cluster.navctl(["apply", "-f", "-"], { input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    const containers = () =>
      execFileSync("docker", ["ps", "-q", "--no-trunc", "--filter", `label=${POD_NODE_LABEL}=node-2`], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean)
        .sort();
    const before = await waitFor(30_000, async () => {
      const r = await cluster.navctl(["get", "pod", "tc-adopt", "-o", "json"]);
      return r.code === 0 && (JSON.parse(r.stdout) as Pod).status?.phase === "Running" ? containers() : undefined;
    });
    assert.ok(before && before.length > 0, "tc-adopt not Running within 30 s");
    await node2.restart({ timeoutMs: 5_000 });
    assert.ok(await node2.running());
    assert.ok(await waitFor(10_000, async () => ((await readyNow("node-2")) === "True" ? true : undefined)), "node-2 not Ready after restart");
    assert.deepEqual(containers(), before, "the restarted agent replaced its pod's containers");
  });

  it("marks node-1 Ready=Unknown within ~10 s of its agent's container stopping", async () => {
    await cluster.node("node-1").stop({ timeoutMs: 5_000 });
    const stoppedAt = Date.now();
    const unknown = await waitFor(12_000, async () => {
      const nodes = await listNodes(cluster);
      return readyOf(nodes, "node-1") === "Unknown" ? nodes : undefined;
    });
    const nodes = await listNodes(cluster);
    assert.ok(unknown, `node-1 not Ready=Unknown within 12 s: ${JSON.stringify(summary(nodes))}`);
    console.log(`# node-1 Ready=Unknown ${Date.now() - stoppedAt} ms after its agent stopped`);
    assert.equal(readyOf(nodes, "node-2"), "True", "node-2 must stay Ready");
  });
});

describe("testcontainers cluster: cleanup", { skip: skipAll }, () => {
  it("leaves no container, pod container or network behind", async () => {
    await stopAllClusters();
    const ps = (filter: string) =>
      execFileSync("docker", ["ps", "-aq", "--filter", filter], { encoding: "utf8" }).trim();
    assert.equal(ps(`label=${LABEL_PID}=${process.pid}`), "", "fixture containers left");
    for (const node of ["node-1", "node-2"]) assert.equal(ps(`label=${POD_NODE_LABEL}=${node}`), "", `${node} pod containers left`);
    for (const id of navarchClusters) assert.equal(ps(`label=${POD_CLUSTER_LABEL}=${id}`), "", `containers of Navarch cluster ${id} left`);
    const networks = execFileSync("docker", ["network", "ls", "-q", "--filter", `name=${NETWORK_PREFIX}${process.pid}-`], {
      encoding: "utf8",
    }).trim();
    assert.equal(networks, "", "networks left");
  });
});

function readyOf(nodes: Node[], name: string): string | undefined {
  return nodes.find((n) => n.metadata?.name === name)?.status?.conditions.find((c) => c.type === "Ready")?.status;
}

function summary(nodes: Node[]): Record<string, string | undefined> {
  return Object.fromEntries(nodes.map((n) => [n.metadata?.name, readyOf(nodes, n.metadata?.name ?? "")]));
}

/** Polls every 200 ms until check() returns a value or the time is up (then undefined). */
async function waitFor<T>(timeoutMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  do {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(200);
  } while (Date.now() < deadline);
  return undefined;
}

/** GET with a 5 s timeout, no proxy (the pod IP is a container of this machine). */
function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (s: string) => (body += s));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}
