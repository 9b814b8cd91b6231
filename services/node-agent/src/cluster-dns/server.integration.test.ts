// The cluster DNS server on 127.0.0.1 (a random port), fed by real Service and Endpoints informers
// on a real nats-server, asked over UDP and TCP with dns-packet as the client.
import { KINDS, type Endpoints, type Pod, type Service } from "@navarch/api";
import { silentLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import type { ContainerRuntime } from "@navarch/runtime";
import { connectNats, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import packet, { type Answer, type DecodedPacket, type RecordType } from "dns-packet";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ClusterDns } from "./cluster-dns.js";
import { Forwarder, withLength } from "./forward.js";
import { DnsServer } from "./server.js";
import { openServiceInformers, type ServiceInformers } from "./service-informers.js";
import { endpoints, service, viewOf } from "./testing.js";

let dir: string;
let nats: NatsServerProcess;
let nc: NatsConnection;
let services: ResourceStore<Service>;
let endpointsStore: ResourceStore<Endpoints>;
let informers: ServiceInformers;
let server: DnsServer;
let port: number;
let upstream: DnsServer;
let upstreamPort: number;

let nextId = 1;

function query(name: string, type: RecordType | "ANY" = "A", edns?: number): Buffer {
  return packet.encode({
    type: "query",
    id: nextId++,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as RecordType }],
    additionals: edns ? [{ type: "OPT", name: ".", udpPayloadSize: edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });
}

type Reply = DecodedPacket & { rcode: string };

function askUdp(p: number, message: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no UDP answer within 3 s"));
    }, 3_000);
    socket.on("message", (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(packet.decode(reply) as Reply);
    });
    socket.send(message, p, "127.0.0.1");
  });
}

