// The node's network readiness end to end: a real nats-server, the real Docker engine, the whole
// agent (run()). The service proxy starts broken - its netfilter helper runs an image without nft,
// as on a machine whose images were built before nftables was installed - and then is fixed by
// rebuilding that image (here: re-tagging the real one), with the agent left running:
//   broken: ServiceProxyReady False (NftNotFound), a new pod waits (NetworkNotReady event, no
//           container), and the service range is refused on this host all the same
//   fixed:  ServiceProxyReady True, the pod starts, and the host reaches it through a ClusterIP
// Then the cluster DNS: told to listen on an address this host does not have yet, it is
// ClusterDNSReady False and pods wait; once the address exists, True and pods start.
//
// Packets: only the last steps of the proxy test send any, from the host and from the pod, to
// addresses of this test's service range, after asserting that the range's guard (and, for
// Service addresses, the proxy's table) is in place.
import { KINDS, type Endpoints, type Event, type Node, type Pod, type Service } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { DockerRuntime, GUARD_LOCAL_TABLE, GUARD_PROHIBIT_TABLE, NETFILTER_IMAGE, assertServiceTrafficStaysLocal, netfilterHelperName } from "@navarch/runtime";
import { clusterIdentity, connectNats, Informer, openNodePods, openPodStatusReports, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run, type RunningAgent } from "../run.js";
import { tableName } from "../service-proxy/reconcile.js";
import { CLUSTER_DNS_READY, SERVICE_PROXY_READY } from "./conditions.js";

const dockerOk = spawnSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 }).status === 0;
const imageOk = dockerOk && spawnSync("docker", ["run", "--rm", "--entrypoint", "/usr/sbin/nft", NETFILTER_IMAGE, "--version"], { stdio: "ignore" }).status === 0;
const skip = !dockerOk
  ? "Docker is not available"
  : !imageOk
    ? `${NETFILTER_IMAGE} is not built with nft (install nftables, then bash scripts/build-images.sh)`
    : process.getuid?.() !== 0
      ? "the routing rules and the test address need root"
      : false;

const id = randomBytes(3).toString("hex");
const NODE = `itest-net-${id}`;
const NETWORK = `navarch-itest-net-${id}`;
const BROKEN_IMAGE = `navarch-itest/netfilter-no-nft:${id}`;
// 10.254.0.0/16 carries no traffic here; each run takes a /24 of it (clear of proxy.integration's .250).
const OCTET = 1 + (parseInt(id, 16) % 200);
const RANGE = `10.254.${OCTET}.0/24`;
const CLUSTER_IP = `10.254.${OCTET}.10`;
const EMPTY_IP = `10.254.${OCTET}.11`;
const UNKNOWN_IP = `10.254.${OCTET}.12`;
// The DNS test's listen address: on no interface until the test adds it to lo.
const DNS_ADDRESS = `10.253.${OCTET}.53`;
const logger = createLogger("network-readiness-test", process.env.NAVARCH_TEST_LOG ? "debug" : "silent");

let dir: string;
let server: NatsServerProcess;
let nc: NatsConnection;
let nodes: ResourceStore<Node>;
let pods: ResourceStore<Pod>;
let nodePods: ResourceStore<Pod>;
let reports: ResourceStore<Pod>;
let events: Informer<Event>;
let cluster: string;

async function startAgent(options: Record<string, unknown>, runtime: DockerRuntime): Promise<{ stop: () => Promise<void>; agent: RunningAgent }> {
  const abort = new AbortController();
  let onReady!: (a: RunningAgent) => void;
  const ready = new Promise<RunningAgent>((r) => (onReady = r));
  const done = run({ nc, logger, signal: abort.signal, options: { nodeName: NODE, heartbeatSeconds: 0.25, resyncSeconds: 2, ...options }, runtime, onReady });
  const agent = await Promise.race([ready, done.then(() => Promise.reject(new Error("run() ended before it was ready")))]);
  return { agent, stop: () => (abort.abort(), Promise.race([done, new Promise<void>((r) => setTimeout(r, 10_000))])) };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function condition(type: string) {
  return (await nodes.get("", NODE))?.status?.conditions.find((c) => c.type === type);
}

function newPod(name: string): Pod {
  return KINDS.Pod.codec.fromPartial({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: randomUUID(), creationTimestamp: timestamp(), labels: { app: name } },
    spec: { nodeName: NODE, restartPolicy: "Always", terminationGracePeriodSeconds: 1, containers: [{ name: "web", image: "navarch/demo:1" }] },
  });
}

