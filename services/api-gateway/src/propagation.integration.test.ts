// Deletion propagation policies through the gRPC API against a real nats-server: Foreground and
// Orphan leave the object with a deletionTimestamp and the garbage collector's finalizer (the
// collector, services/replication, finishes the deletion); Background and no policy delete as
// before. And a Job's generated selector, which needs the server's uid during admission.
import * as grpc from "@grpc/grpc-js";
import { KINDS, type ConfigMap, type Job, type Pod, type Secret } from "@navarch/api";
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, issueToken, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { propagationFinalizers } from "./objects.js";
import { startGateway, type RunningGateway } from "./start.js";

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = any;

function call<T>(fn: (cb: Callback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

describe("propagationFinalizers", () => {
  const cases: { policy: string; before: string[]; want: string[] }[] = [
    { policy: "", before: [], want: [] },
    { policy: "", before: ["orphan"], want: ["orphan"] },
    { policy: "Background", before: [], want: [] },
    { policy: "Background", before: ["example.com/x", "foregroundDeletion"], want: ["example.com/x"] },
    { policy: "Foreground", before: [], want: ["foregroundDeletion"] },
    { policy: "Foreground", before: ["orphan", "example.com/x"], want: ["example.com/x", "foregroundDeletion"] },
    { policy: "Orphan", before: ["foregroundDeletion"], want: ["orphan"] },
    { policy: "Orphan", before: ["orphan"], want: ["orphan"] },
  ];
  for (const c of cases) {
    it(`${c.policy || "(none)"} on [${c.before.join(",")}] -> [${c.want.join(",")}]`, () => {
      const got = propagationFinalizers(c.before, c.policy);
      assert.deepEqual(got, c.want);
      // Unchanged is the same array, so the gateway knows there is nothing to write.
      if (JSON.stringify(c.before) === JSON.stringify(c.want)) assert.equal(got, c.before);
    });
  }
});

describe("delete propagation and Job admission through the gateway (real NATS)", () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let gateway: RunningGateway;
  let md: grpc.Metadata;
  let cms: AnyClient;
  let pods: AnyClient;
  let jobs: AnyClient;
  let cmStore: ResourceStore<ConfigMap>;

  const cm = (name: string): ConfigMap => KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { a: "b" } });
  const del = (client: AnyClient, name: string, propagationPolicy: string, extra: object = {}) =>
    call<{ metadata: { deletionTimestamp: string; finalizers: string[]; deletionGracePeriodSeconds: number } }>((cb) =>
      client.delete({ namespace: "default", name, propagationPolicy, ...extra }, md, cb),
    );
  const get = <T>(client: AnyClient, name: string) =>
    call<T>((cb) => client.get({ namespace: "default", name }, md, cb)).catch((err: grpc.ServiceError) => {
      if (err.code === grpc.status.NOT_FOUND) return undefined;
      throw err;
    });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-gw-propagation-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "propagation-test" });
    gateway = await startGateway({ nc, logger: createLogger("test", "warn"), options: { apiAddr: "127.0.0.1:0", bookmarkSeconds: 30, watchHistory: 1000, maxObjectBytes: 1_000_000 } });
    const secrets = await ResourceStore.open<Secret>(nc, KINDS.Secret);
    cmStore = await ResourceStore.open<ConfigMap>(nc, KINDS.ConfigMap);
    const token = await issueToken(secrets, "test-token", { username: "tester", groups: ["system:masters"] });
    md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    cms = new KINDS.ConfigMap.client(gateway.address, grpc.credentials.createInsecure());
    pods = new KINDS.Pod.client(gateway.address, grpc.credentials.createInsecure());
    jobs = new KINDS.Job.client(gateway.address, grpc.credentials.createInsecure());
    for (let i = 0; i < 100; i++) {
      try {
        await call((cb) => cms.list({ namespace: "default" }, md, cb));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  after(async () => {
    for (const c of [cms, pods, jobs]) c?.close();
    await gateway?.stop();
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("Foreground: deletionTimestamp and the foregroundDeletion finalizer; the object stays for the collector", async () => {
    await call((cb) => cms.create(cm("fg"), md, cb));
    const marked = await del(cms, "fg", "Foreground");
    assert.ok(marked.metadata.deletionTimestamp);
    assert.deepEqual(marked.metadata.finalizers, ["foregroundDeletion"]);
    const stored = await cmStore.get("default", "fg");
    assert.deepEqual(stored?.metadata?.finalizers, ["foregroundDeletion"]);
    assert.ok(stored?.metadata?.deletionTimestamp);
  });

  it("Orphan: the orphan finalizer; a later Background delete of the same object drops it, which deletes it", async () => {
    await call((cb) => cms.create(cm("orph"), md, cb));
    const marked = await del(cms, "orph", "Orphan");
    assert.deepEqual(marked.metadata.finalizers, ["orphan"]);
    assert.ok(await get(cms, "orph"), "held by its finalizer");
    const again = await del(cms, "orph", "Orphan");
    assert.deepEqual(again.metadata.finalizers, ["orphan"], "deleting again with the same policy changes nothing");
    await del(cms, "orph", "Background");
    assert.equal(await get(cms, "orph"), undefined, "no finalizer left: gone");
  });

  it("Background and no policy delete at once; other finalizers are kept", async () => {
    await call((cb) => cms.create(cm("bg"), md, cb));
    await del(cms, "bg", "Background");
    assert.equal(await get(cms, "bg"), undefined);
    await call((cb) => cms.create(KINDS.ConfigMap.codec.fromPartial({ metadata: { name: "held", finalizers: ["example.com/hold"] } }), md, cb));
    const marked = await del(cms, "held", "Foreground");
    assert.deepEqual(marked.metadata.finalizers, ["example.com/hold", "foregroundDeletion"]);
    const bg = await del(cms, "held", "Background");
    assert.deepEqual(bg.metadata.finalizers, ["example.com/hold"]);
    assert.ok(await get(cms, "held"), "still held by the other finalizer");
  });

  it("an unknown policy is INVALID_ARGUMENT", async () => {
    await call((cb) => cms.create(cm("bad-policy"), md, cb));
    await assert.rejects(del(cms, "bad-policy", "Sideways"), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && /propagationPolicy/.test(err.details));
  });

  it("a pod on a node deleted with Foreground is both graceful and held by the finalizer", async () => {
    const spec = { nodeName: "n1", terminationGracePeriodSeconds: 5, containers: [{ name: "c", image: "navarch/demo:1" }] };
    await call((cb) => pods.create(KINDS.Pod.codec.fromPartial({ metadata: { name: "fg-pod" }, spec }), md, cb));
    const marked = await del(pods, "fg-pod", "Foreground");
    assert.ok(marked.metadata.deletionTimestamp);
    assert.equal(marked.metadata.deletionGracePeriodSeconds, 5);
    assert.deepEqual(marked.metadata.finalizers, ["foregroundDeletion"]);
    assert.ok(await get<Pod>(pods, "fg-pod"));
  });

  it("a Job gets its generated selector and labels from the uid the server gave it; re-applying it changes nothing", async () => {
    const manifest = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "pi" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "navarch/busybox:1", command: ["true"] }] } } },
    };
    const created = await call<Job>((cb) => jobs.create(KINDS.Job.codec.fromJSON(manifest), md, cb));
    const uid = created.metadata!.uid;
    assert.match(uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(created.spec!.selector!.matchLabels, { "batch.kubernetes.io/controller-uid": uid });
    assert.equal(created.spec!.template!.metadata!.labels["batch.kubernetes.io/job-name"], "pi");
    assert.equal(created.spec!.template!.metadata!.labels["controller-uid"], uid);
    // An update without uid, selector or the generated labels (as a manifest re-applied) keeps them.
    const json = KINDS.Job.codec.toJSON(created) as { metadata: Record<string, unknown>; spec: { template: Record<string, unknown> } };
    delete json.metadata.uid;
    delete json.metadata.labels;
    delete json.spec.template.metadata;
    const updated = await call<Job>((cb) => jobs.update(KINDS.Job.codec.fromJSON(json), md, cb));
    assert.equal(updated.metadata!.generation, 1, "no spec change");
    assert.deepEqual(updated.spec!.template!.metadata!.labels, created.spec!.template!.metadata!.labels);
  });
});
