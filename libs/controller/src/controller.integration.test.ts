// The controller runtime against a real nats-server: informer events -> keys -> worker machines.
import { KINDS, type ConfigMap, type Secret } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, type ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Controller, watch } from "./controller.js";
import { SharedInformers } from "./shared-informers.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let informers: SharedInformers;
let configMaps: ResourceStore<ConfigMap>;
let secrets: ResourceStore<Secret>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-controller-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "controller-test" });
  informers = new SharedInformers(nc);
  configMaps = await informers.store(KINDS.ConfigMap);
  secrets = await informers.store(KINDS.Secret);
});
after(async () => {
  await informers?.stop();
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function configMap(namespace: string, name: string, data: Record<string, string> = {}): ConfigMap {
  return KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace, name }, data });
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("Controller (real NATS)", () => {
  test("syncs every key after the replay, then each change; owned objects map to their owner's key; stop drains", async () => {
    await configMaps.create(configMap("ctl", "one"));
    await configMaps.create(configMap("ctl", "two"));
    await configMaps.create(configMap("ctl", "three"));
    const cmInformer = await informers.informer(KINDS.ConfigMap);
    const secretInformer = await informers.informer(KINDS.Secret);
    await informers.start();

    const synced: string[] = [];
    const active = new Set<string>();
    let overlaps = 0;
    let maxConcurrent = 0;
    let finishedSlow = false;
    const controller = new Controller({
      name: "test",
      workers: 3,
      watches: [
        watch(cmInformer, (e) => (e.object.metadata!.namespace === "ctl" ? [e.key] : [])),
        // A Secret labelled owner=<configmap> is "owned" by that ConfigMap.
        watch(secretInformer, (e) => {
          const owner = e.object.metadata?.labels?.owner;
          return owner ? [`${e.object.metadata!.namespace}.${owner}`] : [];
        }),
      ],
      keys: () => cmInformer.list("ctl").map((cm) => configMaps.keyOf(cm)),
      sync: async (key) => {
        if (active.has(key)) overlaps++;
        active.add(key);
        maxConcurrent = Math.max(maxConcurrent, active.size);
        await new Promise((r) => setTimeout(r, key === "ctl.slow" ? 300 : 20));
        if (key === "ctl.slow") finishedSlow = true;
        active.delete(key);
        synced.push(key);
      },
    });
    await controller.start();
    await waitFor("initial keys", () => synced.length >= 3);
    assert.deepEqual([...synced].sort(), ["ctl.one", "ctl.three", "ctl.two"]);

    // A burst of updates to one key is never synced twice at once, and collapses.
    let cm = (await configMaps.get("ctl", "one"))!;
    for (let i = 0; i < 20; i++) cm = (await configMaps.update({ ...cm, data: { i: String(i) } }))!;
    await configMaps.create(configMap("ctl", "four"));
    await configMaps.create(configMap("other", "ignored"));
    await waitFor("four", () => synced.includes("ctl.four"));
    await waitFor("one settles", () => controller.queue.len === 0 && controller.queue.inFlight === 0);
    const ones = synced.filter((k) => k === "ctl.one").length;
    assert.ok(ones >= 2 && ones <= 21, `one synced ${ones} times`);
    assert.equal(overlaps, 0, "no key synced by two workers at once");
    assert.ok(!synced.includes("other.ignored"));

    const before = synced.filter((k) => k === "ctl.two").length;
    await secrets.create(
      KINDS.Secret.codec.fromPartial({ apiVersion: "v1", kind: "Secret", metadata: { namespace: "ctl", name: "s", labels: { owner: "two" } } }),
    );
    await waitFor("owner synced", () => synced.filter((k) => k === "ctl.two").length > before);

    // stop() waits for the sync in flight.
    await configMaps.create(configMap("ctl", "slow"));
    await waitFor("slow started", () => active.has("ctl.slow"));
    await controller.stop();
    assert.equal(finishedSlow, true, "stop resolved only after the sync in flight finished");
    assert.deepEqual(controller.workerStates, ["stopped", "stopped", "stopped"]);
    const count = synced.length;
    await configMaps.create(configMap("ctl", "after-stop"));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(synced.length, count, "nothing synced after stop");
    assert.ok(maxConcurrent >= 1);
  });

  test("resync re-enqueues every key periodically; a failing key is retried with backoff", async () => {
    await configMaps.create(configMap("resync", "a"));
    const cmInformer = await informers.informer(KINDS.ConfigMap);
    await informers.start();
    const synced: string[] = [];
    let failures = 0;
    const controller = new Controller({
      name: "resync",
      watches: [watch(cmInformer, (e) => (e.object.metadata!.namespace === "resync" ? [e.key] : []))],
      keys: () => cmInformer.list("resync").map((c) => configMaps.keyOf(c)),
      resyncPeriodMs: 150,
      sync: async (key) => {
        if (key === "resync.flaky" && failures < 3) {
          failures++;
          throw new Error("flaky");
        }
        synced.push(key);
      },
    });
    await controller.start();
    await waitFor("three resyncs", () => synced.filter((k) => k === "resync.a").length >= 3, 5_000);
    await configMaps.create(configMap("resync", "flaky"));
    await waitFor("flaky eventually synced", () => synced.includes("resync.flaky"), 5_000);
    assert.equal(failures, 3);
    await controller.stop();
  });

  // Last: it restarts the server.
  test("a NATS outage puts the worker into backoff; it recovers when NATS is back", async () => {
    await configMaps.create(configMap("outage", "a"));
    const cmInformer = await informers.informer(KINDS.ConfigMap);
    await informers.start();
    const results: string[] = [];
    const controller = new Controller({
      name: "outage",
      watches: [watch(cmInformer, (e) => (e.object.metadata!.namespace === "outage" ? [e.key] : []))],
      keys: () => cmInformer.list("outage").map((c) => configMaps.keyOf(c)),
      globalBackoff: { baseMs: 500, maxMs: 2_000 },
      sync: async (key) => {
        const { namespace, name } = configMaps.splitKey(key);
        await configMaps.get(namespace, name); // a read from the server, not the cache
        results.push("ok");
      },
    });
    await controller.start();
    await waitFor("first sync", () => results.length === 1);

    await server.stop();
    controller.queue.add("outage.a");
    // The read times out (TransientError caused by the client's TimeoutError): NATS is unavailable.
    await waitFor("backoff", () => controller.workerStates[0] === "backoff", 15_000);
    await server.restart();
    await waitFor("synced again after the outage", () => results.length === 2, 15_000);
    assert.equal(controller.workerStates[0], "idle");
    await controller.stop();
  });
});
