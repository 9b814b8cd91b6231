import { KINDS, type Service } from "@navarch/api";
import { claimKey, type Claim } from "@navarch/store";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { reconcileClaim, reconcileService } from "./reconcile.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const GRACE = 30_000;

function service(uid: string, spec: Record<string, unknown> = {}): Service {
  return KINDS.Service.codec.fromPartial({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default", uid },
    spec: { type: "NodePort", clusterIP: "10.96.5.5", ports: [{ name: "http", port: 80, nodePort: 30080 }], ...spec },
  });
}

function claim(key: string, uid: string, ageMs: number, revision = 11): Claim {
  return { key, owner: { namespace: "default", name: "web", uid }, claimedAt: new Date(NOW.getTime() - ageMs).toISOString(), revision };
}

const IP = claimKey("clusterip", "10.96.5.5");
const PORT = claimKey("nodeport", 30080);

describe("reconcileClaim", () => {
  const cases: { name: string; claim: Claim; owner: Service | undefined; want: unknown }[] = [
    { name: "held by its Service: keep", claim: claim(IP, "u1", 3_600_000), owner: service("u1"), want: { type: "keep" } },
    { name: "node port held: keep", claim: claim(PORT, "u1", 3_600_000), owner: service("u1"), want: { type: "keep" } },
    {
      name: "Service gone, old claim: release on its revision",
      claim: claim(IP, "u1", 60_000),
      owner: undefined,
      want: { type: "release", revision: 11, why: "its Service is gone" },
    },
    {
      name: "Service gone but the claim is young (its Service may be being written): look again after the grace",
      claim: claim(IP, "u1", 10_000),
      owner: undefined,
      want: { type: "recheck", afterMs: 20_000 },
    },
    {
      name: "same name, another uid: the claim was the deleted one's",
      claim: claim(IP, "old", 60_000),
      owner: service("new"),
      want: { type: "release", revision: 11, why: "its Service was deleted and created again" },
    },
    {
      name: "the Service no longer uses that node port",
      claim: claim(PORT, "u1", 60_000),
      owner: service("u1", { type: "ClusterIP", ports: [{ name: "http", port: 80 }] }),
      want: { type: "release", revision: 11, why: "its Service no longer uses it" },
    },
    {
      name: "a claim without a time (written by hand) counts as old",
      claim: { ...claim(IP, "", 0), claimedAt: "" },
      owner: undefined,
      want: { type: "release", revision: 11, why: "its Service is gone" },
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(reconcileClaim(c.claim, c.owner, NOW, GRACE), c.want));
});

describe("reconcileService", () => {
  test("claims the addresses nobody claimed, reports the ones another Service claimed", () => {
    const other = claim(PORT, "someone-else", 60_000);
    const plan = reconcileService(service("u1"), (k) => (k === PORT ? other : undefined));
    assert.deepEqual(plan, { claim: [IP], contested: [other] });
  });

  test("all claimed by itself: nothing to do; headless: no cluster IP to claim", () => {
    const mine = (k: string) => claim(k, "u1", 0);
    assert.deepEqual(reconcileService(service("u1"), mine), { claim: [], contested: [] });
    assert.deepEqual(reconcileService(service("u1", { type: "ClusterIP", clusterIP: "None", ports: [] }), () => undefined), { claim: [], contested: [] });
  });
});
