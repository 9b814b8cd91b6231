import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { decodeManifests, parseManifestText, readManifestTexts } from "./manifests.js";

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "navctl-manifests-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;

describe("parseManifestText", () => {
  it("splits multi-document YAML and skips empty documents", () => {
    const docs = parseManifestText({ source: "f.yaml", text: `---\n${cm("a")}---\n# only a comment\n---\n${cm("b")}` });
    assert.deepEqual(
      docs.map((d) => (d as { metadata: { name: string } }).metadata.name),
      ["a", "b"],
    );
  });

  it("reads JSON, JSON arrays and expands kind: List", () => {
    const one = parseManifestText({ source: "f.json", text: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "j" } }) });
    assert.equal(one.length, 1);
    const list = parseManifestText({
      source: "l.json",
      text: JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ kind: "ConfigMap", metadata: { name: "a" } }, { kind: "ConfigMapList", items: [{ kind: "ConfigMap", metadata: { name: "b" } }] }] }),
    });
    assert.deepEqual(
      list.map((d) => (d as { metadata: { name: string } }).metadata.name),
      ["a", "b"],
    );
  });

  it("reads YAML as kubectl does: 1.1 octal, timestamps as strings", () => {
    const [doc] = parseManifestText({ source: "f.yaml", text: "a: 0644\nb: 2024-01-01T00:00:00Z\nc: '0644'\n" }) as [Record<string, unknown>];
    assert.equal(doc.a, 0o644);
    assert.equal(doc.b, "2024-01-01T00:00:00Z");
    assert.equal(doc.c, "0644");
  });

  it("reports a YAML syntax error with the file name, in one line", () => {
    assert.throws(() => parseManifestText({ source: "bad.yaml", text: "a: [1, 2\nb: c\n" }), (err: Error) => {
      assert.match(err.message, /^bad\.yaml: error parsing YAML: /);
      assert.equal(err.message.includes("\n"), false);
      return true;
    });
  });
});

describe("readManifestTexts", () => {
  it("reads a directory's yaml, yml and json files in name order", async () => {
    const d = path.join(dir, "d");
    fs.mkdirSync(path.join(d, "sub"), { recursive: true });
    fs.writeFileSync(path.join(d, "b.yml"), cm("b"));
    fs.writeFileSync(path.join(d, "a.yaml"), cm("a"));
    fs.writeFileSync(path.join(d, "c.json"), "{}");
    fs.writeFileSync(path.join(d, "README.md"), "not a manifest");
    fs.writeFileSync(path.join(d, "sub", "s.yaml"), cm("s"));
    const texts = await readManifestTexts([d]);
    assert.deepEqual(texts.map((t) => path.basename(t.source)), ["a.yaml", "b.yml", "c.json"]);
    const deep = await readManifestTexts([d], { recursive: true });
    assert.deepEqual(deep.map((t) => path.basename(t.source)), ["a.yaml", "b.yml", "c.json", "s.yaml"]);
  });

  it("reads stdin for -", async () => {
    const texts = await readManifestTexts(["-"], { stdin: Readable.from([Buffer.from(cm("in"))]) });
    assert.deepEqual(texts, [{ source: "STDIN", text: cm("in") }]);
  });

  it("fails on a missing path", async () => {
    await assert.rejects(readManifestTexts([path.join(dir, "missing.yaml")]), /the path ".*missing\.yaml" does not exist/);
  });
});

describe("decodeManifests", () => {
  it("decodes every document into typed objects", () => {
    const { objects, errors } = decodeManifests([{ source: "f.yaml", text: `${cm("a")}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n` }]);
    assert.deepEqual(errors, []);
    assert.deepEqual(objects.map((o) => `${o.info.kind}/${o.object.metadata!.name}`), ["ConfigMap/a", "Deployment/web"]);
  });

  it("drops a whole file when one document is invalid, naming file, object and field", () => {
    const { objects, errors } = decodeManifests([
      { source: "bad.yaml", text: `${cm("ok")}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  x: 1\n` },
      { source: "good.yaml", text: cm("good") },
    ]);
    assert.deepEqual(errors, ['bad.yaml: Deployment/web: spec.x: unknown field "x"']);
    assert.deepEqual(objects.map((o) => o.object.metadata!.name), ["good"]);
  });

  it("requires a name and a known kind", () => {
    const { errors } = decodeManifests([
      { source: "f.yaml", text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\napiVersion: v1\nkind: Widget\nmetadata: {name: w}\n" },
    ]);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /^f\.yaml: ConfigMap\/<no name>: metadata\.name: required/);
    assert.match(errors[1]!, /^f\.yaml: Widget\/w: kind: unsupported kind "Widget"/);
  });

  it("gives one message per bad field of a document", () => {
    const { errors } = decodeManifests([{ source: "bad.yaml", text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata:\n  a: 1\nspec:\n  x: 1\n' }]);
    assert.equal(errors.length, 2, errors.join("\n"));
    assert.match(errors[0]!, /^bad\.yaml: ConfigMap\/bad: data\["a"\]: /);
    assert.equal(errors[1], 'bad.yaml: ConfigMap/bad: spec: unknown field "spec"');
  });
});
