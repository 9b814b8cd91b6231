// Per-client limits and bounded watches (issue 11), against real gateways and a real
// nats-server: a watch whose client stops reading is cut off with OUT_OF_RANGE once its queued
// bytes pass the budget; watches that never read hold a bounded number of bytes and leave no
// subscription behind when cancelled; watches per client and in total, the bytes all watches
// hold, and the request rate are refused with RESOURCE_EXHAUSTED and a retry-after-ms trailer.
import * as grpc from "@grpc/grpc-js";
import { KINDS, type ConfigMap, type Secret } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, issueToken, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { LimitOptions } from "./limits.js";
import { startGateway, type RunningGateway } from "./start.js";
import { stalledWatch } from "./testing/stalled-watch.js";

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Client = any;

function call<T>(fn: (cb: Callback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** `p`, or a failure after 10 s (instead of the test's own timeout). */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), 10_000).unref())]);
}

/** How a watch ended, once it has. */
function ending(stream: grpc.ClientReadableStream<unknown>): Promise<grpc.ServiceError | "ended"> {
  return new Promise((resolve) => {
    stream.on("error", (err: grpc.ServiceError) => resolve(err));
    stream.on("end", () => resolve("ended"));
  });
}

/** Resolves once the watch has sent its response headers or first event (it is being served). */
function started(stream: grpc.ClientReadableStream<unknown>): Promise<void> {
  return new Promise((resolve) => stream.once("metadata", () => resolve()));
}

const WATCH_ALL = { namespace: "default", labelSelector: "", fieldSelector: "", resourceVersion: "", allowWatchBookmarks: false };
const PAD = "x".repeat(4_000);

describe("per-client limits and bounded watches", () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let store: ResourceStore<ConfigMap>;
  let secrets: ResourceStore<Secret>;
  const gateways: RunningGateway[] = [];
  const clients: Client[] = [];
  let created = 0;
  const tokens = new Map<string, string>();

  const gatewayWith = async (limits: Partial<LimitOptions>) => {
    const gw = await startGateway({
      nc,
      logger: createLogger("test", "error"),
      options: { apiAddr: "127.0.0.1:0", bookmarkSeconds: 30, watchHistory: 1000, maxObjectBytes: 100_000, ...limits },
    });
    gateways.push(gw);
    return gw;
  };
  const clientOf = (gw: RunningGateway): Client => {
    // Its own connection, so one client's stalled streams do not stall another's.
    const c = new KINDS.ConfigMap.client(gw.address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    clients.push(c);
    return c;
  };
  const tokenFor = async (username: string, gw: RunningGateway): Promise<grpc.Metadata> => {
    const token = await issueToken(secrets, `token-${username}`, { username, groups: ["system:masters"] });
    tokens.set(username, token);
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    // The token Secret reaches the gateway's cache through its watch.
    const c = clientOf(gw);
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => c.get({ namespace: "default", name: "none" }, md, (err: grpc.ServiceError | null) => resolve(err?.code !== grpc.status.UNAUTHENTICATED)));
      if (ok) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return md;
  };
  /** `n` ConfigMaps of about 4 KB each, written straight to the store. */
  const createObjects = async (n: number, labels: Record<string, string> = {}) => {
    const first = created;
    created += n;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.create(KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `pad-${first + i}`, namespace: "default", uid: `u-${first + i}`, labels }, data: { pad: PAD } })),
      ),
    );
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-limits-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "limits-test" });
    store = await ResourceStore.open<ConfigMap>(nc, KINDS.ConfigMap);
    secrets = await ResourceStore.open<Secret>(nc, KINDS.Secret);
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const gw of gateways) await gw.stop();
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("cuts off a watch whose client stopped reading with OUT_OF_RANGE once its queued bytes pass the budget, and removes its subscription", async () => {
    const budget = 50_000;
    const gw = await gatewayWith({ watchBufferBytes: budget });
    await tokenFor("slow", gw);
    const baseline = gw.stats().subscriptions;
    const w = stalledWatch(gw.address, KINDS.ConfigMap, tokens.get("slow")!, { ...WATCH_ALL, labelSelector: "test=slow" });
    await until("the watch is served", () => gw.stats().watches === 1);
    let maxBuffered = 0;
    for (let i = 0; i < 100 && gw.stats().cutOffs === 0; i++) {
      await createObjects(5, { test: "slow" });
      await new Promise((r) => setTimeout(r, 10));
      maxBuffered = Math.max(maxBuffered, gw.stats().bufferedBytes);
    }
    assert.equal(gw.stats().cutOffs, 1, "the watch was not cut off");
    // What a cut-off watch still holds is what gRPC had taken: the write window, not the queue.
    assert.ok(gw.stats().bufferedBytes <= 64 * 1024 + 8_000, `buffered ${gw.stats().bufferedBytes} after the cut-off`);
    assert.ok(maxBuffered <= budget + 64 * 1024 + 8_000, `buffered up to ${maxBuffered}`);
    assert.equal(gw.stats().subscriptions, baseline, "the cut-off watch is still subscribed");
    // The client reads again: it gets what was sent before the cut-off, then the status.
    w.read();
    const status = await within(w.status, "the cut-off watch ends");
    assert.equal(status.code, grpc.status.OUT_OF_RANGE, `${status.code}: ${status.details}`);
    assert.match(status.details, /watch cut off: its client is too slow \(more than 50000 bytes of events waiting\); list again/);
    assert.ok(w.received > 0);
    await until("the call is over", () => gw.stats().watches === 0);
    assert.deepEqual(gw.stats(), { watches: 0, bufferedBytes: 0, cutOffs: 1, subscriptions: baseline });
  });

  it("watches that never read hold a bounded number of bytes, and cancelling them leaves no subscription", async () => {
    const gw = await gatewayWith({});
    await tokenFor("idle", gw);
    await createObjects(100); // about 400 KB: more than a client that does not read takes
    const baseline = gw.stats().subscriptions;
    const n = 40;
    const watches = Array.from({ length: n }, () => stalledWatch(gw.address, KINDS.ConfigMap, tokens.get("idle")!, WATCH_ALL));
    await until("every watch is served", () => gw.stats().watches === n);
    assert.equal(gw.stats().subscriptions, baseline + n);
    await new Promise((r) => setTimeout(r, 300));
    const perWatch = gw.stats().bufferedBytes / n;
    assert.ok(perWatch <= 64 * 1024 + 8_000, `${perWatch} bytes per watch`);
    for (const w of watches) w.cancel();
    await until("every cancelled watch is gone", () => gw.stats().watches === 0);
    assert.deepEqual(gw.stats(), { watches: 0, bufferedBytes: 0, cutOffs: 0, subscriptions: baseline });
  });

  it("limits watches per client and in total with RESOURCE_EXHAUSTED and retry-after-ms; a freed slot can be taken again", async () => {
    const gw = await gatewayWith({ watchesPerClient: 2, watchesTotal: 3 });
    const p = await tokenFor("p", gw);
    const q = await tokenFor("q", gw);
    const cms = clientOf(gw);
    const open = async (md: grpc.Metadata) => {
      const s = cms.watch({ ...WATCH_ALL, labelSelector: "none=here" }, md);
      const end = ending(s);
      s.on("data", () => undefined);
      const first = await Promise.race([started(s).then(() => undefined), end]);
      return { s, end, first };
    };
    const p1 = await open(p);
    const p2 = await open(p);
    assert.equal(p1.first, undefined);
    assert.equal(p2.first, undefined);
    const p3 = await open(p);
    const refused = (await p3.end) as grpc.ServiceError;
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(refused.details, /too many watches for user "p": 2 open, at most 2 per client/);
    assert.equal(refused.metadata.get("retry-after-ms")[0], "1000");
    const q1 = await open(q);
    assert.equal(q1.first, undefined, "another client is not limited by p's watches");
    const q2 = await open(q);
    const full = (await q2.end) as grpc.ServiceError;
    assert.equal(full.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(full.details, /maximum of 3 watches open/);
    p1.s.cancel();
    await until("p's cancelled watch is gone", () => gw.stats().watches === 2);
    const q3 = await open(q);
    assert.equal(q3.first, undefined, "the freed slot is taken");
    for (const w of [p2, q1, q3]) w.s.cancel();
    await until("all watches are gone", () => gw.stats().watches === 0);
  });

  it("cuts off the watch furthest behind when all watches together hold more than their total budget", async () => {
    const gw = await gatewayWith({ watchBufferTotalBytes: 300_000 });
    const md = await tokenFor("total", gw);
    const reading = clientOf(gw).watch({ ...WATCH_ALL, labelSelector: "test=total" }, md);
    let seen = 0;
    reading.on("data", () => seen++);
    const readingEnd = ending(reading);
    const stalled = stalledWatch(gw.address, KINDS.ConfigMap, tokens.get("total")!, { ...WATCH_ALL, labelSelector: "test=total" });
    await until("both watches are served", () => gw.stats().watches === 2);
    for (let i = 0; i < 200 && gw.stats().cutOffs === 0; i++) {
      await createObjects(5, { test: "total" });
      // In step with the reader, so that only the stalled watch falls behind.
      await until("the reading watch has every event", () => seen === (i + 1) * 5 || gw.stats().cutOffs > 0);
    }
    assert.equal(gw.stats().cutOffs, 1);
    stalled.read();
    const status = await within(stalled.status, "the stalled watch ends");
    assert.equal(status.code, grpc.status.OUT_OF_RANGE);
    assert.match(status.details, /watch buffers are full \(more than 300000 bytes\) and this watch is the furthest behind/);
    await until("the stalled watch is gone", () => gw.stats().watches === 1);
    reading.cancel();
    assert.notEqual(await within(readingEnd, "the reading watch ends"), "ended");
  });

  it("limits each client's request rate with RESOURCE_EXHAUSTED and retry-after-ms; a refused create writes nothing", async () => {
    const gw = await gatewayWith({ requestsPerSecond: 5, requestBurst: 5 });
    const r = await tokenFor("r", gw);
    const s = await tokenFor("s", gw);
    const cms = clientOf(gw);
    // More than the burst at once: some are refused, at most burst + what refills meanwhile pass.
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => call((cb) => cms.get({ namespace: "default", name: "pad-0" }, r, cb))),
    );
    const refused = results.filter((x) => x.status === "rejected").map((x) => (x as PromiseRejectedResult).reason as grpc.ServiceError);
    assert.ok(refused.length >= 10, `${refused.length} of 20 refused`);
    for (const e of refused) {
      assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(e.details, /too many requests from user "r": more than 5 per second \(burst 5\); retry after \d+ ms/);
    }
    const retryAfter = Number(refused[0]!.metadata.get("retry-after-ms")[0]);
    assert.ok(retryAfter > 0 && retryAfter <= 1000, `retry-after-ms ${retryAfter}`);
    // Another client is not affected.
    await call((cb) => cms.get({ namespace: "default", name: "pad-0" }, s, cb));
    // A refused create changes nothing.
    const cm = KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "refused" } });
    let createRefused = false;
    for (let i = 0; i < 5 && !createRefused; i++) {
      await Promise.allSettled(Array.from({ length: 10 }, () => call((cb) => cms.get({ namespace: "default", name: "pad-0" }, r, cb)))); // spends the budget
      try {
        await call((cb) => cms.create(cm, r, cb));
        await new Promise((res) => setTimeout(res, 1000));
        await call((cb) => cms.delete({ namespace: "default", name: "refused" }, s, cb));
      } catch (err) {
        assert.equal((err as grpc.ServiceError).code, grpc.status.RESOURCE_EXHAUSTED);
        createRefused = true;
      }
    }
    assert.ok(createRefused);
    await assert.rejects(call((cb) => cms.get({ namespace: "default", name: "refused" }, s, cb)), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    // After the hint, the client may call again.
    await new Promise((res) => setTimeout(res, 1000));
    await call((cb) => cms.get({ namespace: "default", name: "pad-0" }, r, cb));
  });
});
