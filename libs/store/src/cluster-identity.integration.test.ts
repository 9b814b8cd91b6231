// The cluster id against real nats-servers: made once, the same for every reader (also when many
// start at once and after a server restart), different for another server.
import { NatsServerProcess } from "@navarch/nats-embedded";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { CLUSTER_BUCKET, CLUSTER_ID_KEY, clusterIdentity } from "./cluster-identity.js";
import { connectNats } from "./connect.js";

describe("cluster identity against real nats-servers", () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  async function server(dir = mkdtempSync(path.join(tmpdir(), "navarch-cluster-id-"))) {
    const s = await NatsServerProcess.start({ storeDir: dir });
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }), () => s.stop());
    return { s, dir };
  }

  it("is made once: concurrent first starts agree, a restarted server keeps it, another server has its own", async () => {
    const { s, dir } = await server();
    const ncs = await Promise.all([1, 2, 3, 4].map((i) => connectNats({ url: s.url, name: `cluster-id-${i}` })));
    const ids = await Promise.all(ncs.map((nc) => clusterIdentity(nc)));
    assert.match(ids[0]!.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(new Set(ids.map((i) => i.id)).size, 1, `every starter reads the same id: ${ids.map((i) => i.id).join(", ")}`);
    await Promise.all(ncs.map((nc) => nc.close()));
    await s.stop();

    const again = await NatsServerProcess.start({ storeDir: dir });
    cleanups.push(() => again.stop());
    const nc = await connectNats({ url: again.url, name: "cluster-id-after-restart" });
    assert.equal((await clusterIdentity(nc)).id, ids[0]!.id, "the id survives a server restart");

    const other = await server();
    const nc2 = await connectNats({ url: other.s.url, name: "cluster-id-other" });
    const otherId = (await clusterIdentity(nc2)).id;
    assert.notEqual(otherId, ids[0]!.id, "another NATS, another cluster");

    // A value changed by hand stops the start with a message naming the key.
    const kv = await new Kvm(jetstream(nc2)).open(CLUSTER_BUCKET);
    await kv.put(CLUSTER_ID_KEY, "not json");
    await assert.rejects(clusterIdentity(nc2), /navarch-cluster\/id holds no cluster id/);
    await Promise.all([nc.close(), nc2.close()]);
  });
});
