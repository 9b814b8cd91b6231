// The ingress controller end to end (issue 6, "an Ingress routes two hosts to two services"): a
// one-node testcontainers cluster (ing-1), demo pods of two versions behind two Services, and an
// ordinary networking.k8s.io/v1 Ingress applied with `navctl apply -f <file>.yaml`. The control
// plane's ingress listens on its port 8080, published on 127.0.0.1, and proxies straight to the
// pods' IPs on the cluster's pod network; requests from this host pick the service by Host header.
//
// What it proves:
//   1. one.example reaches the demo:1 pods (round-robin over both), two.example the demo:2 pod
//      (its backend named by port name), another host 404
//   2. the Ingress gets status.loadBalancer 127.0.0.1, and `navctl get/describe ingress` print
//      it as kubectl does, with the backends' pod IPs
//   3. routes follow the Endpoints: a pod gone from two's Endpoints means 503 for two.example,
//      and traffic comes back when a new ready pod appears
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
import { waitUntil } from "./pods-helpers.js";

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

after(stopAllClusters);

// The Kubernetes documentation's name-based virtual hosting example, as a user would write it.
const INGRESS_YAML = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: name-virtual-host-ingress
  namespace: default
spec:
  rules:
  - host: one.example
    http:
      paths:
      - pathType: Prefix
        path: "/"
        backend:
          service:
            name: one
            port:
              number: 80
  - host: two.example
    http:
      paths:
      - pathType: Prefix
        path: "/"
        backend:
          service:
            name: two
            port:
              name: web
`;

/** A demo pod (no Deployment: the scheduler binds it) that is Ready once it serves /ready. */
function demoPod(name: string, app: string, image: string): string {
  return `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: default
  labels:
    app: ${app}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: ${image}
    imagePullPolicy: Never
    ports:
    - name: http
      containerPort: 8080
    readinessProbe:
      httpGet:
        path: /ready
        port: http
      periodSeconds: 1
`;
}

function service(name: string, portName: string): string {
  return `---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
spec:
  selector:
    app: ${name}
  ports:
  - name: ${portName}
    port: 80
    targetPort: http
