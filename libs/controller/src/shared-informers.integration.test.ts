// Bucket defaults of the SharedInformers against a real nats-server: the Event bucket expires its
// entries whichever service creates it (through runElected, as the controller services do).
import { KINDS, type Event } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, EVENT_TTL_MS, type ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runElected } from "./elected-run.js";
import { silentLogger } from "./logger.js";
import { SharedInformers } from "./shared-informers.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-shared-informers-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "shared-informers-test" });
});
after(async () => {
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const maxAgeOf = async (store: ResourceStore<any>) => (await store.kv.status()).ttl;

test("runElected's own informers create the Event bucket with the 1 h max age, other kinds without one", async () => {
  const abort = new AbortController();
  let events: ResourceStore<Event> | undefined;
  let pods: ResourceStore<any> | undefined;
  await runElected({
    nc,
    logger: silentLogger,
    signal: abort.signal,
    leaseName: "shared-informers-test",
    election: { leaderElect: false, leaderElectIdentity: "t", leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
    prepare: async (shared) => {
      [events, pods] = await Promise.all([shared.store(KINDS.Event), shared.store(KINDS.Pod)]);
      return () => [];
    },
    onSynced: () => abort.abort(),
  });
  assert.equal(EVENT_TTL_MS, 60 * 60 * 1000);
  assert.equal(await maxAgeOf(events!), EVENT_TTL_MS);
  assert.equal(await maxAgeOf(pods!), 0);
});

test("openOptions that set only replicas (the all-in-one's) keep the Event default; an explicit maxAgeMs wins", async () => {
  // Another bucket per open, so each is created here with these options (the first creator's win).
  const shared = new SharedInformers(nc, { openOptions: () => ({ replicas: 1, bucket: "navarch-events-b" }) });
  assert.equal(await maxAgeOf(await shared.store(KINDS.Event)), EVENT_TTL_MS);
  const forever = new SharedInformers(nc, { openOptions: () => ({ replicas: 1, bucket: "navarch-events-forever", maxAgeMs: 0 }) });
  assert.equal(await maxAgeOf(await forever.store(KINDS.Event)), 0);
  await shared.stop();
  await forever.stop();
});
