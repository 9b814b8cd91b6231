// navctl logs: argument parsing, and the built CLI against an in-test LogService (the fake API
// server of cli/src/testing has no logs; the real path is tested in the gateway's
// logs.integration.test.ts).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { LogServiceService, type PodLogsChunk, type PodLogsRequest } from "@navarch/api";
import { NAVCTL, runCli } from "../testing/run-cli.js";
import { logsErrorMessage, logsRequest, parseSince, parseTail, podNameOf } from "./logs.js";

describe("navctl logs arguments", () => {
  it("parses --since as kubectl does, in whole seconds rounded up", () => {
    assert.equal(parseSince("5s"), 5);
    assert.equal(parseSince("2m"), 120);
    assert.equal(parseSince("1h"), 3600);
    assert.equal(parseSince("1h30m"), 5400);
    assert.equal(parseSince("1.5h"), 5400);
    assert.equal(parseSince("500ms"), 1);
    assert.equal(parseSince("0"), 0);
    for (const bad of ["", "5", "5x", "s", "-5s", "5s ago", "1d"]) {
      assert.throws(() => parseSince(bad), /invalid duration/, bad);
    }
  });

  it("parses --tail", () => {
    assert.equal(parseTail("10"), 10);
    assert.equal(parseTail("0"), 0);
    assert.equal(parseTail("-1"), -1);
    for (const bad of ["-2", "x", "1.5", ""]) assert.throws(() => parseTail(bad), /invalid --tail/, bad);
  });

  it("takes POD or pod/POD and refuses other kinds", () => {
    assert.equal(podNameOf("web"), "web");
    assert.equal(podNameOf("pod/web"), "web");
    assert.equal(podNameOf("pods/web"), "web");
    assert.equal(podNameOf("po/web"), "web");
    assert.throws(() => podNameOf("deployment/web"), /cannot get logs of deployment\/web: name a pod/);
    assert.throws(() => podNameOf("pod/"), /a pod name is required/);
  });

  it("builds the request: -1 and 0 mean no limit", () => {
    assert.deepEqual(logsRequest("ns", "pod/web", { container: "c", follow: true, previous: true, tail: 20, sinceSeconds: 60, timestamps: true }), {
      namespace: "ns",
      name: "web",
      container: "c",
      follow: true,
      previous: true,
      tailLines: 20,
      sinceSeconds: 60,
      timestamps: true,
    });
    const all = logsRequest("default", "web", { tail: -1, sinceSeconds: 0 });
    assert.equal(all.tailLines, undefined);
    assert.equal(all.sinceSeconds, undefined);
    assert.equal(all.container, "");
  });

  it("words errors as kubectl does", () => {
    const server = "127.0.0.1:7443";
    assert.equal(logsErrorMessage({ code: grpc.status.NOT_FOUND, details: 'pods "x" not found' }, server), 'pods "x" not found');
    assert.equal(
      logsErrorMessage({ code: grpc.status.INVALID_ARGUMENT, details: "container: a container name must be specified for pod x, choose one of: [a b]" }, server),
      "a container name must be specified for pod x, choose one of: [a b]",
    );
    assert.equal(logsErrorMessage({ code: grpc.status.UNAVAILABLE, details: "node n1 is not reachable" }, server), "node n1 is not reachable");
    assert.equal(
      logsErrorMessage({ code: grpc.status.UNAVAILABLE, details: "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7443" }, server),
      "the server at 127.0.0.1:7443 is not reachable",
    );
    assert.equal(logsErrorMessage({ code: grpc.status.FAILED_PRECONDITION, details: "pod x is not scheduled yet" }, server), "pod x is not scheduled yet");
  });
});

describe("navctl logs against a LogService", () => {
  const token = "logs-token";
  let server: grpc.Server;
  let address: string;
  const requests: PodLogsRequest[] = [];
  let cancelled = 0;
  const env = () => ({ NAVARCH_SERVER: address, NAVARCH_TOKEN: token, NAVARCH_HOME: "/nonexistent" });

  before(async () => {
    server = new grpc.Server();
    server.addService(LogServiceService, {
      streamLogs: (call: grpc.ServerWritableStream<PodLogsRequest, PodLogsChunk>) => {
        if (call.metadata.get("authorization")[0] !== `Bearer ${token}`) {
          call.emit("error", { code: grpc.status.UNAUTHENTICATED, details: "invalid bearer token" });
          return;
        }
        const req = call.request;
        requests.push(req);
        switch (req.name) {
          case "web":
            call.write({ data: Buffer.from("line 1\n") });
            call.write({ data: Buffer.from([0xff, 0xfe, 0x0a]) }); // not UTF-8: passed through as bytes
            call.write({ data: Buffer.from("line 2\n") });
            call.end();
            return;
          case "multi":
            call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "container: a container name must be specified for pod multi, choose one of: [a b]" });
            return;
          case "follow":
            call.write({ data: Buffer.from("waiting\n") });
            call.on("cancelled", () => cancelled++);
            return;
          default:
            call.emit("error", { code: grpc.status.NOT_FOUND, details: `pods "${req.name}" not found` });
        }
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });

  after(() => server.forceShutdown());

  it("writes the log's bytes to stdout unchanged and passes the flags on", async () => {
    const child = spawn(process.execPath, [NAVCTL, "logs", "pod/web", "-c", "app", "--tail", "5", "--since", "2m", "--timestamps", "-n", "prod"], {
      env: { ...process.env, ...env() },
    });
    const out: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(err, "");
    assert.equal(code, 0);
    assert.deepEqual(Buffer.concat(out), Buffer.concat([Buffer.from("line 1\n"), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from("line 2\n")]));
    assert.deepEqual(requests.at(-1), {
      namespace: "prod",
      name: "web",
      container: "app",
      follow: false,
      previous: false,
      tailLines: 5,
      sinceSeconds: 120,
      timestamps: true,
    });
  });

  it("takes the container as a second argument, and --previous", async () => {
    const r = await runCli(["logs", "web", "side", "-p"], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const req = requests.at(-1)!;
    assert.equal(req.container, "side");
    assert.equal(req.previous, true);
    assert.equal(req.tailLines, undefined);
    assert.equal(req.namespace, "default");
  });

  it("prints one error line and exits 1", async () => {
    let r = await runCli(["logs", "nope"], { env: env() });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, 'error: pods "nope" not found\n');
    r = await runCli(["logs", "multi"], { env: env() });
    assert.equal(r.stderr, "error: a container name must be specified for pod multi, choose one of: [a b]\n");
    r = await runCli(["logs", "web", "--since", "5x"], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*invalid duration "5x"/);
    assert.equal(r.stderr.split("\n").length, 2);
    r = await runCli(["logs", "web"], { env: { ...env(), NAVARCH_TOKEN: "wrong" } });
    assert.equal(r.stderr, "error: unauthenticated: invalid bearer token\n");
  });

  it("ends a follow on Ctrl-C with exit code 0 and cancels the stream", async () => {
    const before = cancelled;
    const child = spawn(process.execPath, [NAVCTL, "logs", "follow", "-f"], { env: { ...process.env, ...env() } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const closed = new Promise<number | null>((r) => child.on("close", r));
    const deadline = Date.now() + 10_000;
    while (!out.includes("waiting\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(out, "waiting\n");
    child.kill("SIGINT");
    assert.equal(await closed, 0);
    assert.equal(err, "");
    const until = Date.now() + 5_000;
    while (cancelled === before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(cancelled, before + 1);
  });
});
