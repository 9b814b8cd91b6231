// An informer keeps watch history only when asked to (the gateway's, which serves watches);
// without it, watchers can resume from its current revision only, and no event is retained.
import { KINDS, type ConfigMap } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connectNats } from "./connect.js";
import { Informer } from "./informer.js";
import { ResourceStore } from "./resource-store.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let store: ResourceStore<ConfigMap>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-informer-history-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "informer-history-test" });
  store = await ResourceStore.open(nc, KINDS.ConfigMap);
});

after(async () => {
  await nc?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cm = (name: string) => KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data: { k: name } });

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(pred());
}

test("without historySize an informer keeps no events: it is current, handlers see every change, resuming works from its revision only", async () => {
  const informer = new Informer(store, nc);
  const seen: string[] = [];
  informer.onEvent((e) => seen.push(`${e.type} ${e.object.metadata!.name}`));
  await informer.start();
  const before = informer.revision;
  for (let i = 0; i < 3; i++) await store.create(cm(`nohist-${i}`));
  await until(() => informer.size >= 3);
  assert.deepEqual(seen, ["ADDED nohist-0", "ADDED nohist-1", "ADDED nohist-2"]);
  assert.deepEqual(informer.eventsSince(informer.revision), []);
  assert.throws(() => informer.eventsSince(before), /too old resource version/);
  informer.stop();
});

test("with historySize the informer replays the events after a revision", async () => {
  const informer = new Informer(store, nc, { historySize: 100 });
  await informer.start();
  const from = informer.revision;
  for (let i = 0; i < 2; i++) await store.create(cm(`hist-${i}`));
  await until(() => informer.get("default", "hist-1") !== undefined);
  assert.deepEqual(informer.eventsSince(from).map((e) => `${e.type} ${e.object.metadata!.name}`), ["ADDED hist-0", "ADDED hist-1"]);
  informer.stop();
});
