// Idempotent creates (docs/api-retries.md) against a gateway process and a real nats-server: the
// protocol's cases, then many creates in flight across a real kill -9 of the gateway, retried by
// the clients with their keys: every create exists exactly once, none is answered ALREADY_EXISTS.
import * as grpc from "@grpc/grpc-js";
import { KINDS, type ConfigMap } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, ResourceStore } from "@navarch/store";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CREATE_REQUESTS_BUCKET, createOnce, CreateRequests, type CreateAs } from "./create-requests.js";
import { GatewayProcess } from "./testing/gateway-process.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Client = any;

const cm = (name: string, extra: Partial<ConfigMap["metadata"]> = {}): ConfigMap =>
  KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, ...extra }, data: { k: name } });

describe("idempotent creates across a kill -9 of the gateway", () => {
  let dir: string;
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  let gw: GatewayProcess;
  let store: ResourceStore<ConfigMap>;
  let client: Client;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-idem-"));
    nats = await NatsServerProcess.start({ storeDir: path.join(dir, "nats") });
    gw = await GatewayProcess.start(nats.url, path.join(dir, "home"));
    nc = await connectNats({ url: nats.url, name: "idempotency-test" });
    store = await ResourceStore.open<ConfigMap>(nc, KINDS.ConfigMap);
    client = new KINDS.ConfigMap.client(gw.address, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await gw?.kill("SIGTERM");
    await nc?.close();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (obj: ConfigMap, key?: string, deadlineMs = 5_000): Promise<ConfigMap> => {
    const md = gw.metadata();
    if (key !== undefined) md.set("idempotency-key", key);
    return new Promise((resolve, reject) =>
      client.create(obj, md, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: ConfigMap) => (err ? reject(err) : resolve(res))),
    );
  };
  const code = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return "OK";
    } catch (err) {
      return `${grpc.status[(err as grpc.ServiceError).code]}: ${(err as grpc.ServiceError).details}`;
    }
  };
  const recordKeys = async (): Promise<string[]> => {
    const kv = await new Kvm(jetstream(nc)).open(CREATE_REQUESTS_BUCKET);
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    return keys;
  };

  it("answers a repeated key with the object it created, not ALREADY_EXISTS", async () => {
    const key = randomUUID();
    const first = await create(cm("same"), key);
    const again = await create(cm("same"), key);
    assert.equal(again.metadata!.uid, first.metadata!.uid);
    assert.equal(again.metadata!.resourceVersion, first.metadata!.resourceVersion);
    // Without a key, or with another, the name is taken.
    assert.match(await code(create(cm("same"))), /^ALREADY_EXISTS/);
    assert.match(await code(create(cm("same"), randomUUID())), /^ALREADY_EXISTS/);
  });

  it("answers concurrent creates with one key all with the same object", async () => {
    for (let round = 0; round < 20; round++) {
      const key = randomUUID();
      const answers = await Promise.all(Array.from({ length: 12 }, () => code(create(cm(`conc-${round}`), key))));
      assert.deepEqual(answers.filter((a) => a !== "OK"), [], `round ${round}`);
      const uids = new Set(await Promise.all(Array.from({ length: 3 }, async () => (await create(cm(`conc-${round}`), key)).metadata!.uid)));
      assert.equal(uids.size, 1);
    }
  });

  it("answers the first attempt with the object when a concurrent retry stored it first", async () => {
    // The interleaving, made deterministic: attempt A records the key; before A writes, retry B
    // (same key) finds the record and stores the object; then A's write finds the name taken.
    const requests = await CreateRequests.open(nc);
    const key = randomUUID();
    let nested = false;
    const createAs: CreateAs<ConfigMap> = async (input, uid, beforeWrite) => {
      const obj = { ...input, metadata: { ...input.metadata!, namespace: "default", uid } };
      await beforeWrite?.(obj);
      if (beforeWrite && !nested) {
        nested = true;
        await createOnce(requests, store, KINDS.ConfigMap, key, input, createAs, () => undefined);
      }
      return store.create(obj);
    };
    const a = await createOnce(requests, store, KINDS.ConfigMap, key, cm("interleaved"), createAs, () => undefined);
    assert.equal(a.metadata!.uid, (await store.get("default", "interleaved"))!.metadata!.uid);
  });

  it("keeps the generated name of the first attempt for a retry of a generateName create", async () => {
    const key = randomUUID();
    const obj = cm("", { generateName: "gen-" });
    const first = await create(obj, key);
    const again = await create(obj, key);
    assert.match(first.metadata!.name, /^gen-/);
    assert.equal(again.metadata!.name, first.metadata!.name);
    assert.equal(again.metadata!.uid, first.metadata!.uid);
  });

  it("refuses a key used for another object, and a malformed key, writing nothing", async () => {
    const key = randomUUID();
    await create(cm("one"), key);
    assert.match(await code(create(cm("two"), key)), /^INVALID_ARGUMENT: idempotency-key: already used to create ConfigMap "default\/one"/);
    assert.equal(await store.get("default", "two"), undefined);
    assert.match(await code(create(cm("three"), "bad key with spaces")), /^INVALID_ARGUMENT: idempotency-key: /);
    assert.match(await code(create(cm("three"), "x".repeat(129))), /^INVALID_ARGUMENT: idempotency-key: /);
    assert.equal(await store.get("default", "three"), undefined);
  });

  it("records nothing for a create refused by validation", async () => {
    const key = randomUUID();
    const before = (await recordKeys()).length;
    assert.match(await code(create(cm("Not_A_Name"), key)), /^INVALID_ARGUMENT/);
    assert.equal((await recordKeys()).length, before);
    assert.ok(!(await recordKeys()).includes(createHash("sha256").update(key).digest("hex")));
  });

  it("creates a recorded but unwritten object with the recorded uid (the gateway died between the two writes)", async () => {
    const key = randomUUID();
    const uid = randomUUID();
    const kv = await new Kvm(jetstream(nc)).open(CREATE_REQUESTS_BUCKET);
    await kv.create(createHash("sha256").update(key).digest("hex"), JSON.stringify({ kind: "ConfigMap", namespace: "default", name: "half", uid }));
    const made = await create(cm("half"), key);
    assert.equal(made.metadata!.uid, uid);
    assert.equal((await store.get("default", "half"))!.metadata!.uid, uid);
  });

  it("many creates in flight, kill -9, restart: each exists exactly once and every client gets success", async () => {
    const total = 400;
    const workers = 40;
    const names = Array.from({ length: total }, (_, i) => `burst-${i}`);
    const keys = new Map(names.map((n) => [n, randomUUID()]));
    const results = new Map<string, { uid: string; attempts: number }>();
    const failures: string[] = [];
    let acked = 0;
    let retried = 0;

    // The documented client loop: same key, retry UNAVAILABLE and DEADLINE_EXCEEDED, bounded.
    const createWithRetry = async (name: string): Promise<void> => {
      for (let attempt = 1; attempt <= 200; attempt++) {
        try {
          const res = await create(cm(name), keys.get(name), 3_000);
          results.set(name, { uid: res.metadata!.uid, attempts: attempt });
          acked++;
          if (attempt > 1) retried++;
          return;
        } catch (err) {
          const e = err as grpc.ServiceError;
          if (e.code !== grpc.status.UNAVAILABLE && e.code !== grpc.status.DEADLINE_EXCEEDED) {
            failures.push(`${name}: ${grpc.status[e.code]} ${e.details}`);
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      failures.push(`${name}: still unavailable after 200 attempts`);
    };

    let next = 0;
    const run = Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < names.length) await createWithRetry(names[next++]!);
      }),
    );
    // Kill while creates are in flight, twice, once a share of them is acknowledged.
    for (const share of [0.2, 0.55]) {
      for (let i = 0; i < 600 && acked < total * share; i++) await new Promise((r) => setTimeout(r, 20));
      await gw.kill("SIGKILL");
      await new Promise((r) => setTimeout(r, 300));
      await gw.restart();
    }
    await run;

    assert.deepEqual(failures, [], "no create failed (in particular none got ALREADY_EXISTS)");
    assert.equal(results.size, total);
    const uids = new Set<string>();
    for (const name of names) {
      const stored = await store.get("default", name);
      assert.ok(stored, `${name} exists`);
      assert.equal(stored.metadata!.uid, results.get(name)!.uid, `${name}: the client was answered with the stored object`);
      uids.add(stored.metadata!.uid);
    }
    assert.equal(uids.size, total, "one object per create");
    let stored = 0;
    for await (const k of await store.kv.keys()) if (k.startsWith("default.burst-")) stored++;
    assert.equal(stored, total, "exactly the creates, nothing twice");
    assert.ok(retried > 0, "the kills happened with creates in flight");
    assert.deepEqual(gw.unexpectedExits, []);
    process.stdout.write(`# idempotent creates: ${total} creates, ${retried} retried across 2 kill -9, all stored once\n`);
  });
});
