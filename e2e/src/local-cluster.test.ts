// The local cluster as a user runs it (`npm start`): state survives a clean restart and a
// SIGKILL of everything, Ctrl-C leaves no nats-server behind, and navctl works against it.
import { KINDS, type ConfigMap, type Namespace } from "@navarch/api";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { call, client, configMap, get, list, metaOf } from "./api.js";
import { cleanup, natsServerPid, navctl, pidAlive, sleep, startLocalCluster } from "./cluster.js";

after(cleanup);

/** Pids of live nats-server processes whose command line names this store dir. */
function natsServersUsing(storeDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.some((a) => a.includes("nats-server")) && argv.includes(storeDir) && pidAlive(Number(entry))) {
        pids.push(Number(entry));
      }
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Waits (bounded) until the pid is gone; the caller asserts. */
async function gone(pid: number, timeoutMs = 5_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    if (!pidAlive(pid)) return true;
  }
  return !pidAlive(pid);
}

describe("local cluster (all-in-one)", () => {
  it("finds all its state after Ctrl-C and a restart, and leaves no nats-server behind", async () => {
    const first = await startLocalCluster();
    const storeDir = path.join(first.home, "nats");
    const cms = client(first, KINDS.ConfigMap);
    const nss = client(first, KINDS.Namespace);
    const cm = await call<ConfigMap>(cms, "create", configMap("survivor", { greeting: "hello" }), first.metadata());
    const ns = await call<Namespace>(
      nss,
      "create",
      KINDS.Namespace.codec.fromPartial({ apiVersion: "v1", kind: "Namespace", metadata: { name: "survivors" } }),
      first.metadata(),
    );
    cms.close();
    nss.close();

    const clusterId = async (home: string) => /^Cluster ID: (\S+)$/m.exec((await navctl(["version"], { home })).stdout)?.[1];
    const id = await clusterId(first.home);
    assert.match(id ?? "", /^[0-9a-f-]{36}$/, "navctl version shows the cluster's id");

    const natsPid = natsServerPid(first.home);
    assert.ok(natsPid && pidAlive(natsPid), "the embedded nats-server runs and wrote its pid file");
    await first.stop(); // asserts exit code 0
    assert.ok(await gone(natsPid), `nats-server ${natsPid} still runs after the all-in-one stopped`);
    assert.deepEqual(natsServersUsing(storeDir), [], "no nats-server holds the store after Ctrl-C");

    const second = await startLocalCluster({ home: first.home });
    assert.equal(second.token, first.token, "the restart keeps the admin token in the config");
    assert.equal(await clusterId(second.home), id, "the cluster keeps its id (its containers' navarch.cluster label) across a restart");
    // The old token, as a client that never re-read the config would send it.
    const md = first.metadata();
    const cms2 = client(second, KINDS.ConfigMap);
    const nss2 = client(second, KINDS.Namespace);
    const cmAfter = await get<ConfigMap>(cms2, "survivor", "default", md);
    const nsAfter = await get<Namespace>(nss2, "survivors", "", md);
    cms2.close();
    nss2.close();
    assert.deepEqual(metaOf(cmAfter), metaOf(cm));
    assert.deepEqual(cmAfter.data, { greeting: "hello" });
    assert.deepEqual(metaOf(nsAfter), metaOf(ns));
    await second.stop();
  });

  it("loses no acknowledged create when the whole process group is SIGKILLed", async (t) => {
    const TOTAL = 200;
    const CONCURRENCY = 20;
    const KILL_AFTER = 100;
    const cluster = await startLocalCluster();
    const cms = client(cluster, KINDS.ConfigMap);
    const md = cluster.metadata();
    const acked = new Map<string, ConfigMap>();
    const failures = new Map<string, number>(); // gRPC status code -> count
    let next = 0;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        const name = `durable-${String(i).padStart(3, "0")}`;
        try {
          acked.set(name, await call<ConfigMap>(cms, "create", configMap(name, dataFor(i)), md));
        } catch (err) {
          const code = String((err as { code?: number }).code);
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
      }
    };
    let finished = false;
    const workers = Promise.all(Array.from({ length: CONCURRENCY }, worker)).finally(() => (finished = true));
    // A separate task that polls, rather than a kill from inside the 100th ack's callback: that
    // would fire before the workers' next requests leave this process, so no write would be in
    // flight at the server. Polling lets the next batch reach it, then powers everything off.
    const killer = (async () => {
      while (acked.size < KILL_AFTER && !finished) await sleep(2);
      await sleep(Math.floor(Math.random() * 10)); // a jitter so the kill lands at varying points of a batch
      const natsPid = natsServerPid(cluster.home);
      await cluster.killAll();
      return natsPid;
    })();
    const [, natsPid] = await Promise.all([workers, killer]);
    cms.close();

    const ackedAtKill = acked.size;
    t.diagnostic(`acknowledged before the kill: ${ackedAtKill} of ${TOTAL}; failed by status code: ${JSON.stringify(Object.fromEntries(failures))}`);
    assert.ok(ackedAtKill >= KILL_AFTER, `only ${ackedAtKill} creates were acknowledged`);
    assert.ok(ackedAtKill < TOTAL, "the kill came after every create finished; it proves nothing");
    assert.ok(natsPid !== undefined && (await gone(natsPid)), "SIGKILL of the group also took the nats-server down");

    const again = await startLocalCluster({ home: cluster.home });
    const cms2 = client(again, KINDS.ConfigMap);
    const missingOrChanged: string[] = [];
    for (const [name, created] of acked) {
      try {
        const got = await get<ConfigMap>(cms2, name, "default", again.metadata());
        assert.deepEqual(got.data, created.data, `${name}: data`);
        assert.deepEqual(metaOf(got), metaOf(created), `${name}: uid and resourceVersion`);
      } catch (err) {
        if ((err as { code?: number }).code === undefined) throw err;
        missingOrChanged.push(`${name}: ${(err as Error).message}`);
      }
    }
    const page = await list<ConfigMap>(cms2, "default", again.metadata());
    cms2.close();
    const stored = page.items.filter((o) => o.metadata!.name.startsWith("durable-")).length;
    t.diagnostic(`after restart: ${stored} durable-* ConfigMaps stored (${stored - ackedAtKill} created but not acknowledged)`);
    assert.deepEqual(missingOrChanged, [], "acknowledged creates lost or changed");
    await again.stop();
  });

  it("prints where it listens and where the config is, navctl get ns works, and Ctrl-C stops it all", async () => {
    const cluster = await startLocalCluster();
    const out = cluster.stdout();
    assert.equal(cluster.configPath, path.join(cluster.home, "config"));
    assert.match(out, new RegExp(`^\\s+API:\\s+${escapeRegExp(cluster.apiAddr)}\\b`, "m"), out);
    assert.match(out, new RegExp(`^\\s+Config:\\s+${escapeRegExp(cluster.configPath)}\\b`, "m"), out);
    assert.match(out, /^Navarch is ready: /m);
    const natsPid = natsServerPid(cluster.home);
    assert.ok(natsPid !== undefined);

    const r = await navctl(["get", "ns"], { home: cluster.home });
    assert.equal(r.code, 0, r.stderr);
    const names = r.stdout.trim().split("\n").slice(1).map((line) => line.split(/\s+/)[0]);
    assert.ok(names.includes("default"), r.stdout);
    assert.ok(names.includes("navarch-system"), r.stdout);
    // Ctrl-C in the terminal of `npm start` signals the whole group, nats-server included.
    await cluster.stop({ group: true });
    assert.ok(await gone(natsPid), `nats-server ${natsPid} still runs after Ctrl-C`);
  });
});

function dataFor(i: number): Record<string, string> {
  return { index: String(i), payload: `value-${i}-`.padEnd(256, "x") };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
