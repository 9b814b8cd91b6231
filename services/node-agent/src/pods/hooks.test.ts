// What a container's lifecycle hooks turn into, and how one hook run ends: exec through a stub
// runtime, httpGet against a server on 127.0.0.1.
import { KINDS, type Container, type Pod } from "@navarch/api";
import { ExecTimeoutError } from "@navarch/runtime";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import type { ProbeRuntime } from "../probes/prober.js";
import { containerHooks, hookAction, hookFailureMessage, runHook } from "./hooks.js";

const pod = (over: Record<string, unknown> = {}): Pod =>
  KINDS.Pod.codec.fromPartial({ metadata: { name: "web", namespace: "default" }, spec: { containers: [], ...over } });
const container = (lifecycle: Record<string, unknown> | undefined): Container =>
  KINDS.Pod.codec.fromPartial({ spec: { containers: [{ name: "app", image: "demo:1", ports: [{ name: "http", containerPort: 8080 }], lifecycle }] } }).spec!.containers[0]!;

describe("hook specs", () => {
  test("no lifecycle, or one without hooks: none", () => {
    assert.equal(containerHooks(container(undefined), pod()), undefined);
    assert.equal(containerHooks(container({}), pod()), undefined);
  });

  test("exec and httpGet (named port, empty port 80, path made absolute); the pod's grace for a postStart kill", () => {
    const hooks = containerHooks(
      container({ postStart: { httpGet: { port: "http", path: "warm", scheme: "HTTPS", httpHeaders: [{ name: "X-A", value: "1" }] } }, preStop: { exec: { command: ["sleep", "2"] } } }),
      pod({ terminationGracePeriodSeconds: 12 }),
    );
    assert.deepEqual(hooks, {
      postStart: { type: "http", scheme: "https", host: "", port: 8080, path: "/warm", headers: [["X-A", "1"]] },
      preStop: { type: "exec", command: ["sleep", "2"] },
      killGraceSeconds: 12,
    });
    const c = container(undefined);
    assert.deepEqual(hookAction(KINDS.Pod.codec.fromPartial({ spec: { containers: [{ lifecycle: { preStop: { httpGet: { port: "" } } } }] } }).spec!.containers[0]!.lifecycle!.preStop!, c), {
      type: "http",
      scheme: "http",
      host: "",
      port: 80,
      path: "/",
      headers: [],
    });
    assert.equal(containerHooks(container({ preStop: { exec: { command: ["true"] } } }), pod())!.killGraceSeconds, 30, "Kubernetes' default grace");
  });

  test("tcpSocket and unknown port names cannot run (as in Kubernetes: the hook fails)", () => {
    const hooks = containerHooks(container({ postStart: { tcpSocket: { port: "80" } }, preStop: { httpGet: { port: "metrics" } } }), pod())!;
    assert.deepEqual(hooks.postStart, { type: "invalid", message: "invalid handler: TCPSocket is not supported as a lifecycle handler" });
    assert.deepEqual(hooks.preStop, { type: "invalid", message: 'port "metrics" is not a port of container app' });
  });
});

