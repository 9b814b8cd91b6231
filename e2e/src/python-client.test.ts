// proto/ is the API contract for every language, not just our TypeScript: a Python client
// generated from it with grpcio-tools lists namespaces with the token and is refused without one.
import assert from "node:assert/strict";
import { copyFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cleanup, ROOT, run, startLocalCluster, tempHome, type LocalCluster } from "./cluster.js";

after(cleanup);

const PROGRAM = path.join(ROOT, "e2e", "python", "list_namespaces.py");

const probe = await run("python3", ["-c", "import grpc_tools, grpc"]).catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
const skip = probe.code === 0 ? false : `python3 with grpcio-tools is not available (CI installs grpcio-tools): ${probe.stderr.trim().split("\n").pop()}`;

describe("a Python client generated from proto/", { skip }, () => {
  let cluster: LocalCluster;
  let dir: string;

  const python = (...args: string[]) => run("python3", [path.join(dir, "list_namespaces.py"), cluster.apiAddr, ...args], { env: { PYTHONPATH: dir }, cwd: dir });

  before(async () => {
    dir = tempHome();
    const protos = readdirSync(path.join(ROOT, "proto"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".proto"))
      .map((f) => path.join("proto", f));
    assert.ok(protos.length > 0, "no .proto files under proto/");
    // Generate everything at once: the files import each other (navarch/meta/v1/meta.proto, ...).
    const gen = await run("python3", ["-m", "grpc_tools.protoc", "-I", "proto", `--python_out=${dir}`, `--grpc_python_out=${dir}`, ...protos], { cwd: ROOT, timeoutMs: 60_000 });
    assert.equal(gen.code, 0, `protoc failed:\n${gen.stderr}`);
    copyFileSync(PROGRAM, path.join(dir, "list_namespaces.py"));
    cluster = await startLocalCluster();
  });

  after(async () => {
    await cluster?.stop();
  });

  it("lists default and navarch-system with the token", async () => {
    const r = await python(cluster.token);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const names = r.stdout.trim().split("\n");
    assert.ok(names.includes("default"), r.stdout);
    assert.ok(names.includes("navarch-system"), r.stdout);
  });

  it("is refused with UNAUTHENTICATED without a token", async () => {
    const r = await python();
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout.trim(), "UNAUTHENTICATED");
  });
});
