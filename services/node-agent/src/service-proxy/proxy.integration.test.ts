// The service proxy against a real nats-server and the real Docker engine's HostNetfilter: Service
// and Endpoints writes become the node's nftables table in the host's netfilter (read back with the
// host's nft), endpoint changes follow within about a second, and a stop leaves nothing behind.
// The table's addresses (10.254.250.0/24) carry no traffic; its pod-side rules match only this
// test's own pod network bridge.
import { KINDS, type Endpoints, type Service } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { DockerRuntime, NETFILTER_IMAGE, netfilterHelperName } from "@navarch/runtime";
import { connectNats, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { openServiceInformers, type ServiceInformers } from "../cluster-dns/service-informers.js";
import { ServiceProxy } from "./proxy.js";
import { tableName } from "./reconcile.js";
import { endpoints, service } from "./testing.js";

const NFT = ["/usr/sbin/nft", "/sbin/nft"].find((p) => existsSync(p));
const dockerOk = spawnSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 }).status === 0;
const imageOk = dockerOk && spawnSync("docker", ["image", "inspect", NETFILTER_IMAGE], { stdio: "ignore" }).status === 0;
const skip = !dockerOk
  ? "Docker is not available"
  : !imageOk
    ? `${NETFILTER_IMAGE} is not built (bash scripts/build-images.sh)`
    : !NFT || process.getuid?.() !== 0
      ? "reading the host's table needs nft and root"
      : false;

const id = randomBytes(3).toString("hex");
const NODE = `itest-svc-${id}`;
const NETWORK = `navarch-itest-svc-${id}`;
const logger = createLogger("test", "error");

/** The node's table as the host's nft prints it, or "" when it does not exist. */
function hostTable(): string {
  const r = spawnSync(NFT!, ["list", "table", "ip", tableName(NODE)], { encoding: "utf8" });
  return r.status === 0 ? r.stdout : "";
}

async function until<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`${what}: not within ${timeoutMs} ms\n${hostTable()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("service proxy on the host's netfilter", { skip }, () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let services: ResourceStore<Service>;
  let eps: ResourceStore<Endpoints>;
  let informers: ServiceInformers | undefined;
  let proxy: ServiceProxy | undefined;
  const runtime = new DockerRuntime({ network: NETWORK, cluster: `proxy-test-${NODE}` });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-svc-proxy-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "service-proxy-test" });
    services = await ResourceStore.open<Service>(nc, KINDS.Service);
    eps = await ResourceStore.open<Endpoints>(nc, KINDS.Endpoints);
  });

  after(async () => {
    await proxy?.stop().catch(() => undefined);
    informers?.stop();
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    spawnSync("docker", ["rm", "-f", netfilterHelperName(NODE)], { stdio: "ignore" });
    spawnSync("docker", ["network", "rm", NETWORK], { stdio: "ignore" });
    if (NFT) spawnSync(NFT, ["-f", "-"], { input: `table ip ${tableName(NODE)}\ndelete table ip ${tableName(NODE)}\n`, stdio: ["pipe", "ignore", "ignore"] });
  });

  it("writes the table, follows endpoint changes within about a second, and removes everything on stop", { timeout: 120_000 }, async () => {
    await services.create(service("default", "web", { clusterIP: "10.254.250.10", type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30777 }] }));
    await eps.create(endpoints("default", "web", [{ ready: ["172.31.250.2"], ports: [{ name: "http", port: 8080 }] }]));

    informers = await openServiceInformers(nc, 1, logger);
    const { services: serviceInformer, endpoints: endpointsInformer } = informers;
    proxy = new ServiceProxy({ node: NODE, nodeAddress: "127.0.0.1", services: serviceInformer, endpoints: endpointsInformer, netfilter: runtime.hostNetfilter(NODE), logger, resyncMs: 2_000 });
    proxy.start();
    const first = await until("the first table", 30_000, () => (/dnat (ip )?to 172\.31\.250\.2:8080/.test(hostTable()) ? hostTable() : undefined));
    assert.match(first, /10\.254\.250\.10 \. tcp \. 80 : goto svc_default_web_http_tcp/);
    assert.match(first, /tcp \. 30777 : goto svc_default_web_http_tcp/);

    // The pod bridge got route_localnet (NodePorts on 127.0.0.1 need it), on that device only.
    const bridge = await runtime.hostNetfilter(NODE).podBridge();
    assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${bridge.device}/route_localnet`, "utf8").trim(), "1");
    assert.match(first, new RegExp(`iifname "${bridge.device}"`));

    // An endpoint change reaches the kernel within about a second (coalescing 50 ms + two execs).
    const t0 = Date.now();
    await eps.modify("default", "web", (e) => ({ ...e, subsets: endpoints("default", "web", [{ ready: ["172.31.250.2", "172.31.250.3"], ports: [{ name: "http", port: 8080 }] }]).subsets }));
    await until("the second endpoint in the table", 10_000, () => (/numgen random mod 2/.test(hostTable()) ? true : undefined));
    console.log(`# endpoint change -> kernel table: ${Date.now() - t0} ms`);

    // No ready endpoint: refused instead of DNATed.
    await eps.modify("default", "web", (e) => ({ ...e, subsets: endpoints("default", "web", [{ notReady: ["172.31.250.2"], ports: [{ name: "http", port: 8080 }] }]).subsets }));
    const empty = await until("the service in the no-endpoint sets", 10_000, () => (/elements = \{ 10\.254\.250\.10 \. tcp \. 80 \}/.test(hostTable()) ? hostTable() : undefined));
    assert.doesNotMatch(empty, /chain svc_default_web_http_tcp/);

    // A table removed behind the proxy's back (a firewall reload, an operator) comes back with the
    // next resync (2 s here), although nothing changed in the API.
    execFileSync(NFT!, ["delete", "table", "ip", tableName(NODE)]);
    assert.equal(hostTable(), "");
    await until("the table written again by the resync", 10_000, () => (hostTable() ? true : undefined));

    await proxy.stop();
    proxy = undefined;
    assert.equal(hostTable(), "", "the table is still there after stop");
    const helpers = execFileSync("docker", ["ps", "-aq", "--filter", `name=^${netfilterHelperName(NODE)}$`], { encoding: "utf8" }).trim();
    assert.equal(helpers, "", "the netfilter helper is still there after stop");
  });
});
