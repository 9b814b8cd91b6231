// One bad value in a bucket (issue 11, item 4): it is not served - neither as the object's previous
// version nor as a default object - its key leaves the cache (watchers see DELETED), it is
// counted and reported with its key, and the rest of the kind is unaffected. A good value or a
// delete of the key clears it. The store's own reads refuse it with CorruptError.
import { CorruptError, KINDS, type ConfigMap } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connectNats } from "./connect.js";
import { Informer, type UndecodableValue } from "./informer.js";
import { ResourceStore } from "./resource-store.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let store: ResourceStore<ConfigMap>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-informer-undecodable-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "informer-undecodable-test" });
  store = await ResourceStore.open(nc, KINDS.ConfigMap);
});

after(async () => {
  await nc?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cm = (name: string, v: string) => KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data: { v } });
const text = new TextEncoder();

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(pred());
}

test("an undecodable value replaces the cached object with nothing, is reported, and a good value or a delete clears it", async () => {
  // Present before the informer starts: found during the replay.
  await store.kv.put("default.from-start", text.encode("[1,2,3]"));
  await store.create(cm("neighbour", "1"));
  const informer = new Informer(store, nc, { historySize: 100 });
  const reported: UndecodableValue[] = [];
  informer.onDecodeError((bad) => reported.push(bad));
  const seen: string[] = [];
  informer.onEvent((e) => seen.push(`${e.type} ${e.key}`));
  await informer.start();
  try {
    await checks(informer, reported, seen);
  } finally {
    informer.stop();
  }
});

async function checks(informer: Informer<ConfigMap>, reported: UndecodableValue[], seen: string[]): Promise<void> {
  assert.equal(informer.get("default", "from-start"), undefined);
  assert.match(informer.undecodable("default.from-start")?.reason ?? "", /not a JSON object \(an array\)/);
  assert.equal(informer.decodeFailures, 1);

  const good = await store.create(cm("was-good", "1"));
  await until(() => informer.get("default", "was-good") !== undefined);
  const cases: [string, string, RegExp][] = [
    ["default.was-good", "[1,2,3]", /an array/],
    ["default.notjson", "{nope", /not JSON/],
    ["default.elsewhere", JSON.stringify({ metadata: { name: "other", namespace: "default" } }), /not the object its key names/],
    ["default.nometa", JSON.stringify({ data: { a: "b" } }), /no metadata\.name/],
    ["default.nullref", JSON.stringify({ metadata: { name: "nullref", namespace: "default", ownerReferences: [null] } }), /not a ConfigMap/],
  ];
  for (const [key, value] of cases) await store.kv.put(key, text.encode(value));
  await store.create(cm("after", "1"));
  await until(() => informer.get("default", "after") !== undefined);

  // Not the previous version, not a default object: nothing.
  assert.equal(informer.get("default", "was-good"), undefined);
  assert.ok(!informer.list("default").some((o) => ["was-good", "notjson", "elsewhere", "nometa", "nullref"].includes(o.metadata!.name)));
  assert.deepEqual(informer.list("default").map((o) => o.metadata!.name), ["after", "neighbour"]);
  for (const [key, , why] of cases) assert.match(informer.undecodable(key)?.reason ?? "(none)", why, key);
  assert.equal(informer.decodeFailures, 6);
  assert.deepEqual(reported.map((r) => r.key), ["default.from-start", ...cases.map(([k]) => k)]);
  assert.ok(reported.every((r) => r.bucket === "navarch-configmaps" && r.revision > 0));
  // Watchers and controllers are told the object they had is gone.
  assert.ok(seen.includes("DELETED default.was-good"), seen.join(", "));
  assert.ok(informer.eventsSince(Number(good.metadata!.resourceVersion)).some((e) => e.type === "DELETED" && e.key === "default.was-good"));
  // Direct reads refuse it precisely too.
  await assert.rejects(store.get("default", "was-good"), (err: unknown) => err instanceof CorruptError && /an array/.test((err as Error).message));

  // Repaired: a good value is served again; a delete forgets it.
  await store.kv.put("default.was-good", store.encode(cm("was-good", "2")));
  await store.delete("default", "notjson");
  await until(() => informer.get("default", "was-good") !== undefined && informer.undecodable("default.notjson") === undefined);
  assert.equal(informer.get("default", "was-good")!.data.v, "2");
  assert.equal(informer.undecodable("default.was-good"), undefined);
}
