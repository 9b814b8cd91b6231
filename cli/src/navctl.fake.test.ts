// navctl end to end against an in-memory API server (testing/fake-server.ts): the built CLI as a
// child process, its exit codes, stdout and stderr. The same flows against the real all-in-one are
// in navctl.integration.test.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { KINDS, type KindInfo } from "@navarch/api";
import { writeClientConfig } from "@navarch/config";
import { startFakeServer, type FakeServer } from "./testing/fake-server.js";
import { NAVCTL, runCli } from "./testing/run-cli.js";

let server: FakeServer;
let home: string;
const env = () => ({ NAVARCH_HOME: home });
const navctl = (args: string[], stdin?: string) => runCli(args, { env: env(), stdin });
const write = (name: string, text: string) => {
  const p = path.join(home, name);
  fs.writeFileSync(p, text);
  return p;
};

const CM = (data: Record<string, string>, name = "x") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  labels:\n    app: web\ndata:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join("\n")}\n`;

before(async () => {
  server = await startFakeServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), "navctl-fake-"));
  writeClientConfig({ server: server.address, token: server.token }, path.join(home, "config"));
  server.seed(KINDS.Namespace as unknown as KindInfo, { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } } as never);
});

after(async () => {
  await server.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

describe("apply", () => {
  it("refuses a manifest over 8 MiB before reading it: one line, exit 1, nothing applied", async () => {
    const file = path.join(home, "huge.yaml");
    fs.writeFileSync(file, CM({ a: "1" }, "huge"));
    fs.truncateSync(file, 200 * 1024 * 1024); // sparse: 200 MB of size, nothing written
    const r = await navctl(["apply", "-f", file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: .*huge\.yaml: the file \(209715200 bytes\) exceeds the limit of 8 MiB of manifests per run; split it and apply the parts separately\n$/);
    assert.equal(server.objects.has("ConfigMap/default/huge"), false);
    fs.rmSync(file);
  });

  it("retries a create whose answer was lost with the same idempotency key, and reports it created once", async () => {
    const file = write("lost.yaml", CM({ a: "1" }, "lost"));
    server.createKeys.length = 0;
    server.loseCreateReplies = 2;
    const r = await navctl(["apply", "-f", file]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "configmap/lost created\n");
    assert.equal(server.createKeys.length, 3);
    assert.match(server.createKeys[0]!, /^[0-9a-f-]{36}$/);
    assert.deepEqual(new Set(server.createKeys).size, 1, "every retry carries the first attempt's key");
    // Another apply creating another object uses a new key.
    const other = write("other.yaml", CM({ a: "1" }, "other"));
    assert.equal((await navctl(["apply", "-f", other])).code, 0);
    assert.notEqual(server.createKeys[3], server.createKeys[0]);
    // Later tests count the ConfigMaps.
    server.objects.delete("ConfigMap/default/lost");
    server.objects.delete("ConfigMap/default/other");
  });

  it("creates, then reports unchanged, then configured", async () => {
    const file = write("cm.yaml", CM({ a: "1" }));
    let r = await navctl(["apply", "-f", file]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "configmap/x created\n");
    r = await navctl(["apply", "-f", file]);
    assert.equal(r.stdout, "configmap/x unchanged\n");
    write("cm.yaml", CM({ a: "2" }));
    r = await navctl(["apply", "-f", file]);
    assert.equal(r.stdout, "configmap/x configured\n");
    const stored = server.objects.get("ConfigMap/default/x")!.object as unknown as { data: Record<string, string> };
    assert.deepEqual(stored.data, { a: "2" });
  });

  it("keeps server defaults and reports apps kinds with their group", async () => {
    const file = write(
      "svc.yaml",
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n---\n" +
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n",
    );
    let r = await navctl(["apply", "-f", file]);
    assert.equal(r.stdout, "service/web created\ndeployment.apps/web created\n");
    r = await navctl(["apply", "-f", file]);
    assert.equal(r.stdout, "service/web unchanged\ndeployment.apps/web unchanged\n");
    const svc = server.objects.get("Service/default/web")!.object as unknown as { spec: { clusterIP: string } };
    assert.equal(svc.spec.clusterIP, "10.96.0.10");
  });

  it("reads stdin, multi-document YAML and Lists", async () => {
    const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "l1" } }] });
    const r = await navctl(["apply", "-f", "-"], `${CM({ k: "v" }, "s1")}---\n${CM({ k: "v" }, "s2")}---\n${list}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "configmap/s1 created\nconfigmap/s2 created\nconfigmap/l1 created\n");
  });

  it("refuses a file with an unknown field and applies nothing from it", async () => {
    const file = write("bad.yaml", `${CM({ a: "1" }, "good")}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\nspec:\n  x: 1\n`);
    const r = await navctl(["apply", "-f", file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `error: ${file}: ConfigMap/bad: spec: unknown field "spec"\n`);
    assert.equal(server.objects.has("ConfigMap/default/good"), false);
  });

  it("refuses a manifest whose namespace differs from an explicit -n", async () => {
    const file = write("ns.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other-cm, namespace: other}\n");
    const r = await navctl(["apply", "-f", file, "-n", "default"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.ok(
      r.stderr.startsWith(`error: ${file}: ConfigMap/other-cm: metadata.namespace: the namespace from the provided object "other" does not match the namespace "default"`),
      r.stderr,
    );
  });

  it("reports a lasting conflict and a permission refusal per object, with file and Kind/name, applies the rest, exits 1", async () => {
    const dir = path.join(home, "refused");
    fs.mkdirSync(dir);
    const conflicted = path.join(dir, "a.yaml");
    fs.writeFileSync(conflicted, CM({ a: "changed" }));
    const forbidden = path.join(dir, "b.yaml");
    fs.writeFileSync(forbidden, "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {k: v}\n");
    fs.writeFileSync(path.join(dir, "c.yaml"), CM({ k: "v" }, "fine"));
    server.refuse = (method, info) => {
      if (method === "update" && info.kind === "ConfigMap") return { code: grpc.status.ABORTED, details: "the object has been modified; please apply your changes to the latest version and try again" };
      if (info.kind === "Secret") return { code: grpc.status.PERMISSION_DENIED, details: 'secrets is forbidden: User "dev" cannot create resource "secrets" in namespace "default"' };
      return undefined;
    };
    try {
      const r = await navctl(["apply", "-f", dir]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "configmap/fine created\n");
      assert.equal(
        r.stderr,
        `error: ${conflicted}: ConfigMap/x: metadata.resourceVersion: Operation cannot be fulfilled on configmaps "x": the object has been modified; please apply your changes to the latest version and try again\n` +
          `error: ${forbidden}: Secret/creds: forbidden: secrets is forbidden: User "dev" cannot create resource "secrets" in namespace "default"\n`,
      );
    } finally {
      server.refuse = undefined;
      server.objects.delete("ConfigMap/default/fine");
    }
  });
});

describe("get", () => {
  it("prints a kubectl table", async () => {
    const r = await navctl(["get", "cm"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME {3,}DATA {3}AGE$/);
    assert.ok(lines.some((l) => /^x {3,}1 {6}\d+s$/.test(l)), r.stdout);
    assert.ok(lines.every((l) => l === l.trimEnd()));
  });

  it("round-trips -o yaml and prints one object or a List for -o json", async () => {
    let r = await navctl(["get", "cm", "x", "-o", "yaml"]);
    assert.match(r.stdout, /^apiVersion: v1\ndata:\n {2}a: "2"\nkind: ConfigMap\nmetadata:\n/);
    r = await navctl(["get", "configmap/x", "-o", "json"]);
    const one = JSON.parse(r.stdout);
    assert.equal(one.kind, "ConfigMap");
    assert.deepEqual(one.data, { a: "2" });
    r = await navctl(["get", "cm", "-o", "json"]);
    const list = JSON.parse(r.stdout);
    assert.equal(list.kind, "List");
    assert.equal(list.apiVersion, "v1");
    assert.ok(list.items.length >= 4);
  });

  it("prints names, kind prefixes for several kinds and NAMESPACE with -A", async () => {
    let r = await navctl(["get", "cm", "-l", "app=web", "-o", "name"]);
    assert.equal(r.stdout, "configmap/s1\nconfigmap/s2\nconfigmap/x\n");
    r = await navctl(["get", "svc,deploy"]);
    assert.match(r.stdout, /^NAME {3,}TYPE {3,}CLUSTER-IP {3,}EXTERNAL-IP {3}PORT\(S\) {3}AGE\nservice\/web {3,}ClusterIP {3}10\.96\.0\.10 {3}<none> {8}80\/TCP {4}\d+s\n\nNAME {3,}READY/);
    assert.match(r.stdout, /deployment\.apps\/web {3,}0\/2 /);
    r = await navctl(["get", "cm", "-A"]);
    assert.match(r.stdout, /^NAMESPACE {3}NAME {3,}DATA {3}AGE\ndefault {5}l1 /);
  });

  it("pages through the whole list with --chunk-size", async () => {
    const before = server.listCalls;
    const r = await navctl(["get", "cm", "--chunk-size", "1", "-o", "name"]);
    assert.equal(r.stdout.trim().split("\n").length, 4);
    assert.equal(server.listCalls - before, 4);
  });

  it("says when nothing is found", async () => {
    const r = await navctl(["get", "pods"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "No resources found in default namespace.\n");
    const r2 = await navctl(["get", "nodes"]);
    assert.equal(r2.stderr, "No resources found\n");
  });

  it("fails on a missing object as kubectl words it", async () => {
    const r = await navctl(["get", "cm", "nope"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: configmaps "nope" not found\n');
    const r2 = await navctl(["get", "deploy", "nope"]);
    assert.equal(r2.stderr, 'error: deployments.apps "nope" not found\n');
  });

  it("watches: the table, then a row per change, until SIGINT", async () => {
    const child = spawn(process.execPath, [NAVCTL, "get", "cm", "x", "-w"], { env: { ...process.env, ...env() } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const waitFor = async (pred: () => boolean) => {
      for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(pred(), out);
    };
    await waitFor(() => out.split("\n").length >= 3);
    const file = write("cm.yaml", CM({ a: "3", b: "4" }));
    const r = await navctl(["apply", "-f", file]);
    assert.equal(r.stdout, "configmap/x configured\n");
    await waitFor(() => /\nx +2 +\d+s\n$/.test(out));
    const code = await new Promise<number | null>((resolve) => {
      child.on("close", resolve);
      child.kill("SIGINT");
    });
    assert.equal(code, 0);
    const lines = out.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME +DATA +AGE$/);
    assert.equal(lines.length, 3);
  });
});

describe("describe", () => {
  it("shows metadata, data and the object's events", async () => {
    const cm = server.objects.get("ConfigMap/default/x")!.object;
    const ts = new Date(Date.now() - 90_000).toISOString();
    server.seed(KINDS.Event as unknown as KindInfo, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "x.1", namespace: "default" },
      involvedObject: { kind: "ConfigMap", name: "x", namespace: "default", uid: cm.metadata!.uid },
      reason: "Synced",
      message: "config synced",
      type: "Normal",
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
      source: { component: "tester" },
    } as never);
    server.seed(KINDS.Event as unknown as KindInfo, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "other.1", namespace: "default" },
      involvedObject: { kind: "ConfigMap", name: "s1", namespace: "default" },
      reason: "Other",
      message: "not about x",
      type: "Normal",
    } as never);
    const r = await navctl(["describe", "cm", "x"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Name: {15}x\nNamespace: {10}default\nLabels: {13}app=web\nAnnotations: {8}<none>\nCreationTimestamp: {2}\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\n/);
    assert.match(r.stdout, /\nData\n====\na:\n----\n3\n\nb:\n----\n4\n/);
    assert.match(r.stdout, /\n\nBinaryData\n====\n\nEvents:\n {2}Type {4}Reason {2}Age {3}From {4}Message\n {2}---- {4}------ {2}---- {2}---- {4}-------\n {2}Normal {2}Synced {2}9\ds {3}tester {2}config synced\n$/);
    assert.doesNotMatch(r.stdout, /not about x/);
  });

  it("says <none> when there are no events", async () => {
    const r = await navctl(["describe", "ns", "default"]);
    assert.match(r.stdout, /Status: +Active\n\nEvents: +<none>\n$/);
  });
});

describe("delete", () => {
  it("deletes by name, then get fails with not found", async () => {
    let r = await navctl(["delete", "cm", "x"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'configmap "x" deleted\n');
    r = await navctl(["get", "cm", "x"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: configmaps "x" not found\n');
    r = await navctl(["delete", "cm", "x"]);
    assert.equal(r.code, 1);
    r = await navctl(["delete", "cm", "x", "--ignore-not-found"]);
    assert.equal(r.code, 0);
  });

  it("deletes by selector, by file and --all", async () => {
    let r = await navctl(["delete", "cm", "-l", "app=web"]);
    assert.equal(r.stdout, 'configmap "s1" deleted\nconfigmap "s2" deleted\n');
    r = await navctl(["delete", "-f", path.join(home, "svc.yaml"), "--cascade=foreground"]);
    assert.equal(r.stdout, 'service "web" deleted\ndeployment.apps "web" deleted\n');
    r = await navctl(["delete", "cm", "--all"]);
    assert.equal(r.stdout, 'configmap "l1" deleted\n');
    r = await navctl(["delete", "cm"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: resource(s) were provided, but no name was specified\n");
  });
});

describe("discovery and errors", () => {
  it("lists api-resources", async () => {
    const r = await navctl(["api-resources"]);
    assert.match(r.stdout, /^NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND\n/);
    assert.match(r.stdout, /\nconfigmaps +cm +v1 +true +ConfigMap\n/);
    assert.match(r.stdout, /\ndeployments +deploy +apps\/v1 +true +Deployment\n/);
  });

  it("prints versions and the caller's identity", async () => {
    let r = await navctl(["version"]);
    assert.match(r.stdout, /^Client Version: \S+\nServer Version: v0\.1\.0-fake\n/);
    assert.match(r.stdout, /\nCluster ID: 5b0e8c1e-3f0a-4d7e-9a51-2c6f1d9e7b42\n$/, "the cluster's id, as its containers' navarch.cluster label has it");
    r = await navctl(["whoami"]);
    assert.equal(r.stdout, "ATTRIBUTE   VALUE\nUsername    admin\nGroups      [system:masters system:authenticated]\n");
  });

  it("redacts the token in config view", async () => {
    const r = await navctl(["config", "view"]);
    assert.match(r.stdout, /token: REDACTED/);
    assert.doesNotMatch(r.stdout, new RegExp(server.token));
  });

  it("reports a wrong token, an unreachable server and an unknown kind in one line", async () => {
    let r = await navctl(["get", "cm", "--token", "wrong"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: unauthenticated: invalid or missing token\n");
    r = await runCli(["get", "cm"], { env: { ...env(), NAVARCH_TOKEN: "wrong" } });
    assert.equal(r.stderr, "error: unauthenticated: invalid or missing token\n");
    r = await runCli(["get", "cm", "--token", server.token], { env: { ...env(), NAVARCH_TOKEN: "wrong" } });
    assert.equal(r.code, 0, r.stderr);
    r = await navctl(["get", "cm", "--server", "127.0.0.1:1"]);
    assert.equal(r.stderr, "error: the server at 127.0.0.1:1 is not reachable\n");
    r = await navctl(["get", "foo"]);
    assert.equal(r.stderr, 'error: the server doesn\'t have a resource type "foo"\n');
    r = await navctl(["get", "cm", "--bogus"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: unknown option '--bogus'\n");
  });

  it("explains a missing client config", async () => {
    const r = await runCli(["get", "cm"], { env: { NAVARCH_HOME: path.join(home, "nowhere") } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: no client config at ${path.join(home, "nowhere", "config")}: start a cluster with \`npm start\` or pass --server and --token\n`);
  });
});
