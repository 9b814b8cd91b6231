// Leader election against a real nats-server (started for this file in a temp dir).
import { ConflictError, KINDS, type Lease } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LeaderElector, microTime, type LeaderElectorOptions } from "./lease.js";

let server: NatsServerProcess;
let dir: string;
const connections: NatsConnection[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-lease-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
});
after(async () => {
  for (const nc of connections) await nc.close().catch(() => {});
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function leaseStore(): Promise<{ nc: NatsConnection; store: ResourceStore<Lease> }> {
  const nc = await connectNats({ url: server.url, name: "lease-test" });
  connections.push(nc);
  return { nc, store: await ResourceStore.open(nc, KINDS.Lease) };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An elector that records when it started and stopped leading. */
function candidate(store: ResourceStore<Lease>, identity: string, name: string, extra: Partial<LeaderElectorOptions> = {}) {
  const log: { event: "started" | "stopped"; at: number }[] = [];
  const elector = new LeaderElector({
    store,
    name,
    identity,
    leaseDurationSeconds: 2,
    renewDeadlineSeconds: 1.5,
    retryPeriodSeconds: 0.25,
    onStartedLeading: () => void log.push({ event: "started", at: Date.now() }),
    onStoppedLeading: () => void log.push({ event: "stopped", at: Date.now() }),
    ...extra,
  });
  return { elector, log };
}

describe("LeaderElector (real NATS)", () => {
  test("of two candidates exactly one leads, and keeps leading while it renews", async () => {
    const a = candidate((await leaseStore()).store, "a", "two-candidates");
    const b = candidate((await leaseStore()).store, "b", "two-candidates");
    a.elector.start();
    b.elector.start();
    await waitFor("a leader", () => a.elector.isLeader || b.elector.isLeader);
    const [leader, other] = a.elector.isLeader ? [a, b] : [b, a];
    const { store } = await leaseStore();
    const first = await store.get("navarch-system", "two-candidates");
    assert.equal(first?.spec?.holderIdentity, leader.elector.identity);
    assert.equal(first?.spec?.leaseTransitions, 0);
    assert.equal(first?.spec?.leaseDurationSeconds, 2);

    await new Promise((r) => setTimeout(r, 2_500)); // longer than the lease: it must have been renewed
    assert.equal(leader.elector.isLeader, true);
    assert.equal(other.elector.isLeader, false);
    assert.equal(other.elector.leader, leader.elector.identity);
    const later = await store.get("navarch-system", "two-candidates");
    assert.ok(Date.parse(later!.spec!.renewTime) > Date.parse(first!.spec!.renewTime), "renewTime advances");
    assert.equal(later!.spec!.acquireTime, first!.spec!.acquireTime);
    assert.ok(Number(later!.metadata!.resourceVersion) > Number(first!.metadata!.resourceVersion));
    assert.deepEqual(other.log, []);

    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  test("when the leader cannot renew, it stops leading before the other takes over after expiry", async () => {
    const aConn = await leaseStore();
    const a = candidate(aConn.store, "a", "takeover");
    a.elector.start();
    await waitFor("a leads", () => a.elector.isLeader);
    const b = candidate((await leaseStore()).store, "b", "takeover");
    b.elector.start();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.elector.isLeader, false);

    // The leader is cut off from NATS: it can no longer renew (and cannot release either).
    const { store } = await leaseStore();
    await aConn.nc.close();
    const lastRenew = Date.parse((await store.get("navarch-system", "takeover"))!.spec!.renewTime);

    await waitFor("b leads", () => b.elector.isLeader, 10_000);
    const aStopped = a.log.find((e) => e.event === "stopped");
    const bStarted = b.log.find((e) => e.event === "started");
    assert.ok(aStopped, "a gave up leading");
    assert.ok(aStopped.at - lastRenew <= 1_500 + 1_000, "at the renew deadline (plus scheduling slack)");
    assert.ok(aStopped.at < bStarted!.at, "never two leaders: a stopped before b started");
    assert.ok(bStarted!.at >= lastRenew + 2_000, "b waited for the lease to expire");

    const lease = await store.get("navarch-system", "takeover");
    assert.equal(lease?.spec?.holderIdentity, "b");
    assert.equal(lease?.spec?.leaseTransitions, 1);
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  test("compare-and-swap refuses a stale renew, and the stale leader steps down at once", async () => {
    const a = candidate((await leaseStore()).store, "a", "stale");
    a.elector.start();
    await waitFor("a leads", () => a.elector.isLeader);
    const { store } = await leaseStore();
    const seenByA = (await store.get("navarch-system", "stale"))!;

    // Someone else writes the lease (as a successor would after a long pause of a).
    const now = Date.now();
    await store.update({
      ...seenByA,
      spec: { ...seenByA.spec!, holderIdentity: "intruder", renewTime: microTime(now), acquireTime: microTime(now) },
    });
    // A renew based on what a saw is refused by the revision check.
    await assert.rejects(
      store.update({ ...seenByA, spec: { ...seenByA.spec!, renewTime: microTime(Date.now()) } }),
      ConflictError,
    );
    const intrudedAt = Date.now();
    await waitFor("a steps down", () => !a.elector.isLeader, 5_000);
    assert.ok(Date.now() - intrudedAt < 1_000, "on its next renew, not at the renew deadline");
    assert.equal(a.elector.leader, "intruder");
    assert.equal((await store.get("navarch-system", "stale"))?.spec?.holderIdentity, "intruder");
    assert.deepEqual(a.log.map((e) => e.event), ["started", "stopped"]);
    await a.elector.stop();
    assert.equal((await store.get("navarch-system", "stale"))?.spec?.holderIdentity, "intruder", "stop does not release a lease it does not hold");
  });

  test("stop releases the lease so a successor takes over without waiting for expiry", async () => {
    const long = { leaseDurationSeconds: 30, renewDeadlineSeconds: 20, retryPeriodSeconds: 0.2 };
    const a = candidate((await leaseStore()).store, "a", "release", long);
    a.elector.start();
    await waitFor("a leads", () => a.elector.isLeader);
    const b = candidate((await leaseStore()).store, "b", "release", long);
    b.elector.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.elector.isLeader, false);

    const stopAt = Date.now();
    await a.elector.stop();
    assert.deepEqual(a.log.map((e) => e.event), ["started", "stopped"]);
    await waitFor("b leads", () => b.elector.isLeader, 5_000);
    assert.ok(Date.now() - stopAt < 2_000, "well before the 30 s lease would expire");
    const { store } = await leaseStore();
    const lease = await store.get("navarch-system", "release");
    assert.equal(lease?.spec?.holderIdentity, "b");
    assert.equal(lease?.spec?.leaseTransitions, 1);
    await b.elector.stop();
    assert.equal((await store.get("navarch-system", "release"))?.spec?.holderIdentity, "");
  });

  test("enabled: false leads at once without touching the lease", async () => {
    const { store } = await leaseStore();
    const solo = candidate(store, "solo", "disabled", { enabled: false });
    solo.elector.start();
    assert.equal(solo.elector.isLeader, true);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(solo.log.map((e) => e.event), ["started"]);
    await solo.elector.stop();
    assert.deepEqual(solo.log.map((e) => e.event), ["started", "stopped"]);
    assert.equal(await store.get("navarch-system", "disabled"), undefined);
  });
});
