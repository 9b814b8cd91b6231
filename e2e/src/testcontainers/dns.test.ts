// Cluster DNS end to end: a two-node testcontainers cluster (dns-1, dns-2) whose node agents each
// serve DNS on their address on the cluster's pod network, and busybox pods asking it.
//
// What it proves (issue 6, "DNS names resolve from inside pods"):
//   1. a pod's resolv.conf: Docker's embedded DNS (127.0.0.11, forwarding to the node's agent from
//      the pod's network namespace), the search path of the pod's namespace and ndots:5; a pod of
//      dnsPolicy Default keeps Docker's default
//   2. `nslookup SERVICE` (same namespace) and `nslookup SERVICE.NAMESPACE.svc.cluster.local`
//      (another namespace, the other node's agent) answer the ClusterIP
//   3. SERVICE.NAMESPACE: busybox's own nslookup applies the search path only to names without a
//      dot, so it is asked through glibc's resolver (static in Debian's busybox; resolv.conf's
//      search and ndots apply), with `wget` to the name: the demo pod behind the Service answers
//   4. `wget http://SERVICE/` from a pod reaches a demo pod (DNS, then the service proxy)
//   5. a headless Service's name answers the ready pod IPs, and follows a scale-up
//   6. an unknown name fails (NXDOMAIN at every step of the search path)
//
// Only names in the cluster domain are asked: a name outside it would be forwarded to the host's
// resolvers, which are not on this machine.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { assertServiceTrafficStaysLocal } from "@navarch/runtime";
import { startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
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
const NODES = ["dns-1", "dns-2"];
const NS = "shop";

after(stopAllClusters);

interface Json {
  metadata: { name: string; namespace: string; deletionTimestamp?: string };
  spec: Record<string, any>;
  status?: Record<string, any>;
  subsets?: { addresses?: { ip: string }[] }[];
}

function manifest(kind: string, apiVersion: string, name: string, namespace: string | undefined, spec: object): string {
  return JSON.stringify({ apiVersion, kind, metadata: namespace ? { name, namespace } : { name }, spec });
}

/** A busybox pod that sleeps, pinned to a node. */
function clientPod(name: string, namespace: string, node: string, dnsPolicy?: string): string {
  return manifest("Pod", "v1", name, namespace, {
    nodeName: node,
    containers: [{ name: "sh", image: "navarch/busybox:1", imagePullPolicy: "Never", command: ["sleep", "3600"] }],
    terminationGracePeriodSeconds: 0,
    ...(dnsPolicy ? { dnsPolicy } : {}),
  });
}

/** The "Address:" lines busybox's nslookup prints for the name (the server's own lines excluded). */
function addressesOf(nslookupOutput: string): string[] {
  const answer = nslookupOutput.split(/^Name:/m).slice(1).join("\n");
  return [...answer.matchAll(/^Address:\s*(\S+)/gm)].map((m) => m[1]!).sort();
}

describe("cluster DNS on a two-node testcontainers cluster", { skip }, () => {
  let cluster: Cluster;
  let webIP = "";

  const apply = async (text: string) => {
    const r = await cluster.navctl(["apply", "-f", "-"], { input: text });
    assert.equal(r.code, 0, `navctl apply failed: ${r.stderr}\n${text}`);
  };
  const get = async (kind: string, name: string, namespace = NS): Promise<Json | undefined> => {
    const r = await cluster.navctl(["get", kind, name, "-n", namespace, "-o", "json"]);
    return r.code === 0 ? (JSON.parse(r.stdout) as Json) : undefined;
  };
  const readyWebIPs = async () => {
    const r = await cluster.navctl(["get", "pods", "-n", NS, "-l", "app=web", "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { items: Json[] }).items
      .filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"))
      .map((p) => p.status!.podIP as string)
      .sort();
  };
  /** Runs a shell script in a client pod's container. */
  const inPod = (pod: string, namespace: string, node: string, script: string): string => {
    const [id] = podContainers(pod, node, { role: "app", namespace });
    assert.ok(id, `pod ${namespace}/${pod} has no running container on ${node}`);
    return docker(["exec", id, "sh", "-c", script], 60_000);
  };
  /**
   * busybox's nslookup: it asks the name under every search domain and exits 1 when any of them
   * failed, even when another one answered, so the exit code says nothing here: the output does.
   */
  const nslookup = (pod: string, namespace: string, node: string, name: string): string => inPod(pod, namespace, node, `nslookup ${name} 2>&1; true`);
  const diagnose = () => async () => {
    const r = await cluster.navctl(["get", "pods", "-A", "-o", "wide"]);
    const tail = (which: string) => `--- ${which} ---\n${cluster.logs(which).slice(-2_500)}`;
    return [r.stdout, r.stderr, ...NODES.map(tail), tail("control-plane")].join("\n");
  };
  const running = (name: string, namespace: string) =>
    waitUntil(`pod ${namespace}/${name} running`, 60_000, async () => ((await get("pod", name, namespace))?.status?.phase === "Running" ? true : undefined), diagnose());

  before(
    async () => {
      assert.ok(await ensureDemoImages(), "scripts/build-images.sh does not exist (demo images)");
      cluster = await startCluster({ nodes: 2, nodeNamePrefix: "dns-" });
      console.log(`# startCluster took ${cluster.startupMs} ms; services ${cluster.serviceClusterIPRange}`);
      await apply(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }));
      await apply(
        manifest("Deployment", "apps/v1", "web", NS, {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: {
              containers: [
                {
                  name: "web",
                  image: "navarch/demo:1",
                  imagePullPolicy: "Never",
                  ports: [{ name: "http", containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 1 },
                },
              ],
              terminationGracePeriodSeconds: 1,
            },
          },
        }),
      );
      await apply(manifest("Service", "v1", "web", NS, { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] }));
      await apply(manifest("Service", "v1", "db", NS, { clusterIP: "None", selector: { app: "web" }, ports: [{ name: "http", port: 8080 }] }));
      await apply(clientPod("client", NS, "dns-1"));
      await apply(clientPod("client", "default", "dns-2"));
      await apply(clientPod("plain", "default", "dns-2", "Default"));
      const web = await waitUntil("Service web with a cluster IP", 20_000, async () => (await get("service", "web"))?.spec.clusterIP || undefined);
      webIP = web as string;
      await Promise.all([running("client", NS), running("client", "default"), running("plain", "default")]);
      await waitUntil("2 ready web pods", 90_000, async () => ((await readyWebIPs()).length === 2 ? true : undefined), diagnose());
      for (const node of NODES) {
        await waitUntil(`${node}'s cluster DNS listening`, 30_000, () => (cluster.logs(node).includes("cluster DNS listening") ? true : undefined), diagnose());
      }
    },
    { timeout: 300_000 },
  );

  after(async () => cluster && (await cluster.stop()), { timeout: 120_000 });

  it("1. a ClusterFirst pod's resolv.conf has the namespace's search path and ndots:5; a Default pod keeps Docker's", () => {
    const conf = inPod("client", NS, "dns-1", "cat /etc/resolv.conf");
    assert.match(conf, /^nameserver 127\.0\.0\.11$/m, conf);
    assert.match(conf, /^search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m, conf);
    assert.match(conf, /^options ndots:5$/m, conf);
    const other = inPod("client", "default", "dns-2", "cat /etc/resolv.conf");
    assert.match(other, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m, other);
    const plain = inPod("plain", "default", "dns-2", "cat /etc/resolv.conf");
    assert.doesNotMatch(plain, /cluster\.local/, plain);
  });

  it("2. nslookup SERVICE (same namespace) and SERVICE.NAMESPACE.svc.cluster.local (another namespace) answer the ClusterIP", () => {
    const short = nslookup("client", NS, "dns-1", "web");
    assert.deepEqual(addressesOf(short), [webIP], short);
    assert.match(short, /^Name:\s+web\.shop\.svc\.cluster\.local$/m, short);
    const fqdn = nslookup("client", "default", "dns-2", "web.shop.svc.cluster.local");
    assert.deepEqual(addressesOf(fqdn), [webIP], fqdn);
    // From the other namespace the short name is another namespace's (none): not found.
    const elsewhere = nslookup("client", "default", "dns-2", "web");
    assert.deepEqual(addressesOf(elsewhere), [], elsewhere);
    assert.match(elsewhere, /server can't find web\.default\.svc\.cluster\.local: NXDOMAIN/, elsewhere);
  });

  it("3. SERVICE.NAMESPACE resolves through the search path (glibc's resolver, via wget) and reaches the Service", () => {
    const answer = inPod("client", "default", "dns-2", "wget -q -O - http://web.shop/ 2>&1 || echo ERR");
    assert.match(answer, /^demo v1 pod=web-/, answer);
  });

  it("4. wget http://SERVICE/ from a pod reaches a demo pod", async () => {
    // Packets to the ClusterIP follow: first make sure none of them can leave this host.
    const clusterIP = (await get("service", "web"))?.spec.clusterIP as string;
    assertServiceTrafficStaysLocal({ clusterIP, cidr: cluster.serviceClusterIPRange });
    const answers = inPod("client", NS, "dns-1", "for i in 1 2 3 4 5 6; do wget -q -O - http://web/ 2>&1 || echo ERR; done").split("\n").filter(Boolean);
    assert.equal(answers.length, 6, answers.join("\n"));
    for (const a of answers) assert.match(a, /^demo v1 pod=web-/, answers.join("\n"));
  });

  it("5. a headless Service's name answers the ready pod IPs, and follows a scale-up", async () => {
    const ips = await readyWebIPs();
    assert.equal(ips.length, 2);
    const before = nslookup("client", NS, "dns-1", "db.shop.svc.cluster.local");
    assert.deepEqual(addressesOf(before), ips, before);
    const scaled = await cluster.navctl(["scale", "deployment", "web", "-n", NS, "--replicas", "3"]);
    assert.equal(scaled.code, 0, scaled.stderr);
    const three = await waitUntil("3 ready web pods", 90_000, async () => {
      const now = await readyWebIPs();
      return now.length === 3 ? now : undefined;
    });
    let last = "";
    await waitUntil(
      "the headless name answers the 3 pod IPs (from both nodes' DNS)",
      15_000,
      () => {
        const answers = [nslookup("client", NS, "dns-1", "db"), nslookup("client", "default", "dns-2", "db.shop.svc.cluster.local")];
        last = answers.join("\n");
        return answers.every((out) => JSON.stringify(addressesOf(out)) === JSON.stringify(three)) ? true : undefined;
      },
      () => last,
      500,
    );
  });

  it("6. an unknown name is not found, at every step of the search path", () => {
    const short = nslookup("client", NS, "dns-1", "nope");
    assert.doesNotMatch(short, /^Name:/m, short);
    for (const tried of ["nope.shop.svc.cluster.local", "nope.svc.cluster.local", "nope.cluster.local"]) {
      assert.match(short, new RegExp(`server can't find ${tried.replaceAll(".", "\\.")}: NXDOMAIN`), short);
    }
    const fqdn = nslookup("client", NS, "dns-1", "nope.shop.svc.cluster.local");
    assert.doesNotMatch(fqdn, /^Name:/m, fqdn);
    assert.match(fqdn, /server can't find nope\.shop\.svc\.cluster\.local: NXDOMAIN/, fqdn);
  });
});
