// libs/config's client config, tested here beside its only reader.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { clientConfigPath, readClientConfig, writeClientConfig } from "@navarch/config";

describe("client config", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "navctl-config-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lives at <home>/config", () => {
    assert.equal(clientConfigPath("/x/y"), "/x/y/config");
  });

  it("writes YAML readable only by its owner, creating the directory, and reads it back", () => {
    const file = path.join(dir, "a", "b", "config");
    writeClientConfig({ server: "127.0.0.1:7443", token: "secret", namespace: "dev" }, file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(file, "utf8"), "apiVersion: navarch.dev/v1\nkind: Config\nserver: 127.0.0.1:7443\ntoken: secret\nnamespace: dev\n");
    assert.deepEqual(readClientConfig(file), { server: "127.0.0.1:7443", token: "secret", namespace: "dev" });
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["config"], "no temp file left behind");
  });

  it("replaces an existing file atomically", () => {
    const file = path.join(dir, "config");
    writeClientConfig({ server: "a:1", token: "t1" }, file);
    fs.chmodSync(file, 0o644);
    writeClientConfig({ server: "b:2", token: "t2" }, file);
    assert.deepEqual(readClientConfig(file), { server: "b:2", token: "t2" });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  it("explains what is missing or wrong", () => {
    assert.throws(() => readClientConfig(path.join(dir, "nope")), /^Error: no client config at .*nope: start a cluster with `npm start` or pass --server and --token$/);
    const bad = path.join(dir, "bad");
    fs.writeFileSync(bad, "apiVersion: navarch.dev/v1\nkind: Config\nserver: a:1\n");
    assert.throws(() => readClientConfig(bad), /invalid client config .*bad: token: required/);
    fs.writeFileSync(bad, "kind: Other\nserver: a:1\ntoken: t\n");
    assert.throws(() => readClientConfig(bad), /kind must be "Config"/);
  });
});