describe("running a hook", () => {
  const target = { containerId: "c1", podIP: "127.0.0.1" };
  const runtime = (exec: ProbeRuntime["exec"]): ProbeRuntime => ({ exec });

  test("exec: exit 0 is a success; another code fails with the output", async () => {
    const seen: unknown[] = [];
    const ok = await runHook(runtime(async (id, cmd, timeout) => (seen.push([id, cmd, timeout]), { exitCode: 0, output: "" })), { type: "exec", command: ["sleep", "2"] }, target, 5_000);
    assert.deepEqual(ok, { ok: true });
    assert.deepEqual(seen, [["c1", ["sleep", "2"], 5_000]]);
    const bad = await runHook(runtime(async () => ({ exitCode: 3, output: "no such file\n" })), { type: "exec", command: ["sh", "-c", "cat /x"] }, target, 5_000);
    assert.deepEqual(bad, { ok: false, error: `error: command 'sh -c cat /x' exited with 3: , message: "no such file"` });
    assert.equal(
      hookFailureMessage({ type: "exec", command: ["sh", "-c", "cat /x"] }, "app", "web_default(u1)", bad.ok ? "" : bad.error),
      `Exec lifecycle hook ([sh -c cat /x]) for Container "app" in Pod "web_default(u1)" failed - error: command 'sh -c cat /x' exited with 3: , message: "no such file"`,
    );
  });

  test("exec: a runtime error or timeout is a failure, never a rejection", async () => {
    const timedOut = await runHook(runtime(async () => Promise.reject(new ExecTimeoutError("slow"))), { type: "exec", command: ["sleep", "99"] }, target, 10);
    assert.deepEqual(timedOut, { ok: false, error: `error: command 'sleep 99' timed out, message: ""` });
    const gone = await runHook(runtime(async () => Promise.reject(new Error("No such container: c1"))), { type: "exec", command: ["true"] }, target, 10);
    assert.deepEqual(gone, { ok: false, error: `error: No such container: c1, message: ""` });
  });

  test("httpGet: the prober's request to the pod IP; 2xx/3xx succeed, others and refusals fail", async () => {
    const paths: string[] = [];
    const server = http.createServer((req, res) => {
      paths.push(req.url!);
      res.statusCode = req.url === "/fail" ? 500 : 204;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const action = (path: string) => ({ type: "http" as const, scheme: "http" as const, host: "", port, path, headers: [] as [string, string][] });
      const none = runtime(async () => assert.fail("no exec for an http hook"));
      assert.deepEqual(await runHook(none, action("/drain"), target, 2_000), { ok: true });
      const failed = await runHook(none, action("/fail"), target, 2_000);
      assert.deepEqual(failed, { ok: false, error: "error: HTTP probe failed with statuscode: 500" });
      assert.deepEqual(paths, ["/drain", "/fail"]);
      assert.equal(
        hookFailureMessage(action("/fail"), "app", "web_default(u1)", failed.ok ? "" : failed.error),
        `HTTP lifecycle hook (/fail) for Container "app" in Pod "web_default(u1)" failed - error: HTTP probe failed with statuscode: 500`,
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
    const refused = await runHook(runtime(async () => ({ exitCode: 0, output: "" })), { type: "http", scheme: "http", host: "", port, path: "/", headers: [] }, target, 2_000);
    assert.equal(refused.ok, false);
  });

  test("tcpSocket and invalid hooks fail without running anything", async () => {
    const none = runtime(async () => assert.fail("nothing runs"));
    const out = await runHook(none, { type: "invalid", message: "invalid handler: TCPSocket is not supported as a lifecycle handler" }, target, 1_000);
    assert.deepEqual(out, { ok: false, error: "invalid handler: TCPSocket is not supported as a lifecycle handler" });
    assert.equal(
      hookFailureMessage({ type: "invalid", message: "" }, "app", "p", out.ok ? "" : out.error),
      "Cannot run handler: invalid handler: TCPSocket is not supported as a lifecycle handler",
    );
  });
});

describe("sleep hooks", () => {
  test("a sleep preStop waits its seconds, cut short by the hook's time limit", async () => {
    const action = containerHooks(container({ preStop: { sleep: { seconds: 5 } } }), pod())!.preStop!;
    assert.deepEqual(action, { type: "sleep", seconds: 5 });
    const runtime = {} as ProbeRuntime;
    const t0 = Date.now();
    assert.deepEqual(await runHook(runtime, action, { containerId: "c1", podIP: "127.0.0.1" } as never, 150), { ok: true });
    const took = Date.now() - t0;
    assert.ok(took >= 140 && took < 4_000, `waited ${took} ms: until the limit, not the 5 s`);
    const short = Date.now();
    assert.deepEqual(await runHook(runtime, { type: "sleep", seconds: 0 }, { containerId: "c1", podIP: "127.0.0.1" } as never, 10_000), { ok: true });
    assert.ok(Date.now() - short < 1_000);
  });
});
