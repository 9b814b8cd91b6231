// Hostile input against the real gateway and nats-server (issue 11, items 3-7): every refusal is a
// precise, small status within the deadline, the channel keeps working afterwards, one bad value
// in a bucket breaks nothing else and is never served, keys are never ambiguous, and
// resourceVersions and selectors are parsed strictly.
import * as grpc from "@grpc/grpc-js";
import { ALL_KINDS, KINDS, type ConfigMap, type Event, type Secret } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, issueToken, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startGateway, type RunningGateway } from "./start.js";

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;

/** The largest status message we allow on the wire (docs/api-errors.md). */
const MAX_DETAILS_BYTES = 4096;

function call<T>(fn: (cb: Callback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

/** A deadline well below the 5 s the old code waited: the answer must come before it. */
function soon(ms = 3_000): grpc.CallOptions {
  return { deadline: new Date(Date.now() + ms) };
}

async function refused(p: Promise<unknown>, code: grpc.status, details?: RegExp): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    assert.equal(e.code, code, `expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${String(e.details).slice(0, 300)}`);
    assert.ok(Buffer.byteLength(e.details) <= MAX_DETAILS_BYTES, `details are ${Buffer.byteLength(e.details)} bytes`);
    if (details) assert.match(e.details, details);
    return e;
  }
  assert.fail(`expected ${grpc.status[code]}, but the call succeeded`);
}

const listReq = (extra: Record<string, unknown> = {}) => ({ namespace: "default", labelSelector: "", fieldSelector: "", limit: 0, continue: "", ...extra });

