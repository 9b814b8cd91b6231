// The namespace controller end to end against a real nats-server, run through run() (leader
// election included) as the all-in-one runs it.
import { KINDS, type ConfigMap, type Event, type KubeObject, type Namespace, type Secret } from "@navarch/api";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, Informer, ResourceStore, timestamp } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run } from "../run.js";

let server: NatsServerProcess;
let dir: string;
let nc: NatsConnection;
let namespaces: ResourceStore<Namespace>;
let configMaps: ResourceStore<ConfigMap>;
let secrets: ResourceStore<Secret>;
let events: ResourceStore<Event>;
let nsInformer: Informer<Namespace>;
const nsEvents: { type: string; name: string; finalizers: string[] }[] = [];
const abort = new AbortController();
let running: Promise<void>;

/** NAVARCH_TEST_LOG=1 prints the controller-manager's log lines. */
const print = (level: string) => (fields: object, msg?: string) =>
  process.env.NAVARCH_TEST_LOG ? console.error(level, msg ?? "", JSON.stringify(fields)) : undefined;
const quiet = { debug: print("debug"), info: print("info"), warn: print("warn"), error: print("error") };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "navarch-namespace-test-"));
  server = await NatsServerProcess.start({ storeDir: dir });
  nc = await connectNats({ url: server.url, name: "namespace-test" });
  namespaces = await ResourceStore.open(nc, KINDS.Namespace);
  configMaps = await ResourceStore.open(nc, KINDS.ConfigMap);
  secrets = await ResourceStore.open(nc, KINDS.Secret);
  events = await ResourceStore.open(nc, KINDS.Event);
  nsInformer = new Informer(namespaces, nc);
  nsInformer.onEvent((e) => nsEvents.push({ type: e.type, name: e.object.metadata!.name, finalizers: e.object.spec?.finalizers ?? [] }));
  await nsInformer.start();
  await namespaces.create(namespace("default"));
  running = run({
    nc,
    logger: quiet,
    signal: abort.signal,
    options: { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 1, namespaceResyncSeconds: 0 },
  });
});
after(async () => {
  abort.abort();
  await running?.catch(() => {});
  nsInformer?.stop();
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function meta(name: string, namespace = "", extra: Record<string, unknown> = {}) {
  return { name, namespace, uid: randomUUID(), creationTimestamp: timestamp(), ...extra };
}

function namespace(name: string): Namespace {
  return KINDS.Namespace.codec.fromPartial({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: meta(name),
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  });
}

function configMap(ns: string, name: string, finalizers: string[] = []): ConfigMap {
  return KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: meta(name, ns, { finalizers }), data: { k: "v" } });
}

/** What the gateway does on DeleteNamespace: stamp deletionTimestamp and phase Terminating. */
async function markDeleted(name: string): Promise<void> {
  const current = (await namespaces.get("", name))!;
  await namespaces.update({
    ...current,
    metadata: { ...current.metadata!, deletionTimestamp: timestamp() },
    status: { ...current.status!, phase: "Terminating" },
  });
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function gone<T extends KubeObject>(store: ResourceStore<T>, ns: string, name: string): Promise<boolean> {
  return (await store.get(ns, name)) === undefined;
}

describe("namespace controller (real NATS)", () => {
  test("deleting team-a deletes everything in it, then the namespace; default is untouched", async () => {
    await namespaces.create(namespace("team-a"));
    for (const n of ["one", "two", "three"]) await configMaps.create(configMap("team-a", n));
    await secrets.create(KINDS.Secret.codec.fromPartial({ apiVersion: "v1", kind: "Secret", metadata: meta("token", "team-a"), type: "Opaque" }));
    const bystander = await configMaps.create(configMap("default", "keep-me"));

    await new Promise((r) => setTimeout(r, 300));
    assert.ok(await namespaces.get("", "team-a"), "an active namespace is left alone");

    await markDeleted("team-a");
    await waitFor("team-a gone", () => gone(namespaces, "", "team-a"));
    for (const n of ["one", "two", "three"]) assert.ok(await gone(configMaps, "team-a", n), `configmap ${n} deleted`);
    assert.ok(await gone(secrets, "team-a", "token"), "secret deleted");

    const kept = await configMaps.get("default", "keep-me");
    assert.equal(kept?.metadata?.resourceVersion, bystander.metadata!.resourceVersion, "default's ConfigMap untouched");
    assert.ok(await namespaces.get("", "default"));

    // Removing the kubernetes finalizer from the terminating namespace is what deletes it (in one
    // compare-and-swap step, as Kubernetes does): no event shows it emptied but still present.
    await waitFor("informer saw the deletion", () => nsEvents.some((e) => e.type === "DELETED" && e.name === "team-a"));
    const mine = nsEvents.filter((e) => e.name === "team-a");
    assert.equal(mine.at(-1)?.type, "DELETED", JSON.stringify(mine));
    assert.equal(mine.filter((e) => e.type === "DELETED").length, 1, JSON.stringify(mine));
    assert.ok(!mine.some((e) => e.type === "MODIFIED" && e.finalizers.length === 0), JSON.stringify(mine));
  });

  test("an object with a finalizer keeps the namespace Terminating until the finalizer is removed", async () => {
    await namespaces.create(namespace("team-b"));
    await configMaps.create(configMap("team-b", "held", ["example.com/hold"]));
    await configMaps.create(configMap("team-b", "plain"));
    await events.create(
      KINDS.Event.codec.fromPartial({ apiVersion: "v1", kind: "Event", metadata: meta("held.1", "team-b"), reason: "Test", message: "events go too" }),
    );
    await markDeleted("team-b");

    await waitFor("plain content deleted", async () => (await gone(configMaps, "team-b", "plain")) && (await gone(events, "team-b", "held.1")));
    await waitFor("held marked for deletion", async () => !!(await configMaps.get("team-b", "held"))?.metadata?.deletionTimestamp);
    await waitFor("conditions say why", async () => {
      const ns = await namespaces.get("", "team-b");
      return !!ns?.status?.conditions.some((c) => c.type === "NamespaceFinalizersRemaining" && c.status === "True");
    });
    await new Promise((r) => setTimeout(r, 500));
    const waiting = await namespaces.get("", "team-b");
    assert.ok(waiting, "the namespace waits for the finalizer");
    assert.equal(waiting.status?.phase, "Terminating");
    assert.deepEqual(waiting.spec?.finalizers, ["kubernetes"]);
    const remaining = waiting.status!.conditions.find((c) => c.type === "NamespaceFinalizersRemaining")!;
    assert.equal(remaining.reason, "SomeFinalizersRemain");
    assert.match(remaining.message, /example\.com\/hold in 1 resource instances/);

    // The finalizer's owner lets go: the store deletes the object, then the controller the namespace.
    const held = (await configMaps.get("team-b", "held"))!;
    assert.equal(await configMaps.update({ ...held, metadata: { ...held.metadata!, finalizers: [] } }), undefined);
    await waitFor("team-b gone", () => gone(namespaces, "", "team-b"));
  });

  test("run() stops on abort and releases the controller-manager lease", async () => {
    const leases = await ResourceStore.open(nc, KINDS.Lease);
    const lease = await leases.get("navarch-system", "controller-manager");
    assert.ok(lease?.spec?.holderIdentity, "the running controller-manager holds the lease");
    abort.abort();
    await running;
    const released = await leases.get("navarch-system", "controller-manager");
    assert.equal(released?.spec?.holderIdentity, "");
  });
});
