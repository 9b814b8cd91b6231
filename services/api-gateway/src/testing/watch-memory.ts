// What watches that never read cost the gateway (issue 11): a real nats-server, the standalone
// gateway (dist/main.js) in its own process, OBJECTS ConfigMaps, then for each count in WATCHES
// that many watches of every namespace from no resourceVersion (each a full replay) whose
// clients stop reading, and the gateway's RSS before, while they are open and after they are
// cancelled, with the latency of creates made meanwhile. Not part of `npm test` (it takes
// about a minute); run it after `npm run build`:
//
//   PATH=/root/.navarch/tools/bin:$PATH node services/api-gateway/dist/testing/watch-memory.js [objects] [watches,...]
//
// (WATCH_MEMORY_CPU=1 also prints the gateway's CPU ticks and RSS each second after opening.)
import * as grpc from "@grpc/grpc-js";
import { KINDS, type ConfigMap } from "@navarch/api";
import { readClientConfig } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, ResourceStore } from "@navarch/store";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stalledWatch, type StalledWatch } from "./stalled-watch.js";

const OBJECTS = Number(process.argv[2] ?? 22_800);
const WATCHES = (process.argv[3] ?? "200,2000").split(",").map(Number);
const SETTLE_MS = 5_000;
const CREATES = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024);

const dir = mkdtempSync(path.join(tmpdir(), "navarch-watch-memory-"));
const nats = await NatsServerProcess.start({ storeDir: path.join(dir, "nats") });
const nc = await connectNats({ url: nats.url, name: "watch-memory" });
const store = await ResourceStore.open<ConfigMap>(nc, KINDS.ConfigMap);
for (let i = 0; i < OBJECTS; i += 1000) {
  await Promise.all(
    Array.from({ length: Math.min(1000, OBJECTS - i) }, (_, j) =>
      store.create(KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i + j}`, namespace: "default", uid: `u-${i + j}`, labels: { app: "memory" } }, data: { config: "x".repeat(400) } })),
    ),
  );
}
// GATEWAY_MAIN runs another build of the gateway (say, an older one to compare with).
const main = process.env.GATEWAY_MAIN ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "main.js");
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
const gateway = spawn(process.execPath, [main], {
  env: {
    ...process.env,
    NAVARCH_NATS_URL: nats.url,
    NAVARCH_HOME: dir,
    NAVARCH_API_ADDR: "127.0.0.1:0",
    NAVARCH_LOG_LEVEL: "warn",
    // One token opens every watch: the per-client and total counts are not what is measured here.
    NAVARCH_API_WATCHES_PER_CLIENT: "0",
    NAVARCH_API_WATCHES_TOTAL: "0",
  },
  stdio: ["ignore", "ignore", "inherit"],
});
const configPath = path.join(dir, "config");
for (let i = 0; i < 600 && !existsSync(configPath); i++) await sleep(100);
const { server, token } = readClientConfig(configPath);
const md = new grpc.Metadata();
md.set("authorization", `Bearer ${token}`);
const cms = new KINDS.ConfigMap.client(server, grpc.credentials.createInsecure());
const unary = <T>(method: string, req: unknown) =>
  new Promise<T>((resolve, reject) => cms[method](req, md, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
for (let i = 0; i < 600; i++) {
  try {
    await unary("get", { namespace: "default", name: `cm-${OBJECTS - 1}` });
    break;
  } catch {
    await sleep(100);
  }
}

let round = 0;
/** Creates timed from a process of their own, so the watch clients here do not slow them. */
async function createLatencies(): Promise<string> {
  const code = `
    import * as grpc from "@grpc/grpc-js";
    import { KINDS } from "@navarch/api";
    const md = new grpc.Metadata();
    md.set("authorization", "Bearer ${token}");
    const c = new KINDS.ConfigMap.client("${server}", grpc.credentials.createInsecure());
    const ms = [];
    for (let i = 0; i < ${CREATES}; i++) {
      const t = performance.now();
      await new Promise((res, rej) => c.create(KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "probe-${round}-" + i }, data: { a: "b" } }), md, (e) => (e ? rej(e) : res())));
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    console.log("create p50 " + ms[ms.length >> 1].toFixed(1) + " ms, max " + ms[ms.length - 1].toFixed(1) + " ms");
    process.exit(0);`;
  round++;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await new Promise((r) => child.once("exit", r));
  return out.trim();
}

console.log(`${OBJECTS} ConfigMaps; gateway pid ${gateway.pid}; idle: RSS ${rssMiB(gateway.pid!)} MiB, ${await createLatencies()}`);
for (const n of WATCHES) {
  const before = rssMiB(gateway.pid!);
  const watches: StalledWatch[] = [];
  const opening = (async () => {
    for (let i = 0; i < n; i++) {
      watches.push(stalledWatch(server, KINDS.ConfigMap, token, { namespace: "", labelSelector: "", fieldSelector: "", resourceVersion: "", allowWatchBookmarks: true }));
      if (i % 100 === 99) await sleep(50);
    }
  })();
  const whileOpening = await createLatencies();
  await opening;
  if (process.env.WATCH_MEMORY_CPU) {
    for (let i = 0; i < 10; i++) {
      const stat = readFileSync(`/proc/${gateway.pid}/stat`, "utf8").split(" ");
      console.log(`  t+${i}s gateway cpu ticks ${Number(stat[13]) + Number(stat[14])} rss ${rssMiB(gateway.pid!)} MiB`);
      await sleep(1000);
    }
  }
  await sleep(SETTLE_MS);
  const during = rssMiB(gateway.pid!);
  const latency = await createLatencies();
  for (const w of watches) w.cancel();
  await sleep(SETTLE_MS);
  const after = rssMiB(gateway.pid!);
  console.log(`${n} watches that never read: RSS before ${before} MiB, during ${during} MiB, after cancel ${after} MiB; while they open ${whileOpening}; once open ${latency}`);
}
cms.close();
gateway.kill("SIGTERM");
await new Promise((r) => gateway.once("exit", r));
await nc.close();
await nats.stop();
rmSync(dir, { recursive: true, force: true });
