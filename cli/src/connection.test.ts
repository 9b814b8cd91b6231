import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { KINDS, type KindInfo } from "@navarch/api";
import { writeClientConfig } from "@navarch/config";
import { grpcErrorMessage, resolveSettings } from "./connection.js";

const cm = KINDS.ConfigMap as unknown as KindInfo;
const deploy = KINDS.Deployment as unknown as KindInfo;
const server = "127.0.0.1:7443";

describe("grpcErrorMessage", () => {
  const table: [string, { code: number; details: string }, Parameters<typeof grpcErrorMessage>[1], string][] = [
    ["NOT_FOUND of a named object", { code: grpc.status.NOT_FOUND, details: "key not found" }, { server, info: cm, name: "x", namesExisting: true }, 'configmaps "x" not found'],
    ["NOT_FOUND in a group", { code: grpc.status.NOT_FOUND, details: "" }, { server, info: deploy, name: "web", namesExisting: true }, 'deployments.apps "web" not found'],
    ["NOT_FOUND on create (namespace)", { code: grpc.status.NOT_FOUND, details: 'namespaces "nope" not found' }, { server, info: cm, name: "x" }, 'namespaces "nope" not found'],
    ["ALREADY_EXISTS", { code: grpc.status.ALREADY_EXISTS, details: "exists" }, { server, info: cm, name: "x" }, 'configmaps "x" already exists'],
    ["INVALID_ARGUMENT verbatim", { code: grpc.status.INVALID_ARGUMENT, details: 'metadata.name: must be a DNS-1123 subdomain' }, { server, info: cm, name: "X" }, "metadata.name: must be a DNS-1123 subdomain"],
    ["UNAUTHENTICATED", { code: grpc.status.UNAUTHENTICATED, details: "invalid or missing token" }, { server }, "unauthenticated: invalid or missing token"],
    ["UNAUTHENTICATED without details", { code: grpc.status.UNAUTHENTICATED, details: "" }, { server }, "unauthenticated: invalid or missing token"],
    ["PERMISSION_DENIED", { code: grpc.status.PERMISSION_DENIED, details: "user x cannot delete nodes" }, { server }, "forbidden: user x cannot delete nodes"],
    [
      "UNAVAILABLE (refused)",
      { code: grpc.status.UNAVAILABLE, details: "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7443" },
      { server },
      "the server at 127.0.0.1:7443 is not reachable",
    ],
    ["UNAVAILABLE (server-side)", { code: grpc.status.UNAVAILABLE, details: "NATS is not connected" }, { server }, "the server at 127.0.0.1:7443 is unavailable: NATS is not connected"],
    ["DEADLINE_EXCEEDED", { code: grpc.status.DEADLINE_EXCEEDED, details: "Deadline exceeded" }, { server }, "the server at 127.0.0.1:7443 did not answer within 10s"],
    [
      "ABORTED",
      { code: grpc.status.ABORTED, details: "resourceVersion 3 is stale" },
      { server, info: cm, name: "x", namesExisting: true },
      'Operation cannot be fulfilled on configmaps "x": resourceVersion 3 is stale',
    ],
    ["FAILED_PRECONDITION", { code: grpc.status.FAILED_PRECONDITION, details: 'namespace "a" is terminating' }, { server }, 'namespace "a" is terminating'],
    ["multi-line details keep one line", { code: grpc.status.INTERNAL, details: "boom\n at x" }, { server }, "internal error on the server: boom"],
  ];
  for (const [name, err, ctx, want] of table) {
    it(name, () => assert.equal(grpcErrorMessage(err, ctx), want));
  }
});

describe("resolveSettings", () => {
  let home: string;
  before(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "navctl-settings-"));
    writeClientConfig({ server: "file:1", token: "file-token", namespace: "team" }, path.join(home, "config"));
  });
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  it("reads the config file under NAVARCH_HOME", () => {
    const s = resolveSettings({}, { NAVARCH_HOME: home });
    assert.deepEqual(s, { server: "file:1", token: "file-token", namespace: "team", namespaceExplicit: false, configPath: path.join(home, "config") });
  });
  it("env overrides the file, flags override env", () => {
    const env = { NAVARCH_HOME: home, NAVARCH_SERVER: "env:2", NAVARCH_TOKEN: "env-token" };
    assert.equal(resolveSettings({}, env).server, "env:2");
    assert.equal(resolveSettings({}, env).token, "env-token");
    const s = resolveSettings({ server: "flag:3", token: "flag-token", namespace: "ns" }, env);
    assert.deepEqual([s.server, s.token, s.namespace, s.namespaceExplicit], ["flag:3", "flag-token", "ns", true]);
  });
  it("needs no file when server and token are given", () => {
    const s = resolveSettings({ server: "a:1", token: "t" }, { NAVARCH_HOME: path.join(home, "none") });
    assert.equal(s.namespace, "default");
  });
  it("explains a missing file", () => {
    assert.throws(
      () => resolveSettings({}, { NAVARCH_HOME: path.join(home, "none") }),
      new RegExp(`^CliError: no client config at ${path.join(home, "none", "config")}: start a cluster with \`npm start\` or pass --server and --token$`.replace(/\//g, "\\/")),
    );
  });
  it("takes --config", () => {
    const other = path.join(home, "other.yaml");
    writeClientConfig({ server: "other:1", token: "o" }, other);
    assert.equal(resolveSettings({ config: other }, {}).server, "other:1");
  });
});
