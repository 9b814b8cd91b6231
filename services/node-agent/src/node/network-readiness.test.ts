import assert from "node:assert/strict";
import { test } from "node:test";
import { failureHealth } from "../service-proxy/proxy.js";
import { NetworkReadiness, notWanted, setInitialHealth } from "./network-readiness.js";

test("a pod waits until every wanted part is ready, told once why", async () => {
  let changes = 0;
  const r = new NetworkReadiness(() => changes++);
  setInitialHealth(r, { serviceProxy: true, clusterDns: true }, true, true);
  const told: string[] = [];
  let passed = false;
  const waiting = r.wait((why) => told.push(why), () => false, 10_000).then(() => (passed = true));
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(passed, false);
  assert.equal(told.length, 1);
  assert.match(told[0]!, /service proxy not ready \(Starting\).*cluster DNS not ready \(Starting\)/);
  r.set("serviceProxy", { ready: true, reason: "RulesWritten", message: "written" });
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(passed, false, "the DNS is not ready yet");
  r.set("clusterDns", { ready: true, reason: "Listening", message: "listening" });
  await waiting;
  assert.equal(told.length, 1);
  assert.equal(changes, 4);
  assert.deepEqual(r.conditions().map((c) => `${c.type}=${c.status}/${c.reason}`), ["ServiceProxyReady=True/RulesWritten", "ClusterDNSReady=True/Listening"]);
});

test("parts off on purpose are reported, never waited for (no deadlock); hollow nodes likewise", async () => {
  for (const [opts, netfilter, dns] of [
    [{ serviceProxy: false, clusterDns: false }, true, true],
    [{ serviceProxy: true, clusterDns: true }, false, false],
  ] as const) {
    const r = new NetworkReadiness();
    setInitialHealth(r, opts, netfilter, dns);
    assert.equal(r.blocking(), undefined);
    await r.wait(() => assert.fail("must not wait"), () => false);
    assert.ok(r.conditions().every((c) => c.status === "False" && ["Disabled", "NotSupported"].includes(c.reason)));
  }
  const r = new NetworkReadiness();
  r.set("serviceProxy", notWanted("Disabled", "off"));
  assert.equal(r.health("serviceProxy")?.wanted, false);
});

test("a wait ends with an error when the pod is abandoned or the agent stops; an unchanged health is no change", async () => {
  let changes = 0;
  const r = new NetworkReadiness(() => changes++);
  r.set("serviceProxy", { ready: false, reason: "NftNotFound", message: "nft not found" });
  r.set("serviceProxy", { ready: false, reason: "NftNotFound", message: "nft not found" });
  assert.equal(changes, 1);
  let abandoned = false;
  const w = r.wait(() => undefined, () => abandoned, 10);
  abandoned = true;
  await assert.rejects(w, /the node's network is not ready: service proxy not ready \(NftNotFound\): nft not found/);
  const w2 = r.wait(() => undefined, () => false, 10_000);
  r.close();
  await assert.rejects(w2, /stopping/);
});

test("a failed proxy sync says why in a reason", () => {
  assert.equal(failureHealth(new Error('nft not found in the netfilter helper (image x): exec: "nft": executable file not found in $PATH')).reason, "NftNotFound");
  assert.equal(failureHealth(new Error("image navarch/netfilter:1 is not present: run scripts/build-images.sh")).reason, "HelperImageMissing");
  assert.equal(failureHealth(new Error("keeping the service range 10.96.0.0/16 on this host failed (exit 2): ...")).reason, "ServiceRangeNotGuarded");
  assert.equal(failureHealth(new Error("nft -f - failed (exit 1): syntax error")).reason, "RulesNotWritten");
});
