import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  candidatePositions,
  clusterIPAt,
  clusterIPInRange,
  nodePortAt,
  nodePortInRange,
  parseClusterIPRange,
  parseNodePortRange,
} from "./service-address-ranges.js";

describe("service cluster IP range", () => {
  test("10.96.0.0/16: 10.96.0.1-10.96.255.254, static band of 256 as in Kubernetes", () => {
    const r = parseClusterIPRange("10.96.0.0/16");
    assert.equal(r.size, 65534);
    assert.equal(r.staticBand, 256);
    assert.equal(clusterIPAt(r, 0), "10.96.0.1");
    assert.equal(clusterIPAt(r, r.size - 1), "10.96.255.254");
    assert.equal(clusterIPAt(r, r.staticBand), "10.96.1.1", "automatic picks start above 10.96.1.0");
    assert.ok(clusterIPInRange(r, "10.96.0.10"));
    assert.ok(!clusterIPInRange(r, "10.96.0.0"), "network address");
    assert.ok(!clusterIPInRange(r, "10.96.255.255"), "broadcast address");
    assert.ok(!clusterIPInRange(r, "10.97.0.1"));
    assert.ok(!clusterIPInRange(r, "not-an-ip"));
  });

  test("band sizes follow Kubernetes' calculateRangeOffset", () => {
    assert.equal(parseClusterIPRange("10.0.0.0/28").staticBand, 0, "16 addresses or fewer: no band");
    assert.equal(parseClusterIPRange("10.0.0.0/24").staticBand, 16, "256/16 = 16");
    assert.equal(parseClusterIPRange("10.0.0.0/20").staticBand, 256, "4096/16 = 256");
    assert.equal(parseClusterIPRange("10.0.0.0/12").staticBand, 256, "capped at 256");
    assert.equal(parseNodePortRange("30000-32767").staticBand, 86, "2768/32");
    assert.equal(parseNodePortRange("30000-30009").staticBand, 0);
  });

  for (const bad of ["10.96.0.0", "10.96.0.0/33", "10.96.0.0/31", "300.1.1.1/16", "10.96.0.1/16", "", "fd00::/108"]) {
    test(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseClusterIPRange(bad), /service cluster IP range/));
  }
});

describe("service node port range", () => {
  test("30000-32767", () => {
    const r = parseNodePortRange("30000-32767");
    assert.equal(r.size, 2768);
    assert.equal(nodePortAt(r, 0), 30000);
    assert.equal(nodePortAt(r, r.size - 1), 32767);
    assert.ok(nodePortInRange(r, 30000) && nodePortInRange(r, 32767));
    assert.ok(!nodePortInRange(r, 29999) && !nodePortInRange(r, 32768));
  });
  for (const bad of ["30000", "32767-30000", "0-10", "30000-70000", "a-b"]) {
    test(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseNodePortRange(bad), /service node port range/));
  }
});

describe("candidate order", () => {
  test("every position exactly once: the upper band from the random point, then the static band", () => {
    const r = parseClusterIPRange("10.0.0.0/24"); // 254 usable, band 16
    const order = [...candidatePositions(r, () => 0.5)];
    assert.equal(order.length, r.size);
    assert.equal(new Set(order).size, r.size);
    const upper = r.size - r.staticBand;
    assert.equal(order[0], r.staticBand + Math.floor(0.5 * upper), "starts mid-way through the upper band");
    assert.ok(order.slice(0, upper).every((p) => p >= r.staticBand), "upper band first");
    assert.ok(order.slice(upper).every((p) => p < r.staticBand), "static band last");
  });

  test("a range without a static band is one walk", () => {
    const r = parseNodePortRange("30000-30004");
    assert.deepEqual([...candidatePositions(r, () => 0.99)], [4, 0, 1, 2, 3]);
  });
});
