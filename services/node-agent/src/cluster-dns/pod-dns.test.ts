import { KINDS, type Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { podDns } from "./pod-dns.js";

function pod(namespace: string, spec: { dnsPolicy?: string; hostNetwork?: boolean } = {}): Pod {
  return KINDS.Pod.codec.fromPartial({ metadata: { namespace, name: "p" }, spec: { containers: [{ name: "c", image: "i" }], ...spec } }) as Pod;
}

const settings = { server: "172.25.0.1", domain: "cluster.local" };

describe("pod DNS settings", () => {
  test("ClusterFirst (the default): the cluster DNS, the namespace's search path, ndots:5", () => {
    const expected = { servers: ["172.25.0.1"], searches: ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], options: ["ndots:5"] };
    assert.deepEqual(podDns(pod("shop", { dnsPolicy: "ClusterFirst" }), settings), expected);
    assert.deepEqual(podDns(pod("shop"), settings), expected, "an empty dnsPolicy is ClusterFirst");
    assert.deepEqual(podDns(pod("shop", { dnsPolicy: "ClusterFirstWithHostNet", hostNetwork: true }), settings), expected);
  });

  test("Default, None and ClusterFirst on the host network keep the runtime's default", () => {
    assert.equal(podDns(pod("shop", { dnsPolicy: "Default" }), settings), undefined);
    assert.equal(podDns(pod("shop", { dnsPolicy: "None" }), settings), undefined);
    assert.equal(podDns(pod("shop", { dnsPolicy: "ClusterFirst", hostNetwork: true }), settings), undefined);
  });

  test("another cluster domain (a trailing dot is dropped)", () => {
    assert.deepEqual(podDns(pod("default"), { server: "10.0.0.2", domain: "navarch.test." })?.searches, ["default.svc.navarch.test", "svc.navarch.test", "navarch.test"]);
  });
});
