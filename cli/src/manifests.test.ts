import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { decodeManifests, MAX_MANIFEST_BYTES, MAX_MANIFEST_DEPTH, parseManifestText, readManifestTexts } from "./manifests.js";

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

describe("input bounds", () => {
  it("refuses a file over the limit before reading it", async () => {
    const big = path.join(dir, "big.yaml");
    // A sparse file: its size is over the limit, but nothing is written (the check is on the size).
    fs.writeFileSync(big, "");
    fs.truncateSync(big, MAX_MANIFEST_BYTES + 1);
    await assert.rejects(readManifestTexts([big]), (err: Error & { exitCode?: number }) => {
      assert.match(err.message, /big\.yaml: the file \(8388609 bytes\) exceeds the limit of 8 MiB of manifests per run/);
      assert.equal(err.exitCode, 1);
      return true;
    });
  });

  it("refuses files that together go over the limit", async () => {
    const d = path.join(dir, "many");
    fs.mkdirSync(d);
    for (const n of ["a", "b", "c"]) fs.writeFileSync(path.join(d, `${n}.yaml`), cm(n).padEnd(400, "#"));
    assert.equal((await readManifestTexts([d], { maxBytes: 1200 })).length, 3);
    await assert.rejects(readManifestTexts([d], { maxBytes: 1000 }), /c\.yaml: together with the files before it, the input exceeds the limit/);
  });

  it("stops reading stdin past the limit", async () => {
    let produced = 0;
    // An endless stdin: the reader must give up, not read it all.
    async function* endless() {
      for (;;) {
        produced += 64 * 1024;
        yield Buffer.alloc(64 * 1024, 0x61);
      }
    }
    await assert.rejects(readManifestTexts(["-"], { stdin: Readable.from(endless()) }), /STDIN: the input exceeds the limit of 8 MiB/);
    assert.ok(produced <= MAX_MANIFEST_BYTES + 2 * 64 * 1024, `read ${produced} bytes`);
  });

  it("refuses a YAML alias bomb (billion laughs) in one line naming the file", () => {
    let text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]\n`;
    assert.throws(() => parseManifestText({ source: "lol.yaml", text }), (err: Error) => {
      assert.match(err.message, /^lol\.yaml: error parsing YAML: more than 1000 alias expansions/);
      return true;
    });
  });

  it("refuses documents nested too deeply, as YAML and as JSON", () => {
    const depth = MAX_MANIFEST_DEPTH + 1;
    const yaml = "a: " + "[".repeat(depth) + "]".repeat(depth) + "\n";
    assert.throws(() => parseManifestText({ source: "deep.yaml", text: yaml }), (err: Error) => err.message === "deep.yaml: a document nests deeper than 100 levels");
    const json = "[".repeat(depth) + "]".repeat(depth);
    assert.throws(() => parseManifestText({ source: "deep.json", text: json }), /deep\.json: a document nests deeper than 100 levels/);
    // Very deep input does not overflow the stack into an uncaught error.
    const huge = "[".repeat(200_000) + "]".repeat(200_000);
    assert.throws(() => parseManifestText({ source: "huge.yaml", text: "a: " + huge }), /huge\.yaml: /);
    assert.throws(() => parseManifestText({ source: "huge.json", text: huge }), /huge\.json: /);
    // Within the limit is fine.
    const ok = "[".repeat(MAX_MANIFEST_DEPTH - 1) + "]".repeat(MAX_MANIFEST_DEPTH - 1);
    assert.equal(parseManifestText({ source: "ok.json", text: ok }).length, 0);
  });
});
