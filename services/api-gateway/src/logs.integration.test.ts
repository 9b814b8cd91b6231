// LogService.StreamLogs end to end: a real nats-server, the real gateway (startGateway) and the
// node side of the protocol (serveLogs from services/node-agent) over a stand-in runtime whose
// logs() yields known chunks. Pods are written to the store directly, bound to the test node.
//
// serveLogs and the stand-in are loaded from the node agent's build output at run time: services
// do not import each other, and this test is the one place where both ends of the protocol meet.
import * as grpc from "@grpc/grpc-js";
import { KINDS, LogServiceClient, PodLogsRequest, type Pod, type PodLogsChunk, type Secret } from "@navarch/api";
import { createLogger, type Logger } from "@navarch/config";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, issueToken, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startGateway, type RunningGateway } from "./start.js";

const NODE = "n1";

// The node agent's logs module, as far as this test uses it.
interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  node: string;
}
type LogSource = (opts: { follow: boolean }, signal: AbortSignal) => AsyncIterable<Buffer>;
interface StandInRuntime {
  add(pod: PodRef, name: string, source: LogSource, opts?: { attempt?: number; state?: string }): string;
  calls: { id: string; opts: unknown; signal: AbortSignal }[];
}
interface LiveLog {
  push(text: string | Buffer): void;
  end(): void;
  aborted: boolean;
  readers: number;
  source: LogSource;
}
interface NodeLogs {
  serveLogs(opts: { nc: NatsConnection; node: string; runtime: unknown; logger: Logger; signal: AbortSignal }): Promise<{ active: number; stop(): Promise<void> }>;
  StandInRuntime: new () => StandInRuntime;
  LiveLog: new () => LiveLog;
  fixedLog(chunks: (string | Buffer)[]): LogSource;
}

async function loadNodeLogs(): Promise<NodeLogs> {
  const dir = new URL("../../node-agent/dist/logs/", import.meta.url);
  const serve = (await import(new URL("serve.js", dir).href)) as Pick<NodeLogs, "serveLogs">;
  const testing = (await import(new URL("testing.js", dir).href)) as Omit<NodeLogs, "serveLogs">;
  return { ...serve, ...testing };
}

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Collected {
  data: Buffer;
  error?: grpc.ServiceError;
}

