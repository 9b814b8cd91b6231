// A watch over more than 20,000 objects (issue 11, item 1): the replay of every object streams
// to the client and the watch goes on with live events; the subscription it made is removed
// when it ends. Real size, against a real gateway and nats-server.
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
import { startGateway, type RunningGateway } from "./start.js";
import { stalledWatch } from "./testing/stalled-watch.js";

const OBJECTS = 20_500;

describe("a watch over more than 20,000 objects", () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let gateway: RunningGateway;
  let md: grpc.Metadata;
  let token: string;
  let store: ResourceStore<ConfigMap>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let cms: any;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-watch-scale-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "watch-scale-test" });
    store = await ResourceStore.open<ConfigMap>(nc, KINDS.ConfigMap);
    // Written straight to the store (the gateway's create path is not what is tested here).
    for (let i = 0; i < OBJECTS; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, OBJECTS - i) }, (_, j) =>
          store.create(KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i + j}`, namespace: "default", uid: `u-${i + j}` }, data: { n: String(i + j) } })),
        ),
      );
    }
    gateway = await startGateway({
      nc,
      logger: createLogger("test", "warn"),
      options: { apiAddr: "127.0.0.1:0", bookmarkSeconds: 30, watchHistory: 1000, maxObjectBytes: 100_000 },
    });
    const secrets = await ResourceStore.open<Secret>(nc, KINDS.Secret);
    token = await issueToken(secrets, "watch-scale-token", { username: "tester", groups: ["system:masters"] });
    md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    cms = new KINDS.ConfigMap.client(gateway.address, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": -1 });
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => cms.get({ namespace: "default", name: "cm-0" }, md, (err: unknown) => resolve(!err)));
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    cms?.close();
    await gateway?.stop();
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const namespace of ["default", ""]) {
    it(`replays every object, then live events (namespace "${namespace}")`, async () => {
      const baseline = gateway.stats().subscriptions;
      const stream = cms.watch({ namespace, labelSelector: "", fieldSelector: "", resourceVersion: "", allowWatchBookmarks: false }, md);
      const seen = new Set<string>();
      let live = "";
      const marker = `live-${namespace || "all"}`;
      const result = await new Promise<string>((resolve) => {
        stream.on("data", (ev: { type: string; object: ConfigMap }) => {
          const name = ev.object.metadata!.name;
          if (name.startsWith("cm-")) seen.add(name);
          if (name === marker) {
            live = ev.type;
            resolve("live");
          }
          if (seen.size === OBJECTS && live === "" && !stream.sentLive) {
            stream.sentLive = true;
            cms.create(KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: marker } }), md, () => undefined);
          }
        });
        stream.on("error", (err: grpc.ServiceError) => resolve(`${grpc.status[err.code]}: ${err.details}`));
        stream.on("end", () => resolve("ended"));
      });
      assert.equal(gateway.stats().watches, 1);
      stream.cancel();
      assert.equal(result, "live", `watch failed after ${seen.size} objects`);
      assert.equal(seen.size, OBJECTS);
      assert.equal(live, "ADDED");
      // The watch's subscription is gone once the cancel reaches the gateway.
      for (let i = 0; i < 200 && gateway.stats().watches > 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual({ ...gateway.stats(), subscriptions: gateway.stats().subscriptions - baseline }, { watches: 0, bufferedBytes: 0, cutOffs: 0, subscriptions: 0 });
    });
  }

  it("sends each object's latest state once when it changes while the replay is under way", async () => {
    // The client stops reading, so the replay stalls early in key order ("cm-1..." first) and
    // cm-20000 / cm-20001 are changed after the watch started but before the replay reaches them.
    const w = stalledWatch(gateway.address, KINDS.ConfigMap, token, { namespace: "default", labelSelector: "", fieldSelector: "", resourceVersion: "", allowWatchBookmarks: false });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(gateway.stats().watches, 1);
    const changed = (await store.get("default", "cm-20000"))!;
    await store.update({ ...changed, data: { n: "changed" } });
    await store.delete("default", "cm-20001");
    await store.create(KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "zz-new", namespace: "default", uid: "u-new" } }));
    await new Promise((r) => setTimeout(r, 300));
    w.read();
    for (let i = 0; i < 400 && !w.events.some((e) => e.object.metadata?.name === "zz-new"); i++) await new Promise((r) => setTimeout(r, 25));
    w.cancel();
    const of = (name: string) => w.events.filter((e) => e.object.metadata?.name === name).map((e) => ({ type: e.type, data: (e.object as { data?: Record<string, string> }).data }));
    assert.deepEqual(of("zz-new"), [{ type: "ADDED", data: {} }]);
    assert.deepEqual(of("cm-20000"), [{ type: "ADDED", data: { n: "changed" } }]);
    assert.deepEqual(of("cm-20001"), [], "a deleted object is neither replayed nor reported deleted");
    assert.equal(w.events.filter((e) => e.type === "ADDED" && e.object.metadata?.name?.startsWith("cm-")).length, OBJECTS - 1);
    assert.equal(w.events.filter((e) => e.type !== "ADDED").length, 0);
  });
});
