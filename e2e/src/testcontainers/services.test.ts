// Services that really carry traffic, end to end: one testcontainers cluster (svc-1, svc-2) whose
// node agents program the host's netfilter (one nftables table per node), real demo pods behind
// Services, and real clients: busybox wget inside a pod (ClusterIP, the pod path through
// prerouting) and HTTP from this host (NodePort on 127.0.0.1 and ClusterIP, the output path).
//
// What it proves (issue 6):
//   1. a 3-replica Deployment behind a Service answers through its ClusterIP from inside another
//      pod and through its NodePort from the host, spread over all three pods
//   2. a pod whose readiness probe fails stops receiving traffic, and gets it again once it passes
//   3. sessionAffinity ClientIP keeps a client on one pod
//   4. a Service without ready endpoints refuses connections at once (no timeout)
//   5. a selectorless Service follows hand-written Endpoints (named ports already numbers)
//   6. a rolling update behind the Service: a client's bounded request loop sees no failure
// and that stopping the cluster leaves no nftables table or helper container on the host.
//
// Every HTTP request is a new connection (the proxy balances connections, not requests).
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { assertServiceTrafficStaysLocal } from "@navarch/runtime";
import { startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
import { NETFILTER_OWNER_LABEL, proxyTable } from "./leftovers.js";
import { docker, podContainers, waitUntil } from "./pods-helpers.js";

const dockerError = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
})();
const agentBuilt = existsSync(path.join(ROOT, "services", "node-agent", "dist", "main.js"));
const skip = dockerError ? `no Docker engine (\`docker info\` failed: ${dockerError})` : agentBuilt ? false : "services/node-agent/dist/main.js is not built yet";
const NFT = ["/usr/sbin/nft", "/sbin/nft"].find((p) => existsSync(p));
const NODES = ["svc-1", "svc-2"];

after(stopAllClusters);

interface Json {
  metadata: { name: string; namespace: string };
  spec: Record<string, any>;
  status?: Record<string, any>;
  subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[] }[];
}

/** The demo container serves on the named port "http"; /ready answers until it is removed. */
function demoPodSpec(image: string, extra: Record<string, unknown> = {}) {
  return {
    containers: [
      {
        name: "web",
        image,
        imagePullPolicy: "Never",
        ports: [{ name: "http", containerPort: 8080 }],
        readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 1, failureThreshold: 1, successThreshold: 1 },
        ...extra,
      },
    ],
    terminationGracePeriodSeconds: 10,
  };
}

function deployment(name: string, replicas: number, podSpec: object, strategy?: object): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: podSpec }, ...(strategy ? { strategy } : {}) },
  });
}

function serviceManifest(name: string, spec: object): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec });
}

/** One HTTP GET on a fresh connection; the body, or "ERR <code>" when the connection failed. */
function fetchOnce(url: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve(res.statusCode === 200 ? body.trim() : `ERR status ${res.statusCode}`));
      res.on("error", (e: NodeJS.ErrnoException) => resolve(`ERR ${e.code ?? e.message}`));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(`ERR ${e.code ?? e.message}`));
  });
}

async function fetchMany(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await fetchOnce(url));
  return out;
}

/** An answer of the demo server (not a wget error). */
const ok = (answer: string) => answer.startsWith("demo v");
/** "demo v1 pod=web-abc" -> "web-abc". */
const podOf = (answer: string) => /pod=(\S+)$/.exec(answer)?.[1] ?? answer;
const distinct = (answers: string[]) => [...new Set(answers.map(podOf))].sort();

