import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import {
  findNatsServer,
  NatsServerProcess,
  readServerInfo,
  versionAtLeast,
} from "./index.js";

const OLD_SERVER = "/usr/sbin/nats-server"; // Debian's 2.9.10, if installed

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nats-embedded-test-"));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

test("versionAtLeast", () => {
  const table: [string, string, boolean][] = [
    ["2.10.0", "2.10.0", true],
    ["v2.15.2", "2.10.0", true],
    ["2.9.10", "2.10.0", false],
    ["2.10.1", "2.10.0", true],
    ["3.0.0", "2.99.99", true],
    ["2.10", "2.10.0", true],
    ["2.10.0-beta.1", "2.10.0", false],
    ["2.10.0", "2.10.0-beta.1", true],
    ["2.10.0-beta.2", "2.10.0-beta.10", false],
    ["2.10.0-RC.1", "2.10.0-beta.1", false],
    ["2.10.0+build.7", "2.10.0", true],
  ];
  for (const [version, min, want] of table) {
    assert.equal(versionAtLeast(version, min), want, `versionAtLeast(${version}, ${min})`);
  }
  assert.throws(() => versionAtLeast("latest", "2.10.0"), /not a version/);
});

test("findNatsServer honours NAVARCH_NATS_SERVER and refuses a bad one", () => {
  const saved = process.env.NAVARCH_NATS_SERVER;
  try {
    const found = findNatsServer();
    process.env.NAVARCH_NATS_SERVER = found;
    assert.equal(findNatsServer(), found);
    process.env.NAVARCH_NATS_SERVER = join(tempDir(), "no-such-nats-server");
    assert.throws(() => findNatsServer(), /NAVARCH_NATS_SERVER=.*not an executable/);
  } finally {
    if (saved === undefined) delete process.env.NAVARCH_NATS_SERVER;
    else process.env.NAVARCH_NATS_SERVER = saved;
  }
});

describe("a running server", () => {
  let server: NatsServerProcess;
  let logFile: string;

  before(async () => {
    const dir = tempDir();
    logFile = join(dir, "nats.log");
    server = await NatsServerProcess.start({ storeDir: join(dir, "store"), logFile, serverName: "test-1" });
  });
  after(() => server?.kill());

  test("greets clients with INFO advertising JetStream", async () => {
    assert.ok(server.running);
    assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.url, `nats://127.0.0.1:${server.port}`);
    const info = await readServerInfo("127.0.0.1", server.port);
    assert.equal(info.jetstream, true);
    assert.equal(info.version, server.version);
    assert.equal(info.server_name, "test-1");
    assert.ok(versionAtLeast(server.version, "2.9.0"));
  });

  test("restart keeps the port and the JetStream state", async () => {
    const created = await jsRequest(server.port, "$JS.API.STREAM.CREATE.KEEP", { name: "KEEP", subjects: ["keep.>"] });
    assert.equal(created.error, undefined, JSON.stringify(created.error));
    const oldPid = server.pid;

    await server.restart();

    assert.ok(server.running);
    assert.notEqual(server.pid, oldPid);
    assert.ok(await isGone(oldPid));
    const info = await readServerInfo("127.0.0.1", server.port);
    assert.equal(info.jetstream, true);
    const stream = await jsRequest(server.port, "$JS.API.STREAM.INFO.KEEP", {});
    assert.equal(stream.error, undefined, JSON.stringify(stream.error));
    assert.equal(stream.config.name, "KEEP");
  });

  test("output is appended to the log file across restarts", () => {
    const ready = readFileSync(logFile, "utf8").match(/Server is ready/g) ?? [];
    assert.equal(ready.length, 2);
    assert.ok(server.recentLog().some((line) => line.includes("Server is ready")));
  });

  test("kill() ends the process at once", async () => {
    const pid = server.pid;
    await server.kill();
    assert.equal(server.running, false);
    assert.ok(await isGone(pid));
    await assert.rejects(readServerInfo("127.0.0.1", server.port, 1_000));
    await server.stop(); // a no-op once it is gone
  });
});

test("maxPayload reaches the server", async () => {
  const server = await NatsServerProcess.start({ storeDir: tempDir(), maxPayload: 8 * 1024 * 1024 });
  try {
    const info = await readServerInfo("127.0.0.1", server.port);
    assert.equal(info.max_payload, 8 * 1024 * 1024);
  } finally {
    await server.stop();
  }
});

test("a server that cannot start is reported with its log", async () => {
  const squatter = createServer().listen(0, "127.0.0.1");
  await once(squatter, "listening");
  const { port } = squatter.address() as { port: number };
  try {
    await assert.rejects(
      NatsServerProcess.start({ storeDir: tempDir(), port }),
      (err: Error) => /exited before it was ready/.test(err.message) && /last log lines/.test(err.message),
    );
  } finally {
    squatter.close();
  }
});

test("minVersion refuses an old server", { skip: !existsSync(OLD_SERVER) && `${OLD_SERVER} not installed` }, async () => {
  await assert.rejects(
    NatsServerProcess.start({ storeDir: tempDir(), binary: OLD_SERVER, minVersion: "2.10.0" }),
    /is nats-server 2\.9\.\d+; Navarch needs 2\.10\.0 or newer/,
  );
});

test("servers die when their parent exits", async () => {
  const index = new URL("./index.js", import.meta.url).href;
  const script = `
    const { NatsServerProcess } = await import(${JSON.stringify(index)});
    const s = await NatsServerProcess.start({ storeDir: ${JSON.stringify(tempDir())} });
    console.log(s.pid);
    process.exit(0);
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
  const pid = Number(stdout.trim());
  assert.ok(pid > 0, `child printed ${stdout}`);
  assert.ok(await isGone(pid), `nats-server ${pid} outlived its parent`);
});

/** True once pid no longer runs; zombies count as gone since an orphan's reaper may be slow or absent. */
async function isGone(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH" || (err as NodeJS.ErrnoException).code === "ENOENT") return true;
      throw err;
    }
    await sleep(50);
  }
  return false;
}

/** One JetStream API request over the raw NATS protocol, so the test needs no client library. */
async function jsRequest(port: number, subject: string, body: object): Promise<any> {
  const socket = connect({ host: "127.0.0.1", port });
  try {
    const payload = JSON.stringify(body);
    socket.write(
      `CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.test 1\r\n` +
        `PUB ${subject} _INBOX.test ${Buffer.byteLength(payload)}\r\n${payload}\r\n`,
    );
    let buffered = "";
    for await (const chunk of socket.setTimeout(5_000, () => socket.destroy(new Error("no reply")))) {
      buffered += (chunk as Buffer).toString("utf8");
      if (buffered.includes("PING\r\n")) socket.write("PONG\r\n");
      const m = /MSG \S+ 1 (\d+)\r\n/.exec(buffered);
      if (!m) continue;
      const start = m.index + m[0].length;
      const end = start + Number(m[1]);
      if (buffered.length >= end) return JSON.parse(buffered.slice(start, end));
    }
    throw new Error(`connection closed without a reply to ${subject}: ${buffered}`);
  } finally {
    socket.destroy();
  }
}
