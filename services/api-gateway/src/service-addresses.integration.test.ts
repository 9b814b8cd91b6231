// The Service address allocator against a real nats-server: two allocators (two gateways) share
// one bucket of claims; concurrent creates never get the same address, chosen addresses must be
// free and in range, deleting frees, a failed write undoes its claims, updates claim and release.
import { InvalidError, KINDS, PreconditionError, type Service } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { AddressClaims, claimKey, connectNats } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseClusterIPRange, parseNodePortRange } from "./service-address-ranges.js";
import { keepAllocated, ServiceAddresses, writeWithAddresses } from "./service-addresses.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let claimsA: AddressClaims;
let claimsB: AddressClaims;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-addresses-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "addresses-test" });
  claimsA = await AddressClaims.open(nc);
  claimsB = await AddressClaims.open(nc);
  await Promise.all([claimsA.start(), claimsB.start()]);
});
after(async () => {
  claimsA?.stop();
  claimsB?.stop();
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function allocator(claims: AddressClaims, cidr = "10.96.0.0/16", ports = "30000-32767"): ServiceAddresses {
  return new ServiceAddresses({ claims, clusterIPs: parseClusterIPRange(cidr), nodePorts: parseNodePortRange(ports) });
}

function service(name: string, spec: Record<string, unknown> = {}): Service {
  return KINDS.Service.codec.fromPartial({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default", uid: randomUUID() },
    spec: { type: "ClusterIP", ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "8080" }], ...spec },
  });
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

describe("service addresses (real NATS)", () => {
  test("concurrent creates on two gateways never share an IP, even in a tiny range", async () => {
    // 10.77.0.0/28: 14 usable addresses, no static band; 14 services fill it exactly.
    const a = allocator(claimsA, "10.77.0.0/28");
    const b = allocator(claimsB, "10.77.0.0/28");
    const services = Array.from({ length: 14 }, (_, i) => service(`race-${i}`));
    await Promise.all(services.map((svc, i) => (i % 2 === 0 ? a : b).allocate(svc)));
    const ips = services.map((s) => s.spec!.clusterIP);
    assert.equal(new Set(ips).size, 14, `duplicates among ${ips.join(" ")}`);
    for (const s of services) {
      assert.deepEqual(s.spec!.clusterIPs, [s.spec!.clusterIP]);
      const claim = await claimsA.kv.get(claimKey("clusterip", s.spec!.clusterIP));
      assert.equal(JSON.parse(new TextDecoder().decode(claim!.value)).uid, s.metadata!.uid, "each claim names its Service");
    }
    // The range is full now: a clear refusal, and nothing claimed.
    await assert.rejects(a.allocate(service("one-too-many")), (err: unknown) => err instanceof PreconditionError && /10\.77\.0\.0\/28 is full/.test(String(err)));
    // Deleting one frees exactly its address for the next Service.
    await a.release(services[3]!);
    const next = service("after-delete");
    await b.allocate(next);
    assert.equal(next.spec!.clusterIP, services[3]!.spec!.clusterIP);
  });

  test("automatic picks come from above the static band", async () => {
    const a = allocator(claimsA);
    const svc = service("banded");
    await a.allocate(svc);
    const last = Number(svc.spec!.clusterIP.split(".")[2]) * 256 + Number(svc.spec!.clusterIP.split(".")[3]);
    assert.ok(svc.spec!.clusterIP.startsWith("10.96.") && last > 256, svc.spec!.clusterIP);
  });

  test("a chosen clusterIP must be in range and free", async () => {
    const a = allocator(claimsA);
    const dns = service("dns", { clusterIP: "10.96.0.10" });
    await a.allocate(dns);
    assert.equal(dns.spec!.clusterIP, "10.96.0.10");
    assert.deepEqual(dns.spec!.clusterIPs, ["10.96.0.10"]);
    await assert.rejects(allocator(claimsB).allocate(service("dns-2", { clusterIP: "10.96.0.10" })), (err: unknown) => {
      assert.ok(err instanceof InvalidError);
      assert.equal(err.message, 'spec.clusterIP: Invalid value: "10.96.0.10": provided IP is already allocated');
      return true;
    });
    await assert.rejects(a.allocate(service("outside", { clusterIP: "10.0.0.5" })), (err: unknown) => {
      assert.ok(err instanceof InvalidError);
      assert.equal(err.message, 'spec.clusterIP: Invalid value: "10.0.0.5": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/16');
      return true;
    });
  });

  test("headless and ExternalName services get no address", async () => {
    const a = allocator(claimsA);
    const headless = service("peers", { clusterIP: "None" });
    const alloc = await a.allocate(headless);
    assert.deepEqual(alloc.claimed, []);
    assert.deepEqual(headless.spec!.clusterIPs, ["None"]);
    const external = service("db", { type: "ExternalName", externalName: "db.example.com", ports: [] });
    assert.deepEqual((await a.allocate(external)).claimed, []);
    assert.equal(external.spec!.clusterIP, "");
  });

  test("NodePort: node ports allocated, chosen ones checked, TCP and UDP may share one", async () => {
    const a = allocator(claimsA);
    const np = service("np", {
      type: "NodePort",
      ports: [
        { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
        { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30053 },
        { name: "http", port: 80, protocol: "TCP" },
      ],
    });
    const alloc = await a.allocate(np);
    const [p0, p1, p2] = np.spec!.ports;
    assert.equal(p0!.nodePort, 30053);
    assert.equal(p1!.nodePort, 30053);
    assert.ok(p2!.nodePort! >= 30086 && p2!.nodePort! <= 32767, `automatic node port ${p2!.nodePort} above the static band`);
    assert.equal(alloc.claimed.length, 3, "a cluster IP and two node ports");
    await assert.rejects(
      a.allocate(service("np-2", { type: "NodePort", ports: [{ name: "x", port: 1, protocol: "TCP", nodePort: 30053 }] })),
      /spec\.ports\[0\]\.nodePort: Invalid value: 30053: provided port is already allocated/,
    );
    await assert.rejects(
      a.allocate(service("np-3", { type: "NodePort", ports: [{ name: "x", port: 1, protocol: "TCP", nodePort: 8080 }] })),
      /spec\.ports\[0\]\.nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767/,
    );
    await assert.rejects(
      a.allocate(service("np-4", { type: "NodePort", ports: [{ name: "a", port: 1, protocol: "TCP", nodePort: 31001 }, { name: "b", port: 2, protocol: "TCP", nodePort: 31001 }] })),
      /spec\.ports\[1\]\.nodePort: Duplicate value: 31001/,
    );
    // The refused requests left nothing behind (np-2's cluster IP was claimed, then undone).
    await until("claims of refused services released", () => [...claimsA.all()].every((c) => !["np-2", "np-3", "np-4"].includes(c.owner.name)));
  });

  test("a failed write undoes its claims; a successful one keeps them", async () => {
    const a = allocator(claimsA);
    const svc = service("write-fails", { clusterIP: "10.96.0.77" });
    await assert.rejects(
      writeWithAddresses(await a.allocate(svc), async () => {
        throw new Error("the store refused");
      }),
      /the store refused/,
    );
    assert.equal(await claimsA.kv.get(claimKey("clusterip", "10.96.0.77")).then((e) => e?.operation), "DEL");
    const again = service("write-ok", { clusterIP: "10.96.0.77" });
    await writeWithAddresses(await a.allocate(again), async () => undefined);
    assert.equal(await claimsA.kv.get(claimKey("clusterip", "10.96.0.77")).then((e) => e?.operation), "PUT");
  });

  test("updates: ClusterIP -> NodePort claims node ports; -> ClusterIP releases them; -> ExternalName releases the IP", async () => {
    const a = allocator(claimsA);
    const v1 = service("morph");
    await writeWithAddresses(await a.allocate(v1), async () => undefined);
    const ip = v1.spec!.clusterIP;

    const v2 = service("morph", { type: "NodePort" });
    v2.metadata!.uid = v1.metadata!.uid;
    keepAllocated(v2, v1);
    await writeWithAddresses(await a.reallocate(v2, v1), async () => undefined);
    assert.equal(v2.spec!.clusterIP, ip, "the cluster IP stays");
    const nodePort = v2.spec!.ports[0]!.nodePort!;
    assert.ok(nodePort >= 30000);
    assert.equal((await claimsA.kv.get(claimKey("nodeport", nodePort)))?.operation, "PUT");

    const v3 = service("morph", { type: "ClusterIP" });
    v3.metadata!.uid = v1.metadata!.uid;
    keepAllocated(v3, v2);
    await writeWithAddresses(await a.reallocate(v3, v2), async () => undefined);
    assert.equal(v3.spec!.ports[0]!.nodePort, undefined);
    assert.equal((await claimsA.kv.get(claimKey("nodeport", nodePort)))?.operation, "DEL", "the node port is free again");

    const v4 = service("morph", { type: "ExternalName", externalName: "x.example.com", ports: [] });
    v4.metadata!.uid = v1.metadata!.uid;
    keepAllocated(v4, v3);
    await writeWithAddresses(await a.reallocate(v4, v3), async () => undefined);
    assert.equal((await claimsA.kv.get(claimKey("clusterip", ip)))?.operation, "DEL", "the IP is free again");
  });

  test("release only removes the Service's own claim (by uid)", async () => {
    const a = allocator(claimsA);
    const owner = service("owner", { clusterIP: "10.96.0.99" });
    await a.allocate(owner);
    const impostor = service("owner", { clusterIP: "10.96.0.99" }); // same name, another uid
    await a.release(impostor);
    assert.equal((await claimsA.kv.get(claimKey("clusterip", "10.96.0.99")))?.operation, "PUT");
    await a.release(owner);
    assert.equal((await claimsA.kv.get(claimKey("clusterip", "10.96.0.99")))?.operation, "DEL");
  });
});
