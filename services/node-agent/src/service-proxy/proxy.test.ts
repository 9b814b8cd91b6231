// The service proxy's order of work and health, on a recording HostNetfilter: the service range is
// guarded before anything else (even before the pod network is looked up), a missing nft is
// reported as NftNotFound while the guard stays, and a fixed nft turns the health ready.
import type { Endpoints, Service } from "@navarch/api";
import { createLogger } from "@navarch/config";
import type { ContainerRuntime, HostNetfilter } from "@navarch/runtime";
import type { Informer } from "@navarch/store";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PartHealth } from "../node/network-readiness.js";
import { ServiceProxy, checkServiceRange } from "./proxy.js";

function informer<T extends Service | Endpoints>(): Informer<T> {
  return { list: () => [], get: () => undefined, onEvent: () => () => undefined } as unknown as Informer<T>;
}

test("guard first, then the bridge and the table; NftNotFound until nft works, then RulesWritten", async () => {
  const calls: string[] = [];
  let nftMissing = true;
  const netfilter: HostNetfilter = {
    guardServiceRange: async (cidr) => void calls.push(`guard ${cidr}`),
    podBridge: async () => (calls.push("podBridge"), { device: "br-test", subnet: "10.244.0.0/16" }),
    configureBridge: async () => void calls.push("configureBridge"),
    nft: async () => {
      calls.push("nft");
      if (nftMissing) throw new Error('nft not found in the netfilter helper (image x): exec: "nft": executable file not found in $PATH');
    },
    close: async () => void calls.push("close"),
  };
  const health: PartHealth[] = [];
  const proxy = new ServiceProxy({
    node: "n1",
    nodeAddress: "127.0.0.1",
    services: informer<Service>(),
    endpoints: informer<Endpoints>(),
    netfilter,
    logger: createLogger("proxy-test", "silent"),
    serviceRange: "10.96.0.0/16",
    onHealth: (h) => health.push(h),
  });
  proxy.start();
  try {
    for (let i = 0; i < 200 && health.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(calls.slice(0, 4), ["guard 10.96.0.0/16", "podBridge", "configureBridge", "nft"]);
    assert.equal(health[0]?.reason, "NftNotFound");
    assert.equal(health[0]?.ready, false);
    nftMissing = false;
    // The retry (backoff 500 ms) guards again and writes the table.
    for (let i = 0; i < 400 && !health.at(-1)?.ready; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(health.at(-1)?.reason, "RulesWritten");
    assert.match(health.at(-1)!.message, /traffic to 10\.96\.0\.0\/16 that no rule matches is refused on this host/);
    assert.equal(calls.filter((c) => c.startsWith("guard")).length, 2);
  } finally {
    await proxy.stop();
  }
  assert.equal(calls.includes("close"), true);
  assert.equal(calls.filter((c) => c.startsWith("guard")).length, 2, "stop leaves the guard (no removal call exists)");
});

test("a service range that overlaps the pod network fails the start, naming both", async () => {
  const runtime = { podNetwork: async () => ({ name: "navarch", subnet: "10.244.0.0/16", gateway: "", inUse: [] }) } as unknown as ContainerRuntime;
  await checkServiceRange("10.96.0.0/16", runtime);
  await assert.rejects(checkServiceRange("10.0.0.0/8", runtime), /NAVARCH_SERVICE_CLUSTER_IP_RANGE: 10\.0\.0\.0\/8 overlaps the pod network navarch's subnet 10\.244\.0\.0\/16/);
  await checkServiceRange("10.0.0.0/8", {} as ContainerRuntime);
});
