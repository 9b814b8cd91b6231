import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { firstHostAddress, isLocalAddress, localAddressIn } from "./address.js";

describe("the DNS server's address", () => {
  const lo = { address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: true, cidr: "127.0.0.1/8" } as const;
  const iface = (address: string, prefix: number) => ({ address, netmask: "", family: "IPv4", mac: "02:42:ac:19:00:01", internal: false, cidr: `${address}/${prefix}` }) as const;

  test("on the host: the pod bridge's gateway address", () => {
    const host = { lo: [lo], eth0: [iface("192.0.2.2", 24)], docker0: [iface("172.17.0.1", 16)], "br-6f78c22aa41c": [iface("172.25.0.1", 16)] };
    assert.equal(localAddressIn("172.25.0.0/16", host), "172.25.0.1");
  });

  test("in a container attached to the pod network: its address there", () => {
    assert.equal(localAddressIn("192.168.224.0/20", { lo: [lo], eth0: [iface("172.18.0.4", 16)], eth1: [iface("192.168.230.3", 20)] }), "192.168.230.3");
  });

  test("not on the pod network (a container not attached, a remote engine): none", () => {
    assert.equal(localAddressIn("172.25.0.0/16", { lo: [lo], eth0: [iface("172.18.0.4", 16)] }), undefined);
    assert.equal(localAddressIn("not a subnet", { eth0: [iface("172.25.0.1", 16)] }), undefined);
  });

  test("an address of this machine is local; one of no interface here is not", async () => {
    assert.equal(await isLocalAddress("127.0.0.1"), true);
    assert.equal(await isLocalAddress("203.0.113.77"), false, "TEST-NET-3 is on no interface here");
  });
});

test("Docker's default gateway of a configured subnet: its first host address", () => {
  assert.equal(firstHostAddress("10.183.32.0/20"), "10.183.32.1");
  assert.equal(firstHostAddress("172.20.0.0/16"), "172.20.0.1");
  assert.equal(firstHostAddress("10.0.0.5/32"), undefined);
  assert.equal(firstHostAddress("nonsense"), undefined);
});