`;
}

/** One GET to the ingress on a fresh connection with this Host header: "<status> <body>". */
function viaIngress(cluster: Cluster, host: string, urlPath = "/"): Promise<string> {
  const [address, port] = cluster.ingressAddr.split(":");
  return new Promise((resolve) => {
    const req = http.get({ host: address, port: Number(port), path: urlPath, headers: { host }, agent: false, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve(`${res.statusCode} ${body.trim()}`));
      res.on("error", (e: NodeJS.ErrnoException) => resolve(`ERR ${e.code ?? e.message}`));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(`ERR ${e.code ?? e.message}`));
  });
}

describe("ingress on a testcontainers cluster", { skip }, () => {
  let cluster: Cluster;
  let dir = "";

  const navctl = async (args: string[], input?: string) => {
    const r = await cluster.navctl(args, { input });
    assert.equal(r.code, 0, `navctl ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  };
  const readyIPs = async (name: string): Promise<string[]> => {
    const r = await cluster.navctl(["get", "endpoints", name, "-o", "json"]);
    if (r.code !== 0) return [];
    const ep = JSON.parse(r.stdout) as { subsets?: { addresses?: { ip: string }[] }[] };
    return (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
  };
  const diagnose = async () => {
    const pods = await cluster.navctl(["get", "pods", "-o", "wide"]);
    return `${pods.stdout}${pods.stderr}\n--- control-plane ---\n${cluster.logs("control-plane").slice(-3_000)}\n--- ing-1 ---\n${cluster.logs("ing-1").slice(-2_000)}`;
  };

  before(
    async () => {
      assert.ok(await ensureDemoImages(), "scripts/build-images.sh does not exist (demo images)");
      cluster = await startCluster({ nodes: 1, nodeNamePrefix: "ing-" });
      console.log(`# startCluster took ${cluster.startupMs} ms; ingress on ${cluster.ingressAddr}`);
      dir = mkdtempSync(path.join(tmpdir(), "navarch-e2e-ingress-"));
      writeFileSync(path.join(dir, "ingress.yaml"), INGRESS_YAML);
      await navctl(["apply", "-f", "-"], [demoPod("one-a", "one", "navarch/demo:1"), demoPod("one-b", "one", "navarch/demo:1"), demoPod("two-a", "two", "navarch/demo:2"), service("one", "http"), service("two", "web")].join(""));
      const out = await navctl(["apply", "-f", path.join(dir, "ingress.yaml")]);
      assert.match(out, /ingress\.networking\.k8s\.io\/name-virtual-host-ingress created/);
      await waitUntil("two ready pods behind one, one behind two", 120_000, async () => ((await readyIPs("one")).length === 2 && (await readyIPs("two")).length === 1 ? true : undefined), diagnose);
    },
    { timeout: 300_000 },
  );

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("routes two hosts to two services, over every ready pod of each", { timeout: 60_000 }, async () => {
    const one = await waitUntil("one.example answered by demo v1", 30_000, async () => {
      const r = await viaIngress(cluster, "one.example");
      return r.startsWith("200 demo v1 ") ? r : undefined;
    }, diagnose);
    assert.match(one, /^200 demo v1 pod=one-[ab]$/);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await viaIngress(cluster, "one.example", `/?i=${i}`));
    assert.deepEqual([...new Set(answers)].sort(), ["200 demo v1 pod=one-a", "200 demo v1 pod=one-b"], "both pods of one answer");
    assert.equal(await viaIngress(cluster, "two.example"), "200 demo v2 pod=two-a");
    assert.equal(await viaIngress(cluster, "TWO.example:80"), "200 demo v2 pod=two-a", "the host matches without case or port");
    assert.equal(await viaIngress(cluster, "three.example"), "404 404 Not Found");
  });

  it("writes the Ingress's status and prints it as kubectl does", { timeout: 60_000 }, async () => {
    const row = await waitUntil("ADDRESS 127.0.0.1 in get ingress", 20_000, async () => {
      const out = await navctl(["get", "ingress"]);
      return /127\.0\.0\.1/.test(out) ? out : undefined;
    });
    const [header, line] = row.trim().split("\n");
    assert.deepEqual(header!.split(/\s{2,}/), ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
    assert.deepEqual(line!.split(/\s{2,}/).slice(0, 5), ["name-virtual-host-ingress", "<none>", "one.example,two.example", "127.0.0.1", "80"]);
    const described = await navctl(["describe", "ing", "name-virtual-host-ingress"]);
    const [twoIP] = await readyIPs("two");
    assert.match(described, /\nAddress: +127\.0\.0\.1\n/);
    assert.match(described, /\n {2}two\.example\n +\/ +two:web \(([\d.]+):8080\)\n/);
    assert.ok(described.includes(`two:web (${twoIP}:8080)`), described);
    for (const ip of await readyIPs("one")) assert.ok(described.includes(`${ip}:8080`), `${ip} of one in:\n${described}`);
  });

  it("follows the Endpoints: no ready pod is 503, a new one takes traffic again", { timeout: 120_000 }, async () => {
    await navctl(["delete", "pod", "two-a", "--wait=false"]); // the pod leaves the Endpoints as soon as it is terminating
    await waitUntil("503 for two.example", 30_000, async () => ((await viaIngress(cluster, "two.example")) === "503 503 Service Unavailable" ? true : undefined), diagnose);
    assert.match(await viaIngress(cluster, "one.example"), /^200 demo v1 /, "the other host is untouched");
    await navctl(["apply", "-f", "-"], demoPod("two-b", "two", "navarch/demo:2"));
    await waitUntil("two.example answered by two-b", 90_000, async () => ((await viaIngress(cluster, "two.example")) === "200 demo v2 pod=two-b" ? true : undefined), diagnose);
  });
});
