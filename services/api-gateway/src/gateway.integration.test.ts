// The gRPC API end to end against a real nats-server: standard methods, errors with field paths
// and nothing written, compare-and-swap, watch with resume and bookmarks, authentication.
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createRequire } from "node:module";
import { DiscoveryServiceClient, KINDS, type ConfigMap, type GetVersionResponse, type Secret } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { clusterIdentity, connectNats, issueToken, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startGateway, type RunningGateway } from "./start.js";

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;

function call<T>(fn: (cb: Callback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

async function rejectsWith(p: Promise<unknown>, code: grpc.status, details?: RegExp): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    assert.equal(e.code, code, `expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    if (details) assert.match(e.details, details);
    return e;
  }
  assert.fail(`expected ${grpc.status[code]}, but the call succeeded`);
}

describe("api-gateway against a real nats-server", () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let gateway: RunningGateway;
  let md: grpc.Metadata;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let cms: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let nss: any;

  const cm = (name: string, data: Record<string, string>, extra: Partial<ConfigMap> = {}): ConfigMap =>
    KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data, ...extra });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-gw-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "gateway-test" });
    gateway = await startGateway({
      nc,
      logger: createLogger("test", "warn"),
      options: { apiAddr: "127.0.0.1:0", bookmarkSeconds: 1, watchHistory: 1000, maxObjectBytes: 100_000 },
    });
    const secrets = await ResourceStore.open<Secret>(nc, KINDS.Secret);
    const token = await issueToken(secrets, "test-token", { username: "tester", groups: ["system:masters"] });
    md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    cms = new KINDS.ConfigMap.client(gateway.address, grpc.credentials.createInsecure());
    nss = new KINDS.Namespace.client(gateway.address, grpc.credentials.createInsecure());
    // The token Secret reaches the gateway's cache through its watch.
    for (let i = 0; i < 50; i++) {
      try {
        await call((cb) => nss.get({ name: "default", namespace: "" }, md, cb));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  after(async () => {
    cms?.close();
    nss?.close();
    await gateway?.stop();
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the system namespaces", async () => {
    const list = await call<{ items: { metadata: { name: string } }[] }>((cb) => nss.list({ namespace: "", labelSelector: "", fieldSelector: "", limit: 0, continue: "" }, md, cb));
    const names = list.items.map((n) => n.metadata.name);
    for (const ns of ["default", "navarch-system", "navarch-node-lease", "kube-system", "kube-public"]) {
      assert.ok(names.includes(ns), `${ns} missing from ${names.join(",")}`);
    }
  });

  it("refuses to delete kube-system and kube-public, like default, and keeps them", async () => {
    for (const name of ["kube-system", "kube-public"]) {
      await rejectsWith(call((cb) => nss.delete({ namespace: "", name, propagationPolicy: "" }, md, cb)), grpc.status.PERMISSION_DENIED, /may not be deleted/);
      const ns = await call<{ metadata: { deletionTimestamp?: string } }>((cb) => nss.get({ name, namespace: "" }, md, cb));
      assert.ok(!ns.metadata.deletionTimestamp, `${name} is being deleted`);
    }
  });

  it("GetVersion names the cluster's id, the one every component reads from navarch-cluster/id", async () => {
    const discovery = new DiscoveryServiceClient(gateway.address, grpc.credentials.createInsecure());
    try {
      const v = await call<GetVersionResponse>((cb) => discovery.getVersion({}, md, cb));
      assert.match(v.clusterId, /^[0-9a-f-]{36}$/);
      assert.equal(v.clusterId, (await clusterIdentity(nc)).id);
    } finally {
      discovery.close();
    }
  });

  it("creates with server-managed fields and reads its own write", async () => {
    const created = await call<ConfigMap>((cb) => cms.create(cm("app-config", { mode: "fast" }, { metadata: { name: "app-config", labels: { app: "web" } } as never }), md, cb));
    const m = created.metadata!;
    assert.equal(m.namespace, "default");
    assert.match(m.uid, /^[0-9a-f-]{36}$/);
    assert.ok(Number(m.resourceVersion) > 0);
    assert.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const got = await call<ConfigMap>((cb) => cms.get({ namespace: "default", name: "app-config" }, md, cb));
    assert.deepEqual(got.data, { mode: "fast" });
    assert.equal(got.metadata!.resourceVersion, m.resourceVersion);
    await rejectsWith(call((cb) => cms.create(cm("app-config", {}), md, cb)), grpc.status.ALREADY_EXISTS, /configmaps "app-config" already exists/);
  });

  it("refuses invalid input with the field path and writes nothing", async () => {
    await rejectsWith(call((cb) => cms.create(cm("Bad_Name", {}), md, cb)), grpc.status.INVALID_ARGUMENT, /^metadata\.name: /);
    await rejectsWith(
      call((cb) => cms.create(cm("labels", {}, { metadata: { name: "labels", labels: { "bad key!": "x" } } as never }), md, cb)),
      grpc.status.INVALID_ARGUMENT,
      /metadata\.labels/,
    );
    await rejectsWith(call((cb) => cms.create({ ...cm("kind", {}), kind: "Secret" }, md, cb)), grpc.status.INVALID_ARGUMENT, /^kind: /);
    await rejectsWith(call((cb) => cms.create(cm("huge", { big: "x".repeat(150_000) }), md, cb)), grpc.status.INVALID_ARGUMENT, /too large/);
    await rejectsWith(call((cb) => cms.create(cm("nons", {}, { metadata: { name: "nons", namespace: "nowhere" } as never }), md, cb)), grpc.status.NOT_FOUND, /namespaces "nowhere" not found/);
    const list = await call<{ items: ConfigMap[] }>((cb) => cms.list({ namespace: "default", labelSelector: "", fieldSelector: "", limit: 0, continue: "" }, md, cb));
    const names = list.items.map((c) => c.metadata!.name);
    for (const refused of ["Bad_Name", "labels", "kind", "huge", "nons"]) assert.ok(!names.includes(refused), `${refused} was stored`);
    await rejectsWith(call((cb) => cms.list({ namespace: "default", labelSelector: "app in (", fieldSelector: "", limit: 0, continue: "" }, md, cb)), grpc.status.INVALID_ARGUMENT, /^labelSelector: /);
  });

  it("updates with compare-and-swap: a stale resourceVersion is ABORTED and changes nothing", async () => {
    const v1 = await call<ConfigMap>((cb) => cms.create(cm("cas", { v: "1" }), md, cb));
    const v2 = await call<ConfigMap>((cb) => cms.update({ ...v1, data: { v: "2" } }, md, cb));
    assert.notEqual(v2.metadata!.resourceVersion, v1.metadata!.resourceVersion);
    assert.equal(v2.metadata!.uid, v1.metadata!.uid);
    await rejectsWith(call((cb) => cms.update({ ...v1, data: { v: "stale" } }, md, cb)), grpc.status.ABORTED, /has been modified/);
    const now = await call<ConfigMap>((cb) => cms.get({ namespace: "default", name: "cas" }, md, cb));
    assert.deepEqual(now.data, { v: "2" });
    assert.equal(now.metadata!.resourceVersion, v2.metadata!.resourceVersion);
  });

  it("bumps generation only when the spec changes", async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const nodes: any = new KINDS.Node.client(gateway.address, grpc.credentials.createInsecure());
    try {
      const n1 = await call<{ metadata: { generation: number; resourceVersion: string } }>((cb) => nodes.create(KINDS.Node.codec.fromPartial({ metadata: { name: "gen-node" } }), md, cb));
      assert.equal(n1.metadata.generation, 1);
      const n2 = await call<{ metadata: { generation: number } }>((cb) => nodes.update(KINDS.Node.codec.fromPartial({ ...n1, metadata: { ...n1.metadata, labels: { a: "b" } } }), md, cb));
      assert.equal(n2.metadata.generation, 1, "a label change is not a spec change");
      const n3 = await call<{ metadata: { generation: number } }>((cb) => nodes.update(KINDS.Node.codec.fromPartial({ ...n2, spec: { unschedulable: true } }), md, cb));
      assert.equal(n3.metadata.generation, 2);
    } finally {
      nodes.close();
    }
  });

  it("deletes with preconditions, and keeps an object with finalizers until they are gone", async () => {
    const obj = await call<ConfigMap>((cb) => cms.create(cm("del", {}), md, cb));
    await rejectsWith(call((cb) => cms.delete({ namespace: "default", name: "del", preconditions: { uid: "wrong", resourceVersion: "" }, propagationPolicy: "" }, md, cb)), grpc.status.ABORTED, /Precondition failed: UID/);
    await call((cb) => cms.delete({ namespace: "default", name: "del", preconditions: { uid: obj.metadata!.uid, resourceVersion: obj.metadata!.resourceVersion }, propagationPolicy: "" }, md, cb));
    await rejectsWith(call((cb) => cms.get({ namespace: "default", name: "del" }, md, cb)), grpc.status.NOT_FOUND, /configmaps "del" not found/);

    const held = await call<ConfigMap>((cb) => cms.create(cm("held", {}, { metadata: { name: "held", finalizers: ["example.com/hold"] } as never }), md, cb));
    const marked = await call<ConfigMap>((cb) => cms.delete({ namespace: "default", name: "held", propagationPolicy: "" }, md, cb));
    assert.ok(marked.metadata!.deletionTimestamp);
    const still = await call<ConfigMap>((cb) => cms.get({ namespace: "default", name: "held" }, md, cb));
    assert.ok(still.metadata!.deletionTimestamp);
    assert.notEqual(still.metadata!.resourceVersion, held.metadata!.resourceVersion);
    await call((cb) => cms.update({ ...still, metadata: { ...still.metadata!, finalizers: [] } }, md, cb));
    await rejectsWith(call((cb) => cms.get({ namespace: "default", name: "held" }, md, cb)), grpc.status.NOT_FOUND);
    await rejectsWith(call((cb) => nss.delete({ namespace: "", name: "default", propagationPolicy: "" }, md, cb)), grpc.status.PERMISSION_DENIED, /may not be deleted/);
  });

  it("deletes a pod on a node gracefully (the node agent finishes it); grace 0 deletes at once", async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const pods: any = new KINDS.Pod.client(gateway.address, grpc.credentials.createInsecure());
    try {
      const spec = { nodeName: "n1", terminationGracePeriodSeconds: 7, containers: [{ name: "c", image: "navarch/demo:1" }] };
      await call((cb) => pods.create(KINDS.Pod.codec.fromPartial({ metadata: { name: "graceful" }, spec }), md, cb));
      const marked = await call<{ metadata: { deletionTimestamp: string; deletionGracePeriodSeconds: number } }>((cb) =>
        pods.delete({ namespace: "default", name: "graceful", propagationPolicy: "" }, md, cb),
      );
      assert.ok(marked.metadata.deletionTimestamp);
      assert.equal(marked.metadata.deletionGracePeriodSeconds, 7);
      const still = await call<{ metadata: { deletionTimestamp: string } }>((cb) => pods.get({ namespace: "default", name: "graceful" }, md, cb));
      assert.ok(still.metadata.deletionTimestamp, "still there, terminating");
      await call((cb) => pods.delete({ namespace: "default", name: "graceful", gracePeriodSeconds: 0, propagationPolicy: "" }, md, cb));
      await rejectsWith(call((cb) => pods.get({ namespace: "default", name: "graceful" }, md, cb)), grpc.status.NOT_FOUND);
      await call((cb) => pods.create(KINDS.Pod.codec.fromPartial({ metadata: { name: "unbound" }, spec: { containers: spec.containers } }), md, cb));
      await call((cb) => pods.delete({ namespace: "default", name: "unbound", propagationPolicy: "" }, md, cb));
      await rejectsWith(call((cb) => pods.get({ namespace: "default", name: "unbound" }, md, cb)), grpc.status.NOT_FOUND);
    } finally {
      pods.close();
    }
  });

  it("lists with label selectors and pages with continue tokens", async () => {
    const ns = await call<{ metadata: { name: string } }>((cb) => nss.create(KINDS.Namespace.codec.fromPartial({ metadata: { name: "paging" } }), md, cb));
    assert.equal(ns.metadata.name, "paging");
    for (let i = 0; i < 7; i++) {
      await call((cb) => cms.create(cm(`p-${i}`, {}, { metadata: { name: `p-${i}`, namespace: "paging", labels: { tier: i % 2 ? "odd" : "even" } } as never }), md, cb));
    }
    const names: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await call<{ items: ConfigMap[]; metadata: { continue: string } }>((cb) => cms.list({ namespace: "paging", labelSelector: "", fieldSelector: "", limit: 3, continue: token }, md, cb));
      names.push(...page.items.map((c) => c.metadata!.name));
      token = page.metadata.continue;
      pages++;
    } while (token && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(names, ["p-0", "p-1", "p-2", "p-3", "p-4", "p-5", "p-6"]);
    const odd = await call<{ items: ConfigMap[] }>((cb) => cms.list({ namespace: "paging", labelSelector: "tier=odd", fieldSelector: "", limit: 0, continue: "" }, md, cb));
    assert.deepEqual(odd.items.map((c) => c.metadata!.name), ["p-1", "p-3", "p-5"]);
    const none = await call<{ items: ConfigMap[] }>((cb) => cms.list({ namespace: "paging", labelSelector: "tier notin (odd,even)", fieldSelector: "", limit: 0, continue: "" }, md, cb));
    assert.equal(none.items.length, 0);
  });

  it("watches from a resourceVersion: every change after it, in order, with bookmarks; too old is OUT_OF_RANGE", async () => {
    const start = await call<{ metadata: { resourceVersion: string } }>((cb) => cms.list({ namespace: "default", labelSelector: "", fieldSelector: "", limit: 0, continue: "" }, md, cb));
    const a = await call<ConfigMap>((cb) => cms.create(cm("w-a", { n: "1" }), md, cb));
    await call((cb) => cms.update({ ...a, data: { n: "2" } }, md, cb));
    await call((cb) => cms.delete({ namespace: "default", name: "w-a", propagationPolicy: "" }, md, cb));

    const stream = cms.watch({ namespace: "default", labelSelector: "", fieldSelector: "", resourceVersion: start.metadata.resourceVersion, allowWatchBookmarks: true }, md);
    const seen: { type: string; name: string; rv: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (e: { type: string; object: ConfigMap }) => {
        seen.push({ type: e.type, name: e.object.metadata?.name ?? "", rv: Number(e.object.metadata?.resourceVersion) });
        if (e.type === "BOOKMARK") resolve();
      });
      stream.on("error", (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? undefined : reject(err)));
    });
    stream.cancel();
    const changes = seen.filter((e) => e.type !== "BOOKMARK");
    assert.deepEqual(changes.map((e) => `${e.type} ${e.name}`), ["ADDED w-a", "MODIFIED w-a", "DELETED w-a"]);
    const rvs = seen.map((e) => e.rv);
    assert.deepEqual(rvs, [...rvs].sort((x, y) => x - y));

    // Push the history (1000 events) past the start point, then ask for it again.
    await Promise.all(Array.from({ length: 1100 }, (_, i) => call((cb) => cms.create(cm(`flood-${i}`, {}), md, cb))));
    const old = cms.watch({ namespace: "default", labelSelector: "", fieldSelector: "", resourceVersion: start.metadata.resourceVersion, allowWatchBookmarks: false }, md);
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      old.on("data", () => undefined);
      old.on("error", resolve);
    });
    assert.equal(err.code, grpc.status.OUT_OF_RANGE);
    assert.match(err.details, /too old resource version/);
  });

  it("serves gRPC health checking and server reflection", async () => {
    const require = createRequire(import.meta.url);
    const load = (file: string) => grpc.loadPackageDefinition(loadSync(require.resolve(file), { keepCase: true, enums: String }));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const healthPkg: any = load("grpc-health-check/proto/health/v1/health.proto");
    const health = new healthPkg.grpc.health.v1.Health(gateway.address, grpc.credentials.createInsecure());
    const status = await call<{ status: string }>((cb) => health.Check({ service: "" }, cb));
    assert.equal(status.status, "SERVING");
    health.close();

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const reflPkg: any = load("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
    const refl = new reflPkg.grpc.reflection.v1.ServerReflection(gateway.address, grpc.credentials.createInsecure());
    const stream = refl.ServerReflectionInfo();
    const reply = await new Promise<{ list_services_response: { service: { name: string }[] } }>((resolve, reject) => {
      stream.on("data", resolve);
      stream.on("error", reject);
      stream.write({ list_services: "" });
    });
    stream.end();
    refl.close();
    const names = reply.list_services_response.service.map((x) => x.name);
    for (const svc of ["navarch.api.v1.ConfigMapService", "navarch.api.v1.PodService", "navarch.api.v1.DiscoveryService"]) {
      assert.ok(names.includes(svc), `${svc} in ${names.join(", ")}`);
    }
  });

  it("refuses calls without a valid token", async () => {
    await rejectsWith(call((cb) => cms.get({ namespace: "default", name: "x" }, new grpc.Metadata(), cb)), grpc.status.UNAUTHENTICATED, /missing bearer token/);
    const bad = new grpc.Metadata();
    bad.set("authorization", "Bearer not-a-token");
    await rejectsWith(call((cb) => cms.create(cm("sneaky", {}), bad, cb)), grpc.status.UNAUTHENTICATED, /invalid bearer token/);
    await rejectsWith(call((cb) => cms.get({ namespace: "default", name: "sneaky" }, md, cb)), grpc.status.NOT_FOUND);
  });
});