describe("api-gateway errors under hostile input", () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let gateway: RunningGateway;
  let md: grpc.Metadata;
  let configMaps: ResourceStore<ConfigMap>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let cms: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let evs: any;

  const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap =>
    KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels }, data });

  /** The channel still answers after a refusal (a big status used to wedge it). */
  async function channelWorks(): Promise<void> {
    const got = await call<ConfigMap>((cb) => cms.get({ namespace: "default", name: "healthy" }, md, soon(), cb));
    assert.equal(got.data.ok, "yes");
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-gw-errors-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "gateway-errors-test" });
    gateway = await startGateway({
      nc,
      logger: createLogger("test", "fatal"),
      // Big enough to carry a 1.5 MB selector to the handler.
      options: { apiAddr: "127.0.0.1:0", bookmarkSeconds: 1, watchHistory: 1000, maxObjectBytes: 1_000_000 },
    });
    const secrets = await ResourceStore.open<Secret>(nc, KINDS.Secret);
    configMaps = await ResourceStore.open<ConfigMap>(nc, KINDS.ConfigMap);
    const token = await issueToken(secrets, "test-token", { username: "tester", groups: ["system:masters"] });
    md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    cms = new KINDS.ConfigMap.client(gateway.address, grpc.credentials.createInsecure());
    evs = new KINDS.Event.client(gateway.address, grpc.credentials.createInsecure());
    for (let i = 0; i < 100; i++) {
      try {
        await call((cb) => cms.create(cm("healthy", { ok: "yes" }), md, cb));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await channelWorks();
  });

  after(async () => {
    cms?.close();
    evs?.close();
    await gateway?.stop();
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("bounded errors (item 3)", () => {
    it("a 100,000-character name in Get is a small INVALID_ARGUMENT, and the channel keeps working", async () => {
      await refused(call((cb) => cms.get({ namespace: "default", name: "a".repeat(100_000) }, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^name: .*no more than 253 characters/);
      await refused(call((cb) => cms.get({ namespace: "é".repeat(100_000), name: "x" }, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^namespace: /);
      await channelWorks();
    });

    it("a create with 1,000 invalid labels names the first ones and counts the rest", async () => {
      const labels: Record<string, string> = {};
      for (let i = 0; i < 1000; i++) labels[`bad key ${i} ${"x".repeat(100)}`] = "v";
      const e = await refused(call((cb) => cms.create(cm("many-labels", {}, labels), md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^metadata\.labels/);
      assert.match(e.details, /and \d+ more errors$/);
      await channelWorks();
    });

    it("a 1.5 MB label selector is refused early and briefly", async () => {
      const selector = Array.from({ length: 150_000 }, (_, i) => `k${i}=v`).join(",").slice(0, 1_500_000);
      await refused(call((cb) => cms.list(listReq({ labelSelector: selector }), md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^labelSelector: must be no more than \d+ characters/);
      await refused(call((cb) => cms.list(listReq({ fieldSelector: "metadata.name=" + "a".repeat(1_500_000) }), md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^fieldSelector: must be no more than/);
      await channelWorks();
    });

    it("a bad selector does not echo the whole selector back", async () => {
      await refused(call((cb) => cms.list(listReq({ labelSelector: `${"a".repeat(10_000)} in (` }), md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^labelSelector: /);
      const e = await refused(call((cb) => cms.list(listReq({ labelSelector: `app=${"é".repeat(5_000)}` }), md, soon(), cb)), grpc.status.INVALID_ARGUMENT);
      assert.ok(e.details.length < 1000, e.details);
      await channelWorks();
    });
  });

  describe("one bad value in a bucket (item 4)", () => {
    it("is not served, names itself, and breaks neither Get of other keys nor List", async () => {
      const before = await call<ConfigMap>((cb) => cms.create(cm("was-good", { v: "1" }), md, cb));
      assert.ok(before.metadata!.resourceVersion);
      const bad = new TextEncoder();
      await configMaps.kv.put("default.array", bad.encode("[1,2,3]"));
      await configMaps.kv.put("default.notjson", bad.encode("{not json"));
      await configMaps.kv.put("default.wrongname", bad.encode(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "other", namespace: "default" } })));
      await configMaps.kv.put("default.was-good", bad.encode("[1,2,3]"));
      const marker = await call<ConfigMap>((cb) => cms.create(cm("after-bad", { v: "1" }), md, cb));
      assert.ok(marker.metadata!.resourceVersion);

      for (const name of ["array", "notjson", "wrongname", "was-good"]) {
        await refused(call((cb) => cms.get({ namespace: "default", name }, md, soon(), cb)), grpc.status.DATA_LOSS, new RegExp(`configmaps "${name}".*cannot be decoded`));
      }
      await channelWorks();
      const list = await call<{ items: ConfigMap[] }>((cb) => cms.list(listReq(), md, soon(), cb));
      const names = list.items.map((c) => c.metadata!.name).sort();
      assert.deepEqual(names.filter((n) => ["array", "notjson", "wrongname", "was-good", "after-bad"].includes(n)), ["after-bad"]);
      const all = await call<{ items: ConfigMap[] }>((cb) => cms.list(listReq({ namespace: "" }), md, soon(), cb));
      assert.ok(all.items.some((c) => c.metadata!.name === "healthy"));

      // Surfaced where users look: a Warning Event in navarch-system naming the key.
      let warnings: Event[] = [];
      for (let i = 0; i < 100 && warnings.length < 4; i++) {
        const events = await call<{ items: Event[] }>((cb) => evs.list(listReq({ namespace: "navarch-system" }), md, cb));
        warnings = events.items.filter((e) => e.reason === "UndecodableValue");
        if (warnings.length < 4) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(warnings.length, 4, warnings.map((w) => w.message).join("\n"));
      assert.ok(warnings.every((w) => w.type === "Warning" && /navarch-configmaps/.test(w.message)));
      assert.ok(warnings.some((w) => /"default\.was-good"/.test(w.message)));

      // The bad value can be deleted (and then the name is free again).
      await call((cb) => cms.delete({ namespace: "default", name: "was-good", propagationPolicy: "" }, md, soon(), cb));
      await refused(call((cb) => cms.get({ namespace: "default", name: "was-good" }, md, soon(), cb)), grpc.status.NOT_FOUND);
      await call((cb) => cms.create(cm("was-good", { v: "2" }), md, cb));
      const again = await call<ConfigMap>((cb) => cms.get({ namespace: "default", name: "was-good" }, md, cb));
      assert.equal(again.data.v, "2");
    });
  });

  describe("unambiguous keys (item 5)", () => {
    it("Get and Delete refuse a namespace that is not a DNS label instead of reaching default/app.key", async () => {
      await call((cb) => cms.create(cm("app.key", { v: "1" }), md, cb));
      await refused(call((cb) => cms.get({ namespace: "default.app", name: "key" }, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^namespace: /);
      await refused(call((cb) => cms.delete({ namespace: "default.app", name: "key", propagationPolicy: "" }, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^namespace: /);
      await refused(call((cb) => cms.list(listReq({ namespace: "default.app" }), md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^namespace: /);
      await refused(call((cb) => cms.get({ namespace: "default", name: "a*b" }, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^name: /);
      await refused(call((cb) => cms.get({ namespace: "default", name: "" }, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^name: Required value/);
      const still = await call<ConfigMap>((cb) => cms.get({ namespace: "default", name: "app.key" }, md, cb));
      assert.equal(still.data.v, "1");
    });
  });

  describe("precise codes (item 6)", () => {
    it("malformed protobuf is INVALID_ARGUMENT, not INTERNAL", async () => {
      const raw = new grpc.Client(gateway.address, grpc.credentials.createInsecure());
      try {
        const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        await refused(
          call((cb) => raw.makeUnaryRequest("/navarch.api.v1.ConfigMapService/Get", (b: Buffer) => b, (b: Buffer) => b, garbage, md, soon(), cb)),
          grpc.status.INVALID_ARGUMENT,
          /malformed request/,
        );
        await refused(
          call((cb) => raw.makeUnaryRequest("/navarch.api.v1.ConfigMapService/Create", (b: Buffer) => b, (b: Buffer) => b, garbage, md, soon(), cb)),
          grpc.status.INVALID_ARGUMENT,
          /malformed request/,
        );
      } finally {
        raw.close();
      }
      await channelWorks();
    });

    it("create and update without metadata (or with nothing at all) are INVALID_ARGUMENT for every kind", async () => {
      const bare = KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", data: { a: "b" } });
      await refused(call((cb) => cms.create(bare, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^metadata: Required value/);
      await refused(call((cb) => cms.update(bare, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^metadata: Required value/);
      for (const info of ALL_KINDS) {
        const client = new info.client(gateway.address, grpc.credentials.createInsecure());
        try {
          for (const method of ["create", "update"] as const) {
            for (const partial of [{}, { metadata: { name: "x" } }]) {
              const body = info.codec.fromPartial(partial);
              try {
                await call((cb) => client[method](body, md, soon(), cb));
              } catch (err) {
                const e = err as grpc.ServiceError;
                assert.notEqual(e.code, grpc.status.INTERNAL, `${info.kind} ${method} ${JSON.stringify(partial)}: ${e.details}`);
                assert.notEqual(e.code, grpc.status.DEADLINE_EXCEEDED, `${info.kind} ${method}`);
              }
            }
          }
        } finally {
          client.close();
        }
      }
    });
  });

  describe("strict resourceVersions and selectors (item 7)", () => {
    it("refuses non-canonical resourceVersions on update, delete and watch", async () => {
      const obj = await call<ConfigMap>((cb) => cms.get({ namespace: "default", name: "healthy" }, md, cb));
      for (const rv of [" 8", "1e3", "0x10", "08", "-1", "1.0", "1e20", "99999999999999999999"]) {
        const edited = { ...obj, metadata: { ...obj.metadata!, resourceVersion: rv } };
        await refused(call((cb) => cms.update(edited, md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^metadata\.resourceVersion: /);
        await refused(
          call((cb) => cms.delete({ namespace: "default", name: "healthy", propagationPolicy: "", preconditions: { uid: "", resourceVersion: rv } }, md, soon(), cb)),
          grpc.status.INVALID_ARGUMENT,
          /^preconditions\.resourceVersion: /,
        );
        const stream = cms.watch({ namespace: "default", labelSelector: "", fieldSelector: "", resourceVersion: rv, allowWatchBookmarks: false }, md, soon());
        const status = await new Promise<grpc.ServiceError>((resolve) => {
          stream.on("data", () => undefined);
          stream.on("error", resolve);
        });
        assert.equal(status.code, grpc.status.INVALID_ARGUMENT, `watch from ${JSON.stringify(rv)}: ${status.details}`);
      }
      await channelWorks();
    });

    it("a resourceVersion beyond the store's last revision is refused at once, not after a silent wait", async () => {
      const obj = await call<ConfigMap>((cb) => cms.get({ namespace: "default", name: "healthy" }, md, cb));
      const future = "900000000000";
      const edited = { ...obj, metadata: { ...obj.metadata!, resourceVersion: future } };
      await refused(call((cb) => cms.update(edited, md, soon(2_000), cb)), grpc.status.ABORTED, /newer than/);
      const stream = cms.watch({ namespace: "default", labelSelector: "", fieldSelector: "", resourceVersion: future, allowWatchBookmarks: false }, md, soon(2_000));
      const status = await new Promise<grpc.ServiceError>((resolve) => {
        stream.on("data", () => undefined);
        stream.on("error", resolve);
      });
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT, status.details);
      assert.match(status.details, /newer than/);
    });

    it("refuses loose field selectors", async () => {
      for (const sel of ["metadata.name=a,,metadata.namespace=b", ",", "metadata.name=a=b", "metadata.name", "metadata.name=a b"]) {
        await refused(call((cb) => cms.list(listReq({ fieldSelector: sel }), md, soon(), cb)), grpc.status.INVALID_ARGUMENT, /^fieldSelector: /);
      }
      const ok = await call<{ items: ConfigMap[] }>((cb) => cms.list(listReq({ fieldSelector: "metadata.name=healthy" }), md, cb));
      assert.deepEqual(ok.items.map((c) => c.metadata!.name), ["healthy"]);
    });
  });
});