function askTcp(p: number, messages: Buffer[]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port: p });
    const replies: Reply[] = [];
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${replies.length} of ${messages.length} TCP answers within 3 s`));
    }, 3_000);
    // Sent in one write: the server must split the frames itself.
    socket.on("connect", () => socket.write(Buffer.concat(messages.map(withLength))));
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        replies.push(packet.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))) as Reply);
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
      if (replies.length === messages.length) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
  });
}

const data = (answers: Answer[] | undefined) => (answers ?? []).map((a) => `${a.type} ${String((a as { data: unknown }).data)}`);

/** Asks until the answer's rcode and records are `expected` (the informers follow the store). */
async function until(name: string, expected: string, type: RecordType = "A"): Promise<Reply> {
  let last = "";
  for (let i = 0; i < 100; i++) {
    const r = await askUdp(port, query(name, type));
    last = [r.rcode, ...data(r.answers)].join(" ");
    if (last === expected) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`${name}: expected "${expected}", last answer "${last}"`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-cluster-dns-test-"));
  nats = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: nats.url, name: "cluster-dns-test" });
  services = await ResourceStore.open(nc, KINDS.Service);
  endpointsStore = await ResourceStore.open(nc, KINDS.Endpoints);
  await services.create(service("default", "web", { clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80 }] }));
  informers = await openServiceInformers(nc, 1, silentLogger);
  // The upstream: another authoritative server, for a domain of its own.
  upstream = new DnsServer({ domain: "upstream.test", view: viewOf([service("default", "up", { clusterIP: "10.1.2.3" })]), logger: silentLogger });
  upstreamPort = await upstream.listen("127.0.0.1", 0);
  server = new DnsServer({
    domain: "cluster.local",
    view: {
      service: (ns, name) => informers.services.get(ns, name),
      endpoints: (ns, name) => informers.endpoints.get(ns, name),
      hasServices: (ns) => informers.services.list(ns).length > 0,
    },
    forwarder: new Forwarder([{ host: "127.0.0.1", port: upstreamPort }]),
    logger: silentLogger,
  });
  port = await server.listen("127.0.0.1", 0);
});

after(async () => {
  await server?.close();
  await upstream?.close();
  informers?.stop();
  await nc?.close();
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("cluster DNS server", () => {
  test("UDP: a Service's name answers its ClusterIP, authoritatively, with the query's ID and question", async () => {
    const q = query("web.default.svc.cluster.local");
    const r = await askUdp(port, q);
    assert.equal(r.id, packet.decode(q).id);
    assert.equal(r.type, "response");
    assert.equal(r.rcode, "NOERROR");
    assert.equal(r.flag_aa, true);
    assert.equal(r.flag_rd, true, "RD is copied from the query");
    assert.equal(r.flag_ra, true, "recursion is available: there is an upstream");
    assert.deepEqual(r.questions, [{ name: "web.default.svc.cluster.local", type: "A", class: "IN" }]);
    assert.deepEqual(data(r.answers), ["A 10.96.0.10"]);
  });

  test("an unknown name: NXDOMAIN with the zone's SOA in the authority section", async () => {
    const r = await askUdp(port, query("nope.default.svc.cluster.local"));
    assert.equal(r.rcode, "NXDOMAIN");
    assert.deepEqual(r.answers, []);
    assert.deepEqual(
      r.authorities?.map((a) => a.type),
      ["SOA"],
    );
  });

  test("follows the store: a Service created, its headless Endpoints changing, the Service deleted", async () => {
    await until("api.shop.svc.cluster.local", "NXDOMAIN");
    await services.create(service("shop", "api", { clusterIP: "None", ports: [{ name: "grpc", port: 9000 }] }));
    await until("api.shop.svc.cluster.local", "NOERROR");
    const e = await endpointsStore.create(endpoints("shop", "api", [{ ready: ["172.25.0.2"], notReady: ["172.25.0.3"], ports: [{ name: "grpc", port: 9000 }] }]));
    await until("api.shop.svc.cluster.local", "NOERROR A 172.25.0.2");
    await endpointsStore.update({ ...e, subsets: [{ ...e.subsets[0]!, addresses: [{ ...e.subsets[0]!.addresses[0]!, ip: "172.25.0.2" }, { ...e.subsets[0]!.addresses[0]!, ip: "172.25.0.3" }], notReadyAddresses: [] }] });
    await until("api.shop.svc.cluster.local", "NOERROR A 172.25.0.2 A 172.25.0.3");
    await services.delete("shop", "api");
    await until("api.shop.svc.cluster.local", "NXDOMAIN");
  });

  test("an answer too big for UDP is truncated; over TCP it comes whole", async () => {
    const ips = Array.from({ length: 20 }, (_, i) => `172.25.1.${i + 1}`);
    await services.create(service("big", "many", { clusterIP: "None" }));
    await endpointsStore.create(endpoints("big", "many", [{ ready: ips, ports: [{ port: 80 }] }]));
    const name = "many.big.svc.cluster.local";
    let udp: Reply | undefined;
    for (let i = 0; i < 100 && !udp?.flag_tc; i++) {
      udp = await askUdp(port, query(name));
      if (!udp.flag_tc) await new Promise((res) => setTimeout(res, 50));
    }
    // dns-packet does not compress names: each A record here takes 42 bytes.
    assert.equal(udp?.flag_tc, true, "20 A records do not fit 512 bytes");
    assert.deepEqual(udp?.answers, []);
    // With EDNS the client offers more room: 20 A records fit in 1232 bytes.
    const edns = await askUdp(port, query(name, "A", 4096));
    assert.equal(edns.flag_tc, false);
    assert.equal(edns.answers?.length, 20);
    assert.deepEqual(
      edns.additionals?.map((a) => a.type),
      ["OPT"],
      "an EDNS query gets an OPT record back",
    );
    const [tcp, second] = await askTcp(port, [query(name), query("web.default.svc.cluster.local")]);
    assert.equal(tcp!.flag_tc, false);
    assert.deepEqual(
      data(tcp!.answers).sort(),
      ips.map((ip) => `A ${ip}`).sort(),
    );
    assert.deepEqual(data(second!.answers), ["A 10.96.0.10"], "two queries on one connection");
  });

  test("names outside the cluster domain are forwarded, over UDP and over TCP", async () => {
    const viaUdp = await askUdp(port, query("up.default.svc.upstream.test"));
    assert.equal(viaUdp.rcode, "NOERROR");
    assert.deepEqual(data(viaUdp.answers), ["A 10.1.2.3"]);
    const [viaTcp] = await askTcp(port, [query("up.default.svc.upstream.test")]);
    assert.deepEqual(data(viaTcp!.answers), ["A 10.1.2.3"]);
    // The upstream's own refusal comes back as it is.
    const refused = await askUdp(port, query("elsewhere.example"));
    assert.equal(refused.rcode, "REFUSED");
    assert.ok(server.stats.forwarded >= 3);
  });

  test("without upstreams they are refused; with a dead upstream, SERVFAIL", async () => {
    const alone = new DnsServer({ domain: "cluster.local", view: viewOf([]), logger: silentLogger });
    const alonePort = await alone.listen("127.0.0.1", 0);
    try {
      const r = await askUdp(alonePort, query("up.default.svc.upstream.test"));
      assert.equal(r.rcode, "REFUSED");
      assert.equal(r.flag_ra, false);
      alone.forwarder = new Forwarder([{ host: "127.0.0.1", port: 9 }], 200);
      const dead = await askUdp(alonePort, query("up.default.svc.upstream.test"));
      assert.equal(dead.rcode, "SERVFAIL");
    } finally {
      await alone.close();
    }
  });

  test("garbage gets FORMERR, a response sent to the server gets nothing, other opcodes NOTIMP", async () => {
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
    const r = await askUdp(port, garbage);
    assert.equal(r.id, 0x1234);
    assert.equal(r.rcode, "FORMERR");
    assert.equal(await server.answer(packet.encode({ type: "response", id: 7, questions: [{ name: "web.default.svc.cluster.local", type: "A" }] }), "udp"), undefined);
    const notify = query("cluster.local", "SOA");
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2); // opcode 4: NOTIFY
    assert.equal((packet.decode((await server.answer(notify, "udp"))!) as Reply).rcode, "NOTIMP");
  });
});

describe("cluster DNS on a node", () => {
  const pod = KINDS.Pod.codec.fromPartial({ metadata: { namespace: "shop", name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } }) as Pod;

  test("at an explicit address: listens there, and pods are pointed at it", async () => {
    const dns = new ClusterDns({
      domain: "cluster.local",
      address: "127.0.0.1",
      port: 0,
      upstreams: "none",
      runtime: {} as ContainerRuntime,
      services: informers.services,
      endpoints: informers.endpoints,
      logger: silentLogger,
    });
    dns.start();
    try {
      assert.deepEqual(await dns.podDns(pod), { servers: ["127.0.0.1"], searches: ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], options: ["ndots:5"] });
      const r = await askUdp(dns.server.port!, query("web.default.svc.cluster.local"));
      assert.deepEqual(data(r.answers), ["A 10.96.0.10"]);
      assert.equal((await askUdp(dns.server.port!, query("example.com"))).rcode, "REFUSED", "upstreams none");
    } finally {
      await dns.stop();
    }
  });

  test("bad settings fail the start, naming the variable", () => {
    const base = { domain: "cluster.local", address: "", upstreams: "", runtime: {} as ContainerRuntime, services: informers.services, endpoints: informers.endpoints, logger: silentLogger };
    assert.throws(() => new ClusterDns({ ...base, upstreams: "10.0.0.2,dns.example.com" }), /NAVARCH_CLUSTER_DNS_UPSTREAMS: not an IP address: "dns.example.com"/);
    assert.throws(() => new ClusterDns({ ...base, address: "node-1" }), /NAVARCH_CLUSTER_DNS_ADDRESS: "node-1" is not an IP address/);
  });

  test("not on the pod network: pods wait a bounded time, then keep the runtime's default", async () => {
    let asked = 0;
    const runtime = {
      podNetwork: async () => {
        asked++;
        return { name: "pods", subnet: "203.0.113.0/24", gateway: "203.0.113.1" };
      },
    } as unknown as ContainerRuntime;
    const dns = new ClusterDns({ domain: "cluster.local", address: "", upstreams: "none", runtime, services: informers.services, endpoints: informers.endpoints, logger: silentLogger, startWaitMs: 300, retryMs: 20 });
    dns.start();
    try {
      assert.equal(await dns.podDns(pod), undefined);
      assert.equal(dns.address, undefined);
      assert.ok(asked >= 2, `the address is looked for again (asked ${asked} times)`);
    } finally {
      await dns.stop();
    }
  });
});