/** What the control plane's projector does for a bound pod. */
async function putPod(pod: Pod): Promise<void> {
  await pods.create(pod);
  await nodePods.create({ ...pod, metadata: { ...pod.metadata!, resourceVersion: "" } });
}

function containersOf(pod: string): string[] {
  return execFileSync("docker", ["ps", "-aq", "--filter", `label=navarch.node=${NODE}`, "--filter", `label=navarch.pod.name=${pod}`], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
}

async function runningIP(pod: string): Promise<string> {
  return until(`pod ${pod} running`, async () => {
    const r = await reports.get("default", pod);
    return r?.status?.containerStatuses[0]?.state?.running && r.status.podIP ? r.status.podIP : undefined;
  });
}

/** The pod waits: an event says why, its container is not made. */
async function assertWaits(pod: string, reason: RegExp): Promise<void> {
  const event = await until(`a NetworkNotReady event of ${pod}`, () => events.list("default").find((e) => e.involvedObject?.name === pod && e.reason === "NetworkNotReady"));
  assert.match(event.message, reason);
  assert.equal(event.type, "Warning");
  // Some time for a container to appear if the gate did not hold (none must).
  await new Promise((r) => setTimeout(r, 1_500));
  assert.deepEqual(containersOf(pod), [], `pod ${pod} got a container although the node's network is not ready`);
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "navarch-network-readiness-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "network-readiness-test" });
  nodes = await ResourceStore.open(nc, KINDS.Node);
  pods = await ResourceStore.open(nc, KINDS.Pod);
  nodePods = await openNodePods(nc, NODE);
  reports = await openPodStatusReports(nc);
  events = new Informer(await ResourceStore.open<Event>(nc, KINDS.Event), nc);
  await events.start();
  cluster = (await clusterIdentity(nc)).id;
  // The helper image as a machine without nftables builds it: the real one minus nft.
  const maker = `navarch-itest-no-nft-${id}`;
  execFileSync("docker", ["run", "--name", maker, "--entrypoint", "/bin/rm", NETFILTER_IMAGE, "/usr/sbin/nft"], { stdio: "ignore" });
  const entrypoint = execFileSync("docker", ["image", "inspect", "-f", "{{json .Config.Entrypoint}}", NETFILTER_IMAGE], { encoding: "utf8" }).trim();
  execFileSync("docker", ["commit", "--change", `ENTRYPOINT ${entrypoint}`, maker, BROKEN_IMAGE], { stdio: "ignore" });
  spawnSync("docker", ["rm", "-f", maker], { stdio: "ignore" });
});