describe("services on a two-node testcontainers cluster", { skip }, () => {
  let cluster: Cluster;
  let clientNode = "";

  const apply = async (manifest: string) => {
    const r = await cluster.navctl(["apply", "-f", "-"], { input: manifest });
    assert.equal(r.code, 0, `navctl apply failed: ${r.stderr}\n${manifest}`);
  };
  const get = async (kind: string, name: string): Promise<Json | undefined> => {
    const r = await cluster.navctl(["get", kind, name, "-o", "json"]);
    return r.code === 0 ? (JSON.parse(r.stdout) as Json) : undefined;
  };
  const list = async (kind: string, selector: string): Promise<Json[]> => {
    const r = await cluster.navctl(["get", kind, "-l", selector, "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { items: Json[] }).items;
  };
  const readyPods = async (app: string) =>
    (await list("pods", `app=${app}`)).filter(
      (p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp && p.status?.conditions?.some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"),
    );
  const readyAddresses = (e: Json | undefined) => (e?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();

  /** Runs a shell script in the client pod (busybox); no `wget -T`: Debian's busybox segfaults with it. */
  const inClient = (script: string, timeoutMs = 120_000): string => {
    const [id] = podContainers("client", clientNode, { role: "app" });
    assert.ok(id, "the client pod has no running container");
    return docker(["exec", id, "sh", "-c", script], timeoutMs);
  };
  /** n requests from inside the client pod, each a new connection; failures as "ERR". */
  const fromPod = (url: string, n: number): string[] =>
    inClient(`for i in $(seq ${n}); do wget -q -O - ${url} 2>&1 || echo ERR; done`).split("\n").filter(Boolean);

  /** The Service once the gateway gave it a cluster IP (and node ports, for NodePort). */
  const allocated = (name: string) =>
    waitUntil(`Service ${name} with its addresses allocated`, 20_000, async () => {
      const s = await get("service", name);
      const ok = s?.spec.clusterIP && (s.spec.type !== "NodePort" || s.spec.ports.every((p: { nodePort?: number }) => p.nodePort));
      if (!ok) return undefined;
      // Every test sends packets to this ClusterIP next: first make sure none can leave this host.
      assertServiceTrafficStaysLocal({ clusterIP: s.spec.clusterIP, cidr: cluster.serviceClusterIPRange });
      return s;
    });
  const endpointsWith = (name: string, count: number) => {
    let last: Json | undefined;
    return waitUntil(
      `Endpoints ${name} with ${count} ready addresses`,
      60_000,
      async () => {
        last = await get("endpoints", name);
        return readyAddresses(last).length === count ? last : undefined;
      },
      () => JSON.stringify(last?.subsets),
    );
  };

  /** What the pods of `app` (or the pod named so), the nodes and the control plane say, for a failed wait. */
  const diagnose = (app: string) => async () => {
    const r = await cluster.navctl(["get", "pods", "-o", "wide"]);
    const tail = (which: string) => `--- ${which} ---\n${cluster.logs(which).slice(-2_500)}`;
    return [r.stdout, r.stderr, ...NODES.map(tail), tail("control-plane")].join("\n") + `\n(${app})`;
  };

  before(
    async () => {
      assert.ok(await ensureDemoImages(), "scripts/build-images.sh does not exist (demo and netfilter images)");
      cluster = await startCluster({ nodes: 2, nodeNamePrefix: "svc-" });
      console.log(`# startCluster took ${cluster.startupMs} ms; services ${cluster.serviceClusterIPRange}, node ports ${cluster.serviceNodePortRange}`);
      await apply(
        JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "client", namespace: "default" },
          spec: { containers: [{ name: "sh", image: "navarch/busybox:1", imagePullPolicy: "Never", command: ["sleep", "3600"] }], terminationGracePeriodSeconds: 0 },
        }),
      );
      await apply(deployment("web", 3, demoPodSpec("navarch/demo:1")));
      await apply(serviceManifest("web", { type: "NodePort", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] }));
      const client = await waitUntil(
        "client pod running",
        60_000,
        async () => {
          const p = await get("pod", "client");
          return p?.status?.phase === "Running" ? p : undefined;
        },
        diagnose("client"),
      );
      clientNode = client.spec.nodeName as string;
      await waitUntil("3 ready web pods", 90_000, async () => ((await readyPods("web")).length === 3 ? true : undefined), diagnose("web"));
    },
    { timeout: 300_000 },
  );

  after(
    async () => {
      if (!cluster) return;
      await cluster.stop();
      // Nothing of the proxies stays on the host.
      const helpers = docker(["ps", "-aq", ...NODES.flatMap((n) => ["--filter", `label=${NETFILTER_OWNER_LABEL}=${n}`])]);
      assert.equal(helpers, "", "netfilter helper containers left behind");
      if (NFT) {
        const tables = execFileSync(NFT, ["list", "tables"], { encoding: "utf8" });
        for (const n of NODES) assert.ok(!tables.includes(`table ip ${proxyTable(n)}\n`), `nftables table ${proxyTable(n)} left behind:\n${tables}`);
      }
    },
    { timeout: 120_000 },
  );

  it("1. a 3-replica Deployment answers through its ClusterIP from a pod and its NodePort from the host, spread over all three pods", { timeout: 120_000 }, async () => {
    const svc = await allocated("web");
    const ip = svc.spec.clusterIP as string;
    const nodePort = svc.spec.ports[0].nodePort as number;
    const [lo, hi] = cluster.serviceClusterIPRange.split("/")[0]!.split(".").slice(0, 2);
    assert.ok(ip.startsWith(`${lo}.${hi}.`), `cluster IP ${ip} is not from ${cluster.serviceClusterIPRange}`);
    const pods = (await readyPods("web")).map((p) => p.metadata.name).sort();
    await endpointsWith("web", 3);

    // Each node's agent wrote its table into the host's netfilter.
    if (NFT) {
      await waitUntil("both nodes' nftables tables", 10_000, () => {
        const tables = execFileSync(NFT, ["list", "tables"], { encoding: "utf8" });
        return NODES.every((n) => tables.includes(`table ip ${proxyTable(n)}`)) ? true : undefined;
      });
    }

    // The proxies follow the Endpoints within about a second; wait until all three answer.
    const viaPod = await waitUntil(
      "all three pods answering on the ClusterIP from the client pod",
      20_000,
      () => {
        const answers = fromPod(`http://${ip}/`, 30);
        return distinct(answers).join() === pods.join() ? answers : undefined;
      },
      () => fromPod(`http://${ip}/`, 10).join("\n"),
      500,
    );
    assert.ok(viaPod.every((a) => a.startsWith("demo v1 pod=")), viaPod.join("\n"));

    const viaNodePort = await fetchMany(`http://127.0.0.1:${nodePort}/`, 30);
    assert.deepEqual(distinct(viaNodePort), pods, `NodePort 127.0.0.1:${nodePort} answers:\n${viaNodePort.join("\n")}`);
    const viaHostClusterIP = await fetchMany(`http://${ip}/`, 30);
    assert.deepEqual(distinct(viaHostClusterIP), pods, `ClusterIP from the host answers:\n${viaHostClusterIP.join("\n")}`);

    // Hairpin: a backend reaching its own Service is sometimes answered by itself.
    const self = pods[0]!;
    const [selfApp] = podContainers(self, (await get("pod", self))!.spec.nodeName as string, { role: "app" });
    const hairpin = docker(["exec", selfApp!, "sh", "-c", `for i in $(seq 30); do wget -q -O - http://${ip}/ 2>&1 || echo ERR; done`], 120_000).split("\n");
    assert.ok(hairpin.every((a) => a.startsWith("demo v1 pod=")), `${self} through its own Service:\n${hairpin.join("\n")}`);
    assert.ok(distinct(hairpin).includes(self), `${self} never reached itself through its Service:\n${hairpin.join("\n")}`);
  });

  it("2. a pod whose readiness probe fails stops receiving traffic, and gets it again when it passes", { timeout: 120_000 }, async () => {
    const ip = (await allocated("web")).spec.clusterIP as string;
    const pods = (await readyPods("web")).map((p) => p.metadata.name).sort();
    const victim = pods[0]!;
    const victimNode = ((await get("pod", victim))!.spec.nodeName as string) ?? "";
    const [app] = podContainers(victim, victimNode, { role: "app" });
    assert.ok(app, `no container of ${victim}`);

    docker(["exec", app, "rm", "/tmp/www/ready"]);
    await endpointsWith("web", 2);
    const without = await waitUntil(
      `${victim} out of the ClusterIP's answers`,
      10_000,
      () => {
        const answers = fromPod(`http://${ip}/`, 30);
        return answers.every(ok) && !distinct(answers).includes(victim) ? answers : undefined;
      },
      undefined,
      200,
    );
    assert.deepEqual(distinct(without), pods.filter((p) => p !== victim), without.join("\n"));
    // Stays out: not a lucky draw.
    const again = [...fromPod(`http://${ip}/`, 30), ...(await fetchMany(`http://${ip}/`, 30))];
    assert.ok(!distinct(again).includes(victim), `${victim} still answers although not ready:\n${again.join("\n")}`);
    assert.ok(again.every((a) => !a.startsWith("ERR")), again.join("\n"));

    docker(["exec", app, "cp", "/tmp/www/index.html", "/tmp/www/ready"]);
    await endpointsWith("web", 3);
    await waitUntil(
      `${victim} back in the ClusterIP's answers`,
      10_000,
      () => (distinct(fromPod(`http://${ip}/`, 30)).join() === pods.join() ? true : undefined),
      undefined,
      200,
    );
  });

  it("3. sessionAffinity ClientIP keeps each client on one pod", { timeout: 120_000 }, async () => {
    await apply(serviceManifest("web-sticky", { type: "NodePort", sessionAffinity: "ClientIP", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] }));
    const svc = await allocated("web-sticky");
    await endpointsWith("web-sticky", 3);
    const ip = svc.spec.clusterIP as string;
    const fromClient = await waitUntil("the sticky ClusterIP answering from the client pod", 10_000, () => {
      const answers = fromPod(`http://${ip}/`, 20);
      return answers.every((a) => a.startsWith("demo")) ? answers : undefined;
    });
    assert.equal(distinct(fromClient).length, 1, `the client pod reached several pods:\n${fromClient.join("\n")}`);
    const fromHost = await fetchMany(`http://127.0.0.1:${svc.spec.ports[0].nodePort}/`, 20);
    assert.ok(fromHost.every((a) => a.startsWith("demo")), fromHost.join("\n"));
    assert.equal(distinct(fromHost).length, 1, `the host reached several pods:\n${fromHost.join("\n")}`);
    // The plain Service balances the same client over all three (affinity is what sticks).
    const plain = fromPod(`http://${(await allocated("web")).spec.clusterIP}/`, 30);
    assert.equal(distinct(plain).length, 3, plain.join("\n"));
  });

  it("4. a Service without ready endpoints refuses connections at once", { timeout: 60_000 }, async () => {
    await apply(serviceManifest("nobody", { type: "NodePort", selector: { app: "nobody" }, ports: [{ port: 80, targetPort: "8080" }] }));
    const svc = await allocated("nobody");
    const ip = svc.spec.clusterIP as string;
    const refused = await waitUntil("connection refused on the empty Service's ClusterIP from the client pod", 10_000, () => {
      const out = inClient(`wget -q -O - http://${ip}/ 2>&1; echo "exit $?"`, 10_000);
      return /Connection refused/i.test(out) ? out : undefined;
    });
    assert.match(refused, /exit 1/);
    const t0 = Date.now();
    assert.equal(await fetchOnce(`http://127.0.0.1:${svc.spec.ports[0].nodePort}/`), "ERR ECONNREFUSED");
    assert.equal(await fetchOnce(`http://${ip}/`), "ERR ECONNREFUSED");
    assert.ok(Date.now() - t0 < 4_000, "refusals came only after a timeout");
  });

  it("5. a selectorless Service follows hand-written Endpoints", { timeout: 60_000 }, async () => {
    const pods = await readyPods("web");
    const byIP = new Map(pods.map((p) => [p.status!.podIP as string, p.metadata.name]));
    const [a, b] = [...byIP.keys()].sort();
    await apply(serviceManifest("manual", { ports: [{ name: "web", port: 8000, targetPort: "8080" }] }));
    const ip = (await allocated("manual")).spec.clusterIP as string;
    const endpoints = (ips: string[]) =>
      JSON.stringify({ apiVersion: "v1", kind: "Endpoints", metadata: { name: "manual", namespace: "default" }, subsets: [{ addresses: ips.map((i) => ({ ip: i })), ports: [{ name: "web", port: 8080, protocol: "TCP" }] }] });
    await apply(endpoints([a!, b!]));
    const both = await waitUntil("both hand-listed pods answering", 10_000, () => {
      const answers = fromPod(`http://${ip}:8000/`, 30);
      return answers.every(ok) && distinct(answers).length === 2 ? answers : undefined;
    });
    assert.deepEqual(distinct(both), [byIP.get(a!)!, byIP.get(b!)!].sort());
    await apply(endpoints([b!]));
    await waitUntil("only the one pod left in the Endpoints answering", 10_000, () => {
      const answers = fromPod(`http://${ip}:8000/`, 20);
      return answers.every(ok) && distinct(answers).join() === byIP.get(b!) ? true : undefined;
    });
  });

  it("6. a rolling update behind the Service: a client's bounded request loop sees no failure", { timeout: 240_000 }, async () => {
    // As Kubernetes users do: a preStop sleep keeps a terminating pod serving for 3 s, long enough
    // for every node's proxy to drop it from its table before it gets SIGTERM. (Without it the
    // plain demo app exits at once and ~1 request in 200 is refused during the rollout.)
    const rollingSpec = (image: string) => demoPodSpec(image, { lifecycle: { preStop: { sleep: { seconds: 3 } } } });
    const strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: "1", maxUnavailable: "0" } };
    await apply(deployment("roll", 3, rollingSpec("navarch/demo:1"), strategy));
    await apply(serviceManifest("roll", { selector: { app: "roll" }, ports: [{ name: "http", port: 80, targetPort: "http" }] }));
    const ip = (await allocated("roll")).spec.clusterIP as string;
    await waitUntil("3 ready roll pods", 90_000, async () => ((await readyPods("roll")).length === 3 ? true : undefined));
    await endpointsWith("roll", 3);
    await waitUntil("the roll Service answering", 10_000, () => (fromPod(`http://${ip}/`, 5).every((a) => a.startsWith("demo v1")) ? true : undefined));

    // At most 20000 requests, one at a time; stops early once /tmp/stop exists.
    inClient("rm -f /tmp/stop /tmp/loop.out");
    const [clientId] = podContainers("client", clientNode, { role: "app" });
    const loop = execFileAsync("docker", [
      "exec",
      clientId!,
      "sh",
      "-c",
      `i=0; while [ $i -lt 20000 ] && [ ! -e /tmp/stop ]; do wget -q -O - http://${ip}/ >> /tmp/loop.out 2>&1 || echo "FAIL $?" >> /tmp/loop.out; i=$((i+1)); done; echo done`,
    ]);
    await waitUntil("the client loop under way", 10_000, () => (Number(inClient("wc -l < /tmp/loop.out 2>/dev/null || echo 0")) > 20 ? true : undefined));

    await apply(deployment("roll", 3, rollingSpec("navarch/demo:2"), strategy));
    await waitUntil(
      "the rollout done: 3 ready demo:2 pods and no demo:1 pod left",
      180_000,
      async () => {
        const pods = await list("pods", "app=roll");
        const images = pods.map((p) => p.spec.containers[0].image as string);
        const ready = await readyPods("roll");
        return ready.length === 3 && images.every((i) => i === "navarch/demo:2") && pods.length === 3 ? true : undefined;
      },
      async () => JSON.stringify((await list("pods", "app=roll")).map((p) => [p.metadata.name, p.spec.containers[0].image, p.status?.phase])),
      1_000,
    );
    // A few more seconds of traffic on the new pods only, then stop the loop.
    await new Promise((r) => setTimeout(r, 3_000));
    inClient("touch /tmp/stop");
    await loop;
    const lines = inClient("cat /tmp/loop.out").split("\n").filter(Boolean);
    const failures = lines.filter((l) => !l.startsWith("demo v"));
    assert.deepEqual(failures, [], `${failures.length} of ${lines.length} requests failed during the rollout`);
    assert.ok(lines.some((l) => l.startsWith("demo v1")) && lines.some((l) => l.startsWith("demo v2")), "the loop did not span the rollout");
    assert.ok(lines.slice(-20).every((l) => l.startsWith("demo v2")), `old pods still answered at the end:\n${lines.slice(-20).join("\n")}`);
    console.log(`# ${lines.length} requests during the rollout, none failed (${lines.filter((l) => l.startsWith("demo v1")).length} v1, ${lines.filter((l) => l.startsWith("demo v2")).length} v2)`);
  });
});

function execFileAsync(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 240_000, maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
