// Table tests of the pod network's address arithmetic.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { podNetworkIpam } from "./docker-client.js";
import { contains, dynamicRangeOf, ipToNumber, nodeCidrs, numberToIp, parseCidr, podAddresses } from "./ipv4.js";

describe("IPv4 CIDRs", () => {
  test("addresses round-trip; bad ones are refused", () => {
    for (const ip of ["0.0.0.0", "10.244.16.7", "255.255.255.255"]) assert.equal(numberToIp(ipToNumber(ip)), ip);
    for (const bad of ["10.0.0", "10.0.0.256", "a.b.c.d", "10.0.0.1.2"]) assert.throws(() => ipToNumber(bad));
  });

  test("a CIDR must be a network address", () => {
    assert.deepEqual(parseCidr("10.244.0.0/16"), { base: ipToNumber("10.244.0.0"), prefix: 16 });
    assert.throws(() => parseCidr("10.244.1.0/16"), /host bits/);
    assert.throws(() => parseCidr("10.244.0.0"), /not an IPv4 CIDR/);
    assert.throws(() => parseCidr("10.244.0.0/33"));
    assert.ok(contains(parseCidr("10.244.16.0/24"), "10.244.16.255"));
    assert.ok(!contains(parseCidr("10.244.16.0/24"), "10.244.17.0"));
  });

  test("Docker's own range is the subnet's first sixteenth; node CIDRs are the /24s after it", () => {
    assert.equal(dynamicRangeOf("10.244.0.0/16"), "10.244.0.0/20");
    assert.equal(dynamicRangeOf("10.200.0.0/20"), "10.200.0.0/24");
    assert.throws(() => dynamicRangeOf("10.200.0.0/22"), /too small/);
    const cidrs = nodeCidrs("10.244.0.0/16", "10.244.0.0/20");
    assert.equal(cidrs.length, 240);
    assert.equal(cidrs[0], "10.244.16.0/24");
    assert.equal(cidrs.at(-1), "10.244.255.0/24");
    assert.deepEqual(nodeCidrs("10.200.0.0/20", "10.200.0.0/24").slice(0, 2), ["10.200.1.0/24", "10.200.2.0/24"]);
    // A range somewhere else in the subnet (a network made by hand) is skipped wherever it is.
    assert.ok(!nodeCidrs("10.244.0.0/16", "10.244.128.0/17").some((c) => c.startsWith("10.244.200.")));
    assert.deepEqual(podNetworkIpam("10.244.0.0/16").Config, [{ Subnet: "10.244.0.0/16", IPRange: "10.244.0.0/20" }]);
  });

  test("pod addresses skip the network, the first (gateway by habit) and the broadcast address", () => {
    const a = podAddresses("10.244.16.0/24");
    assert.equal(a.length, 253);
    assert.equal(a[0], "10.244.16.2");
    assert.equal(a.at(-1), "10.244.16.254");
  });
});
