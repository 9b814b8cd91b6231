// Against a real nats-server: compare-and-swap semantics, list-then-watch replay, and a watch that
// survives the server restarting with no event lost or reordered.
import { AlreadyExistsError, ConflictError, KINDS, type ConfigMap } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { connectNats } from "./connect.js";
import { requestDeletion } from "./deletion.js";
import { Informer, type StoreEvent } from "./informer.js";
import { ResourceStore } from "./resource-store.js";

function configMap(name: string, data: Record<string, string>, namespace = "default"): ConfigMap {
  return KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data });
}

describe("store against a real nats-server", () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let store: ResourceStore<ConfigMap>;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-store-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "store-test" });
    store = await ResourceStore.open(nc, KINDS.ConfigMap);
  });

  after(async () => {
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates once, then refuses a second create of the same name", async () => {
    const created = await store.create(configMap("once", { a: "1" }));
    assert.ok(Number(created.metadata!.resourceVersion) > 0);
    await assert.rejects(store.create(configMap("once", { a: "2" })), AlreadyExistsError);
    assert.deepEqual((await store.get("default", "once"))!.data, { a: "1" });
  });

  it("refuses an update from a stale resourceVersion and keeps the object unchanged", async () => {
    const v1 = await store.create(configMap("cas", { a: "1" }));
    const v2 = await store.update({ ...v1, data: { a: "2" } });
    assert.notEqual(v2!.metadata!.resourceVersion, v1.metadata!.resourceVersion);
    await assert.rejects(store.update({ ...v1, data: { a: "stale" } }), ConflictError);
    const now = await store.get("default", "cas");
    assert.deepEqual(now!.data, { a: "2" });
    assert.equal(now!.metadata!.resourceVersion, v2!.metadata!.resourceVersion);
  });

  it("stores readable Kubernetes JSON without the resourceVersion", async () => {
    await store.create(configMap("json", { greeting: "hello" }));
    const entry = await store.kv.get("default.json");
    const stored = JSON.parse(new TextDecoder().decode(entry!.value));
    assert.equal(stored.apiVersion, "v1");
    assert.equal(stored.kind, "ConfigMap");
    assert.deepEqual(stored.data, { greeting: "hello" });
    assert.equal(stored.metadata.resourceVersion, undefined);
  });

  it("deletes with finalizers in two steps: deletionTimestamp first, gone when finalizers are empty", async () => {
    const cm = configMap("fin", { a: "1" });
    cm.metadata!.finalizers = ["example.com/hold"];
    const created = await store.create(cm);
    const first = await requestDeletion(store, created);
    assert.equal(first.deleted, false);
    assert.ok(first.object.metadata!.deletionTimestamp);
    const released = await store.update({ ...first.object, metadata: { ...first.object.metadata!, finalizers: [] } });
    assert.equal(released, undefined);
    assert.equal(await store.get("default", "fin"), undefined);
  });

  it("modify() retries from fresh state when it loses a race", async () => {
    await store.create(configMap("counter", { n: "0" }));
    const bump = () => store.modify("default", "counter", (cm) => ({ ...cm, data: { n: String(Number(cm.data.n) + 1) } }));
    await Promise.all(Array.from({ length: 10 }, bump));
    assert.equal((await store.get("default", "counter"))!.data.n, "10");
  });

  it("informer replays current state, then follows changes; a watch survives a server restart with nothing lost or reordered", async () => {
    const kinds = await ResourceStore.open(nc, KINDS.ConfigMap);
    for (let i = 0; i < 20; i++) await kinds.create(configMap(`pre-${i}`, { i: String(i) }, "replay"));
    const informer = new Informer(kinds, nc);
    const seen: StoreEvent<ConfigMap>[] = [];
    informer.onEvent((e) => seen.push(e));
    await informer.start();
    assert.equal(informer.list("replay").length, 20);

    // Writes before, during and after a restart of the server. A writer on its own connection
    // keeps going; whatever it got acknowledged must reach the informer, once, in order.
    const acked: number[] = [];
    const write = async (i: number) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        try {
          const cm = await kinds.create(configMap(`w-${i}`, { i: String(i) }, "replay"));
          acked.push(Number(cm.metadata!.resourceVersion));
          return;
        } catch (err) {
          if (err instanceof AlreadyExistsError) return; // acknowledged before the restart
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error(`write ${i} never succeeded`);
    };
    for (let i = 0; i < 10; i++) await write(i);
    await server.restart();
    for (let i = 10; i < 30; i++) await write(i);
    await kinds.delete("replay", "pre-0");

    const last = Math.max(...acked);
    assert.ok(await informer.waitForRevision(last + 1, 15_000), "informer caught up after the restart");
    const revisions = seen.map((e) => e.revision);
    assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b), "events in revision order");
    assert.equal(new Set(revisions).size, revisions.length, "no event twice");
    for (const rev of acked) assert.ok(revisions.includes(rev), `acknowledged write ${rev} seen`);
    assert.equal(informer.list("replay").length, 20 - 1 + 30);
    assert.equal(seen.at(-1)!.type, "DELETED");
    informer.stop();
  });

  it("an informer on a key prefix syncs and sees only its own keys (server-side filtering)", async () => {
    const opts = { bucket: "navarch-test-projection" };
    const n1 = await ResourceStore.open(nc, KINDS.ConfigMap, { ...opts, keyPrefix: "node_1." });
    const n2 = await ResourceStore.open(nc, KINDS.ConfigMap, { ...opts, keyPrefix: "node_2." });
    const empty = new Informer(await ResourceStore.open(nc, KINDS.ConfigMap, { ...opts, keyPrefix: "node_3." }), nc);
    await empty.start(); // nothing under node_3.: synced at once
    for (let i = 0; i < 5; i++) await n2.create(configMap(`b-${i}`, {}, "ns"));
    await n1.create(configMap("a-0", {}, "ns"));
    const informer = new Informer(n1, nc);
    await informer.start();
    assert.deepEqual(informer.list().map((c) => c.metadata!.name), ["a-0"]);
    const seen: string[] = [];
    informer.onEvent((e) => seen.push(e.object.metadata!.name));
    await n2.create(configMap("b-late", {}, "ns"));
    const late = await n1.create(configMap("a-late", {}, "ns"));
    assert.ok(await informer.waitForRevision(Number(late.metadata!.resourceVersion), 5_000));
    assert.deepEqual(seen, ["a-late"]);
    assert.equal(informer.get("ns", "a-late")?.metadata?.name, "a-late");
    assert.equal(empty.size, 0);
    informer.stop();
    empty.stop();
  });

  it("resumes a watch from a resourceVersion out of its history, and refuses one older than it", async () => {
    const kinds = await ResourceStore.open(nc, KINDS.ConfigMap);
    const informer = new Informer(kinds, nc, { historySize: 5 });
    await informer.start();
    const from = informer.revision;
    for (let i = 0; i < 3; i++) await kinds.create(configMap(`h-${i}`, {}, "history"));
    await informer.waitForRevision(from + 3);
    assert.deepEqual(informer.eventsSince(from).map((e) => e.object.metadata!.name), ["h-0", "h-1", "h-2"]);
    for (let i = 3; i < 10; i++) await kinds.create(configMap(`h-${i}`, {}, "history"));
    await informer.waitForRevision(from + 10);
    assert.throws(() => informer.eventsSince(from), /too old resource version/);
    informer.stop();
  });
});