describe("LogService against a real nats-server, gateway and node side", () => {
  let dir: string;
  let server: NatsServerProcess;
  let nc: NatsConnection;
  let gateway: RunningGateway;
  let md: grpc.Metadata;
  let client: LogServiceClient;
  let pods: ResourceStore<Pod>;
  let node: NodeLogs;
  let runtime: StandInRuntime;
  let nodeNc: NatsConnection;
  let agent: AbortController;
  let served: { active: number; stop(): Promise<void> };

  /** Writes a pod (as the gateway would have stored it) and waits until the gateway sees it. */
  async function createPod(name: string, opts: { nodeName?: string; containers?: string[] } = {}): Promise<PodRef> {
    const pod = KINDS.Pod.codec.fromPartial({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", uid: randomUUID(), creationTimestamp: new Date().toISOString() },
      spec: { nodeName: opts.nodeName ?? NODE, containers: (opts.containers ?? ["app"]).map((c) => ({ name: c, image: "navarch/test" })) },
      status: { phase: "Running" },
    });
    const created = await pods.create(pod);
    const ref = { namespace: "default", name, uid: created.metadata!.uid, node: opts.nodeName ?? NODE };
    // The gateway's Pod informer picks it up through its watch.
    const podClient = new KINDS.Pod.client(gateway.address, grpc.credentials.createInsecure());
    try {
      for (let i = 0; ; i++) {
        try {
          await new Promise((resolve, reject) => podClient.get({ namespace: "default", name }, md, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))));
          break;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    } finally {
      podClient.close();
    }
    return ref;
  }

  function stream(req: Partial<PodLogsRequest>, onData?: (chunk: Buffer, call: grpc.ClientReadableStream<PodLogsChunk>) => void) {
    const call = client.streamLogs(PodLogsRequest.fromPartial({ namespace: "default", ...req }), md);
    const chunks: Buffer[] = [];
    const done = new Promise<Collected>((resolve) => {
      call.on("data", (c: PodLogsChunk) => {
        const b = Buffer.from(c.data);
        chunks.push(b);
        onData?.(b, call);
      });
      call.on("error", (error: grpc.ServiceError) => resolve({ data: Buffer.concat(chunks), error }));
      call.on("end", () => resolve({ data: Buffer.concat(chunks) }));
    });
    return { call, done, text: () => Buffer.concat(chunks).toString() };
  }

  async function fails(req: Partial<PodLogsRequest>, code: grpc.status, details: string | RegExp): Promise<void> {
    const { done } = stream(req);
    const r = await done;
    assert.ok(r.error, `expected ${grpc.status[code]}, but the stream ended cleanly`);
    assert.equal(r.error.code, code, `expected ${grpc.status[code]}, got ${grpc.status[r.error.code]}: ${r.error.details}`);
    if (typeof details === "string") assert.equal(r.error.details, details);
    else assert.match(r.error.details, details);
  }

  before(async () => {
    node = await loadNodeLogs();
    dir = mkdtempSync(path.join(tmpdir(), "navarch-gw-logs-"));
    server = await NatsServerProcess.start({ storeDir: dir });
    nc = await connectNats({ url: server.url, name: "gateway-test" });
    nodeNc = await connectNats({ url: server.url, name: "node-agent-test" });
    gateway = await startGateway({
      nc,
      logger: createLogger("test", "warn"),
      options: { apiAddr: "127.0.0.1:0", bookmarkSeconds: 1, watchHistory: 1000, maxObjectBytes: 100_000 },
    });
    const secrets = await ResourceStore.open<Secret>(nc, KINDS.Secret);
    const token = await issueToken(secrets, "test-token", { username: "tester", groups: ["system:masters"] });
    md = new grpc.Metadata();
    md.set("authorization", `Bearer ${token}`);
    pods = await ResourceStore.open<Pod>(nc, KINDS.Pod);
    client = new LogServiceClient(gateway.address, grpc.credentials.createInsecure());
    runtime = new node.StandInRuntime();
    agent = new AbortController();
    served = await node.serveLogs({ nc: nodeNc, node: NODE, runtime, logger: createLogger("node-agent", "warn"), signal: agent.signal });
  });

  after(async () => {
    agent?.abort();
    client?.close();
    await gateway?.stop();
    await nc?.close();
    await nodeNc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("streams a container's log from the node the pod is bound to", async () => {
    const p = await createPod("one");
    runtime.add(p, "app", node.fixedLog(["hello\n", "from ", "the node\n"]));
    const r = await stream({ name: "one", tailLines: 5, timestamps: true }).done;
    assert.equal(r.error, undefined, r.error?.details);
    assert.equal(r.data.toString(), "hello\nfrom the node\n");
    const call = runtime.calls.at(-1)!;
    assert.deepEqual(call.opts, { follow: false, tail: 5, sinceSeconds: undefined, timestamps: true });
  });

  it("picks the named container of a multi-container pod, and the previous instance", async () => {
    const p = await createPod("two", { containers: ["web", "sidecar"] });
    runtime.add(p, "web", node.fixedLog(["web 0\n"]), { attempt: 0, state: "exited" });
    runtime.add(p, "web", node.fixedLog(["web 1\n"]), { attempt: 1, state: "running" });
    runtime.add(p, "sidecar", node.fixedLog(["sidecar\n"]));
    assert.equal((await stream({ name: "two", container: "sidecar" }).done).data.toString(), "sidecar\n");
    assert.equal((await stream({ name: "two", container: "web" }).done).data.toString(), "web 1\n");
    assert.equal((await stream({ name: "two", container: "web", previous: true }).done).data.toString(), "web 0\n");
    await fails({ name: "two", container: "sidecar", previous: true }, grpc.status.NOT_FOUND, 'previous terminated container "sidecar" in pod "two" not found');
  });

  it("follows until the client cancels, and then the node stops reading", async () => {
    const p = await createPod("follow");
    const live = new node.LiveLog();
    live.push("first\n");
    runtime.add(p, "app", live.source);
    const s = stream({ name: "follow", follow: true });
    await until(() => s.text() === "first\n", "the first line");
    live.push("second\n");
    await until(() => s.text() === "first\nsecond\n", "the followed line");
    assert.equal(served.active, 1);
    s.call.cancel();
    const r = await s.done;
    assert.equal(r.error?.code, grpc.status.CANCELLED);
    await until(() => live.aborted && live.readers === 0 && served.active === 0, "the node to stop the stream");
  });

  it("ends a follow cleanly when the container's log ends", async () => {
    const p = await createPod("ends");
    const live = new node.LiveLog();
    runtime.add(p, "app", live.source);
    const s = stream({ name: "ends", follow: true });
    live.push("bye\n");
    await until(() => s.text() === "bye\n", "the line");
    live.end();
    const r = await s.done;
    assert.equal(r.error, undefined);
    assert.equal(r.data.toString(), "bye\n");
  });

  it("relays a large log intact, with the client reading slowly", async () => {
    const p = await createPod("big");
    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = 32 + (i % 90);
    const pieces: Buffer[] = [];
    for (let i = 0; i < big.length; i += 16 * 1024) pieces.push(big.subarray(i, i + 16 * 1024));
    runtime.add(p, "app", node.fixedLog(pieces));
    let paused = false;
    const s = stream({ name: "big" }, (_chunk, call) => {
      // Stall the reader once for a while: the node must wait, nothing may be lost.
      if (!paused) {
        paused = true;
        call.pause();
        setTimeout(() => call.resume(), 500);
      }
    });
    const r = await s.done;
    assert.equal(r.error, undefined, r.error?.details);
    assert.equal(r.data.length, big.length);
    assert.equal(Buffer.compare(r.data, big), 0);
  });

  it("refuses what it cannot serve with the kubectl messages", async () => {
    await createPod("multi", { containers: ["a", "b"] });
    await createPod("pending", { nodeName: "" });
    await createPod("elsewhere", { nodeName: "n2" });
    await fails({ name: "missing" }, grpc.status.NOT_FOUND, 'pods "missing" not found');
    await fails({ name: "pending" }, grpc.status.FAILED_PRECONDITION, "pod pending is not scheduled yet");
    await fails({ name: "multi" }, grpc.status.INVALID_ARGUMENT, "container: a container name must be specified for pod multi, choose one of: [a b]");
    await fails({ name: "multi", container: "c" }, grpc.status.INVALID_ARGUMENT, "container: container c is not valid for pod multi, choose one of: [a b]");
    await fails({ name: "multi", container: "a" }, grpc.status.NOT_FOUND, 'container "a" in pod "multi" is waiting to start');
    await fails({ name: "elsewhere" }, grpc.status.UNAVAILABLE, "node n2 is not reachable");
  });

  it("needs a token", async () => {
    const call = client.streamLogs(PodLogsRequest.fromPartial({ name: "one" }));
    const err = await new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
    assert.equal(err.code, grpc.status.UNAUTHENTICATED);
  });
});
