// The node side of the logs protocol against a real nats-server: request -> answer -> chunks ->
// end, flow control, follow + cancel, keepalive timeout, errors. The runtime is a stand-in whose
// logs() yields known chunks (testing.ts); NATS is real.
import { createLogger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import type { PodRef } from "@navarch/runtime";
import { connectNats, LOGS_CHUNK_BYTES, LOGS_OFFSET_HEADER, nodeLogsSubject } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { pickContainer, serveLogs, type LogsServer, type ServeLogsOptions } from "./serve.js";
import { fixedLog, LiveLog, LogsTestClient, StandInRuntime } from "./testing.js";

const NODE = "node-1.example";
const logger = createLogger("test", "error");
const pod = (name: string, uid: string): PodRef => ({ namespace: "default", name, uid, node: NODE });

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("serveLogs against a real nats-server", () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let clientNc: NatsConnection;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-logs-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "node-agent-test" });
    clientNc = await connectNats({ url: server.url, name: "gateway-test" });
  });

  after(async () => {
    await nc?.close();
    await clientNc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(runtime: StandInRuntime, extra: Partial<ServeLogsOptions> = {}): Promise<{ logs: LogsServer; ac: AbortController }> {
    const ac = new AbortController();
    const logs = await serveLogs({ nc, node: NODE, runtime, logger, signal: ac.signal, ...extra });
    return { logs, ac };
  }

  it("answers, streams the chunks in order and ends", async () => {
    const runtime = new StandInRuntime();
    runtime.add(pod("p", "u1"), "app", fixedLog(["line 1\n", "line 2\n", "line 3\n"]));
    const { logs, ac } = await serve(runtime);
    const c = new LogsTestClient(clientNc, NODE);
    try {
      assert.deepEqual(await c.ask({ uid: "u1", tailLines: 10, sinceSeconds: 60, timestamps: true }), { ok: true });
      await until(() => c.ended, "the end message");
      assert.equal(c.bytes.toString(), "line 1\nline 2\nline 3\n");
      assert.equal(c.endError, "");
      // Offsets count the bytes before each message.
      let offset = 0;
      for (const m of c.data) {
        assert.equal(m.headers?.get(LOGS_OFFSET_HEADER), String(offset));
        offset += m.data.length;
      }
      assert.equal(runtime.calls.length, 1);
      assert.deepEqual(runtime.calls[0]!.opts, { follow: false, tail: 10, sinceSeconds: 60, timestamps: true });
      await until(() => logs.active === 0, "the stream to close");
    } finally {
      c.close();
      ac.abort();
    }
  });

  it("cuts the log into chunks of at most 64 KiB and keeps within the window until acknowledged", async () => {
    const runtime = new StandInRuntime();
    const big = Buffer.alloc(600 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = 97 + (i % 26);
    const pieces: Buffer[] = [];
    for (let i = 0; i < big.length; i += 10_000) pieces.push(big.subarray(i, i + 10_000));
    runtime.add(pod("p", "u1"), "app", fixedLog(pieces));
    const window = 200 * 1024;
    const { ac } = await serve(runtime, { windowBytes: window });
    const c = new LogsTestClient(clientNc, NODE);
    try {
      assert.deepEqual(await c.ask({ uid: "u1" }), { ok: true });
      await until(() => c.bytes.length >= window, "a window of data");
      await new Promise((r) => setTimeout(r, 200));
      // Without an acknowledgement the node stops within a chunk of the window.
      assert.ok(c.bytes.length < window + LOGS_CHUNK_BYTES, `sent ${c.bytes.length} bytes unacknowledged`);
      assert.equal(c.ended, false);
      // Each acknowledgement opens the window again, until the end.
      while (!c.ended) {
        c.ack();
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(c.data.every((m) => m.data.length <= LOGS_CHUNK_BYTES));
      assert.equal(Buffer.compare(c.bytes, big), 0);
      assert.equal(c.endError, "");
    } finally {
      c.close();
      ac.abort();
    }
  });

  it("follows new output until the gateway cancels", async () => {
    const runtime = new StandInRuntime();
    const live = new LiveLog();
    live.push("first\n");
    runtime.add(pod("p", "u1"), "app", live.source);
    const { logs, ac } = await serve(runtime);
    const c = new LogsTestClient(clientNc, NODE);
    try {
      assert.deepEqual(await c.ask({ uid: "u1", follow: true }), { ok: true });
      await until(() => c.bytes.toString() === "first\n", "the first line");
      live.push("second\n");
      await until(() => c.bytes.toString() === "first\nsecond\n", "the followed line");
      assert.equal(logs.active, 1);
      c.cancel();
      await until(() => c.ended, "the end message");
      assert.equal(c.endError, "");
      assert.equal(live.aborted, true, "the runtime's log stream was aborted");
      await until(() => logs.active === 0 && live.readers === 0, "the stream to close");
    } finally {
      c.close();
      ac.abort();
    }
  });

  it("stops a follow without keepalives, and sends heartbeats while idle", async () => {
    const runtime = new StandInRuntime();
    const live = new LiveLog();
    runtime.add(pod("p", "u1"), "app", live.source);
    const { logs, ac } = await serve(runtime, { keepaliveMs: 100, keepaliveTimeoutMs: 600 });
    const c = new LogsTestClient(clientNc, NODE);
    try {
      assert.deepEqual(await c.ask({ uid: "u1", follow: true }), { ok: true });
      await until(() => c.ended, "the end message", 3_000);
      assert.match(c.endError, /no keepalive from the gateway/);
      assert.equal(live.aborted, true);
      assert.ok(c.data.length >= 2, `expected idle heartbeats, got ${c.data.length} messages`);
      assert.ok(c.data.every((m) => m.data.length === 0));
      await until(() => logs.active === 0, "the stream to close");
    } finally {
      c.close();
      ac.abort();
    }
  });

  it("keeps a follow open while keepalives come", async () => {
    const runtime = new StandInRuntime();
    const live = new LiveLog();
    runtime.add(pod("p", "u1"), "app", live.source);
    const { ac } = await serve(runtime, { keepaliveMs: 100, keepaliveTimeoutMs: 400 });
    const c = new LogsTestClient(clientNc, NODE);
    const timer = setInterval(() => c.ack(), 100);
    try {
      assert.deepEqual(await c.ask({ uid: "u1", follow: true }), { ok: true });
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(c.ended, false);
      live.push("late\n");
      await until(() => c.bytes.toString() === "late\n", "the late line");
    } finally {
      clearInterval(timer);
      c.cancel();
      c.close();
      ac.abort();
    }
  });

  it("answers NotFound for an unknown container, a missing previous one, or another pod's uid", async () => {
    const runtime = new StandInRuntime();
    runtime.add(pod("p", "u1"), "app", fixedLog(["x\n"]));
    const { ac } = await serve(runtime);
    const c = new LogsTestClient(clientNc, NODE);
    try {
      assert.deepEqual(await c.ask({ uid: "u1", container: "nope" }), {
        ok: false,
        code: "NotFound",
        message: 'container "nope" in pod "p" is waiting to start',
      });
      assert.deepEqual(await c.ask({ uid: "u1", previous: true }), {
        ok: false,
        code: "NotFound",
        message: 'previous terminated container "app" in pod "p" not found',
      });
      assert.equal((await c.ask({ uid: "u2" })).ok, false);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(c.messages.length, 0, "nothing is streamed after a refusal");
      assert.equal(runtime.calls.length, 0);
    } finally {
      c.close();
      ac.abort();
    }
  });

  it("serves --previous from the newest exited container of a lower attempt", async () => {
    const runtime = new StandInRuntime();
    const p = pod("p", "u1");
    runtime.add(p, "app", fixedLog(["attempt 0\n"]), { attempt: 0, state: "exited" });
    runtime.add(p, "app", fixedLog(["attempt 1\n"]), { attempt: 1, state: "exited" });
    runtime.add(p, "app", fixedLog(["attempt 2\n"]), { attempt: 2, state: "running" });
    const { ac } = await serve(runtime);
    try {
      const prev = new LogsTestClient(clientNc, NODE);
      assert.deepEqual(await prev.ask({ uid: "u1", previous: true }), { ok: true });
      await until(() => prev.ended, "the end");
      assert.equal(prev.bytes.toString(), "attempt 1\n");
      prev.close();
      const cur = new LogsTestClient(clientNc, NODE);
      assert.deepEqual(await cur.ask({ uid: "u1" }), { ok: true });
      await until(() => cur.ended, "the end");
      assert.equal(cur.bytes.toString(), "attempt 2\n");
      cur.close();
    } finally {
      ac.abort();
    }
  });

  it("refuses malformed requests and more streams than allowed", async () => {
    const runtime = new StandInRuntime();
    const live = new LiveLog();
    runtime.add(pod("p", "u1"), "app", live.source);
    const { ac } = await serve(runtime, { maxStreams: 1 });
    const a = new LogsTestClient(clientNc, NODE);
    const b = new LogsTestClient(clientNc, NODE);
    try {
      const bad = await clientNc.request(nodeLogsSubject(NODE), "not json", { timeout: 2_000 });
      assert.deepEqual(bad.json(), { ok: false, code: "BadRequest", message: "the logs request is not JSON" });
      const r = await a.ask({ uid: "u1", replyTo: "_INBOX.>" });
      assert.equal(r.ok, false);
      assert.equal((r as { code: string }).code, "BadRequest");
      assert.deepEqual(await a.ask({ uid: "u1", follow: true }), { ok: true });
      const second = await b.ask({ uid: "u1", follow: true });
      assert.equal(second.ok, false);
      assert.equal((second as { code: string }).code, "TooManyRequests");
    } finally {
      a.cancel();
      a.close();
      b.close();
      ac.abort();
    }
  });

  it("ends open streams with an error when the agent stops", async () => {
    const runtime = new StandInRuntime();
    const live = new LiveLog();
    runtime.add(pod("p", "u1"), "app", live.source);
    const { logs, ac } = await serve(runtime);
    const c = new LogsTestClient(clientNc, NODE);
    try {
      assert.deepEqual(await c.ask({ uid: "u1", follow: true }), { ok: true });
      ac.abort();
      await until(() => c.ended, "the end message");
      assert.match(c.endError, /shutting down/);
      assert.equal(logs.active, 0);
      await assert.rejects(c.ask({ uid: "u1" }), /no responders|503/i);
    } finally {
      c.close();
    }
  });

  it("reports a failing runtime stream in the end message", async () => {
    const runtime = new StandInRuntime();
    runtime.add(pod("p", "u1"), "app", async function* () {
      yield Buffer.from("partial\n");
      throw new Error("connection to the runtime dropped");
    });
    const { ac } = await serve(runtime);
    const c = new LogsTestClient(clientNc, NODE);
    try {
      assert.deepEqual(await c.ask({ uid: "u1" }), { ok: true });
      await until(() => c.ended, "the end message");
      assert.equal(c.bytes.toString(), "partial\n");
      assert.match(c.endError, /connection to the runtime dropped/);
    } finally {
      c.close();
      ac.abort();
    }
  });
});

describe("pickContainer", () => {
  const base = { image: "", imageID: "", exitCode: 0, oomKilled: false, error: "", role: "app" as const };
  const p1 = pod("p", "u1");
  const list = [
    { ...base, id: "a0", pod: p1, name: "app", attempt: 0, state: "exited" as const, createdAt: new Date(1) },
    { ...base, id: "a1", pod: p1, name: "app", attempt: 1, state: "running" as const, createdAt: new Date(2) },
    { ...base, id: "s", pod: p1, name: "app", attempt: 5, state: "running" as const, createdAt: new Date(3), role: "sandbox" as const },
    { ...base, id: "b0", pod: p1, name: "sidecar", attempt: 0, state: "running" as const, createdAt: new Date(1) },
    { ...base, id: "old", pod: pod("p", "u0"), name: "app", attempt: 9, state: "exited" as const, createdAt: new Date(0) },
  ];
  const q = { namespace: "default", name: "p", uid: "u1", container: "app", previous: false };

  it("takes the highest attempt of the pod's container (never the sandbox, never another uid)", () => {
    assert.equal(pickContainer(list, q)?.id, "a1");
    assert.equal(pickContainer(list, { ...q, container: "sidecar" })?.id, "b0");
  });

  it("takes the newest exited lower attempt for previous", () => {
    assert.equal(pickContainer(list, { ...q, previous: true })?.id, "a0");
    assert.equal(pickContainer(list, { ...q, container: "sidecar", previous: true }), undefined);
  });

  it("matches by namespace and name when no uid is given", () => {
    assert.equal(pickContainer(list, { ...q, uid: "" })?.id, "old");
  });
});
