import assert from "node:assert/strict";
import { test } from "node:test";
import { asPodSubnet } from "../options.js";
import { choosePodCidr, cidrOfClaimKey, podCidrClaimKey } from "./pod-cidr.js";

const candidates = ["10.244.16.0/24", "10.244.17.0/24", "10.244.18.0/24", "10.244.19.0/24"];

test("claim keys name the CIDR and read back; other keys are not pod CIDR claims", () => {
  assert.equal(podCidrClaimKey("10.244.16.0/24"), "podcidr.10_244_16_0_24");
  assert.equal(cidrOfClaimKey("podcidr.10_244_16_0_24"), "10.244.16.0/24");
  assert.equal(cidrOfClaimKey("clusterip.10_96_0_10"), undefined);
  assert.equal(cidrOfClaimKey("podcidr.junk"), undefined);
});

test("a node re-uses its own claim", () => {
  const choice = choosePodCidr({ node: "n2", candidates, claims: [{ cidr: "10.244.16.0/24", owner: "n1" }, { cidr: "10.244.18.0/24", owner: "n2" }], assigned: [] });
  assert.deepEqual(choice, { reuse: "10.244.18.0/24", candidates: [] });
});

test("a new node tries the free CIDRs in order: not claimed, not in another Node's spec", () => {
  const choice = choosePodCidr({
    node: "n3",
    candidates,
    claims: [{ cidr: "10.244.16.0/24", owner: "n1" }],
    assigned: [{ node: "n2", cidr: "10.244.17.0/24" }],
  });
  assert.deepEqual(choice, { candidates: ["10.244.18.0/24", "10.244.19.0/24"] });
});

test("a node whose claim was removed claims the CIDR its Node has first, unless someone else holds it", () => {
  const mine = choosePodCidr({ node: "n2", candidates, claims: [], assigned: [{ node: "n2", cidr: "10.244.18.0/24" }] });
  assert.deepEqual(mine.candidates, ["10.244.18.0/24", "10.244.16.0/24", "10.244.17.0/24", "10.244.19.0/24"]);
  const lost = choosePodCidr({ node: "n2", candidates, claims: [{ cidr: "10.244.18.0/24", owner: "n9" }], assigned: [{ node: "n2", cidr: "10.244.18.0/24" }] });
  assert.deepEqual(lost.candidates, ["10.244.16.0/24", "10.244.17.0/24", "10.244.19.0/24"]);
  const outside = choosePodCidr({ node: "n2", candidates, claims: [{ cidr: "10.1.0.0/24", owner: "n2" }], assigned: [{ node: "n2", cidr: "10.1.0.0/24" }] });
  assert.deepEqual(outside.candidates, candidates, "a CIDR of another subnet (the network was made again) is not re-used");
});

test("a CIDR with another node's container in it is taken (another cluster on the same network), even when claimed here", () => {
  const inUse = [
    { ip: "10.244.16.9", node: "other-cluster-node" },
    { ip: "10.244.17.3", node: "n2" },
    { ip: "10.244.0.5", node: "" },
  ];
  assert.deepEqual(choosePodCidr({ node: "n2", candidates, claims: [], assigned: [], inUse }).candidates, ["10.244.17.0/24", "10.244.18.0/24", "10.244.19.0/24"]);
  assert.deepEqual(choosePodCidr({ node: "n2", candidates, claims: [{ cidr: "10.244.16.0/24", owner: "n2" }], assigned: [], inUse }).candidates, ["10.244.17.0/24", "10.244.18.0/24", "10.244.19.0/24"]);
});

test("nothing free: nothing to try", () => {
  const choice = choosePodCidr({ node: "n5", candidates: candidates.slice(0, 1), claims: [{ cidr: candidates[0]!, owner: "n1" }], assigned: [] });
  assert.deepEqual(choice, { candidates: [] });
});

test("NAVARCH_POD_SUBNET: a CIDR of /20 or larger, or none; anything else fails the start", () => {
  assert.equal(asPodSubnet("10.244.0.0/16"), "10.244.0.0/16");
  assert.equal(asPodSubnet(" none "), "none");
  assert.throws(() => asPodSubnet("10.244.0.0/24"), /too small/);
  assert.throws(() => asPodSubnet("10.244.1.0/16"), /host bits/);
  assert.throws(() => asPodSubnet("off"), /not an IPv4 CIDR/);
});