after(async () => {
  if (skip) return;
  const ids = execFileSync("docker", ["ps", "-aq", "--filter", `label=navarch.node=${NODE}`], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
  if (ids.length) spawnSync("docker", ["rm", "-f", ...ids], { stdio: "ignore" });
  spawnSync("docker", ["rm", "-f", netfilterHelperName(NODE)], { stdio: "ignore" });
  spawnSync("docker", ["network", "rm", NETWORK], { stdio: "ignore" });
  spawnSync("docker", ["rmi", BROKEN_IMAGE], { stdio: "ignore" });
  spawnSync("ip", ["addr", "del", `${DNS_ADDRESS}/32`, "dev", "lo"], { stdio: "ignore" });
  // This test's range only: the guard of other ranges (other clusters on this host) stays.
  spawnSync("ip", ["rule", "del", "to", RANGE, "iif", "lo", "table", String(GUARD_LOCAL_TABLE)], { stdio: "ignore" });
  spawnSync("ip", ["rule", "del", "to", RANGE, "table", String(GUARD_PROHIBIT_TABLE)], { stdio: "ignore" });
  spawnSync("ip", ["route", "del", "local", RANGE, "table", String(GUARD_LOCAL_TABLE)], { stdio: "ignore" });
  spawnSync("ip", ["route", "del", "prohibit", RANGE, "table", String(GUARD_PROHIBIT_TABLE)], { stdio: "ignore" });
  events?.stop();
  await nc?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the node's network readiness", { skip }, () => {
  test("a broken service proxy: condition False, pods wait, the range stays local; fixed: True, pods start, ClusterIP works", async () => {
    const runtime = new DockerRuntime({ network: NETWORK, podSubnet: undefined, netfilterImage: BROKEN_IMAGE, logger, cluster });
    const { stop } = await startAgent({ clusterDns: false, serviceClusterIPRange: RANGE }, runtime);
    try {
      const broken = await until("ServiceProxyReady False with NftNotFound", async () => {
        const c = await condition(SERVICE_PROXY_READY);
        return c?.reason === "NftNotFound" ? c : undefined;
      });
      assert.equal(broken.status, "False");
      assert.match(broken.message, /nft not found/);
      // A DNS disabled by option is said so, and is not waited for.
      const dnsOff = await condition(CLUSTER_DNS_READY);
      assert.equal(dnsOff?.status, "False");
      assert.equal(dnsOff?.reason, "Disabled");

      // The guard does not need nft: the host's own packets for the range go to loopback, and a
      // packet coming from any interface (a pod's, through the bridge) is refused.
      assertServiceTrafficStaysLocal({ clusterIP: CLUSTER_IP, cidr: RANGE });
      const bridge = (await runtime.hostNetfilter(NODE).podBridge()).device;
      const forwarded = spawnSync("ip", ["route", "get", CLUSTER_IP, "from", "10.254.0.1", "iif", bridge], { encoding: "utf8" });
      assert.notEqual(forwarded.status, 0, `a forwarded packet to ${CLUSTER_IP} was routed: ${forwarded.stdout}`);
      assert.match(forwarded.stderr, /Permission denied|prohibit/i);

      await putPod(newPod("web"));
      await assertWaits("web", /service proxy not ready \(NftNotFound\)/);

      // The fix: the image rebuilt with nft. The agent picks it up without a restart.
      execFileSync("docker", ["tag", NETFILTER_IMAGE, BROKEN_IMAGE]);
      const fixed = await until("ServiceProxyReady True", async () => ((await condition(SERVICE_PROXY_READY))?.status === "True" ? condition(SERVICE_PROXY_READY) : undefined));
      assert.equal(fixed?.reason, "RulesWritten");
      const podIP = await runningIP("web");

      // A Service for it: the host reaches it through the ClusterIP (from 127.0.0.1, DNATed).
      const services = await ResourceStore.open<Service>(nc, KINDS.Service);
      const endpointsStore = await ResourceStore.open<Endpoints>(nc, KINDS.Endpoints);
      await services.create(
        KINDS.Service.codec.fromPartial({
          apiVersion: "v1",
          kind: "Service",
          metadata: { namespace: "default", name: "web" },
          spec: { clusterIP: CLUSTER_IP, type: "ClusterIP", ports: [{ port: 80, targetPort: "8080", protocol: "TCP" }] },
        }),
      );
      await endpointsStore.create(
        KINDS.Endpoints.codec.fromPartial({
          apiVersion: "v1",
          kind: "Endpoints",
          metadata: { namespace: "default", name: "web" },
          subsets: [{ addresses: [{ ip: podIP }], ports: [{ port: 8080, protocol: "TCP" }] }],
        }),
      );
      await until("the proxy's table has the ClusterIP", () => {
        try {
          assertServiceTrafficStaysLocal({ clusterIP: CLUSTER_IP, cidr: RANGE, table: tableName(NODE) });
          return true;
        } catch {
          return false;
        }
      });
      const answer = await fetch(`http://${CLUSTER_IP}/`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text());
      assert.match(answer, /demo v1 pod=web/);

      // From the pod: its Service answers; a Service without endpoints refuses (the table's
      // reject, before routing); an address of the range that no Service has is refused by the
      // guard ("no route"), where before it left the host through the default route.
      await services.create(
        KINDS.Service.codec.fromPartial({
          apiVersion: "v1",
          kind: "Service",
          metadata: { namespace: "default", name: "nobody" },
          spec: { clusterIP: EMPTY_IP, type: "ClusterIP", ports: [{ port: 80, targetPort: "8080", protocol: "TCP" }] },
        }),
      );
      await until("the proxy's table has the empty Service", () => {
        try {
          assertServiceTrafficStaysLocal({ clusterIP: EMPTY_IP, cidr: RANGE, table: tableName(NODE) });
          return true;
        } catch {
          return false;
        }
      });
      assertServiceTrafficStaysLocal({ clusterIP: UNKNOWN_IP, cidr: RANGE });
      const app = execFileSync("docker", ["ps", "-q", "--filter", `label=navarch.node=${NODE}`, "--filter", "label=navarch.pod.name=web", "--filter", "label=navarch.container.role=app"], { encoding: "utf8" }).trim();
      const wget = (ip: string) => spawnSync("docker", ["exec", app, "sh", "-c", `wget -q -O - http://${ip}/ 2>&1; echo "exit $?"`], { encoding: "utf8", timeout: 30_000 }).stdout;
      assert.match(wget(CLUSTER_IP), /demo v1 pod=web/);
      assert.match(wget(EMPTY_IP), /Connection refused[\s\S]*exit 1/);
      assert.match(wget(UNKNOWN_IP), /No route to host[\s\S]*exit 1/);
      // From the host, the empty Service refuses too (the table's output chain).
      const fromHost = await fetch(`http://${EMPTY_IP}/`, { signal: AbortSignal.timeout(10_000) }).then(
        () => "answered",
        (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? String(err),
      );
      assert.equal(fromHost, "ECONNREFUSED");
    } finally {
      await stop();
    }
  });

  test("cluster DNS not listening yet: condition False, pods wait; listening: True, pods start", async () => {
    const runtime = new DockerRuntime({ network: NETWORK, podSubnet: undefined, logger, cluster });
    const { stop } = await startAgent({ serviceProxy: false, clusterDnsAddress: DNS_ADDRESS, clusterDnsUpstreams: "none" }, runtime);
    try {
      const notYet = await until("ClusterDNSReady False with NotListening", async () => {
        const c = await condition(CLUSTER_DNS_READY);
        return c?.reason === "NotListening" ? c : undefined;
      });
      assert.equal(notYet.status, "False");
      const proxyOff = await condition(SERVICE_PROXY_READY);
      assert.equal(proxyOff?.reason, "Disabled");

      await putPod(newPod("client"));
      await assertWaits("client", /cluster DNS not ready \(NotListening\)/);

      execFileSync("ip", ["addr", "add", `${DNS_ADDRESS}/32`, "dev", "lo"]);
      const ready = await until("ClusterDNSReady True", async () => ((await condition(CLUSTER_DNS_READY))?.status === "True" ? condition(CLUSTER_DNS_READY) : undefined), 60_000);
      assert.equal(ready?.reason, "Listening");
      assert.match(ready?.message ?? "", new RegExp(DNS_ADDRESS.replaceAll(".", "\\.")));
      await runningIP("client");
      // The pod got the cluster DNS as its resolver, not the runtime's default (Docker's embedded
      // DNS at 127.0.0.11 forwards to the servers a container was given).
      const given = containersOf("client").flatMap((c) => JSON.parse(execFileSync("docker", ["inspect", "-f", "{{json .HostConfig.Dns}}", c], { encoding: "utf8" })) ?? []);
      assert.deepEqual(given, [DNS_ADDRESS]);
    } finally {
      await stop();
    }
  });
});
