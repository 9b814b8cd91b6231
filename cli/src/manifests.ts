// Reading manifests as kubectl does for `-f`: files, directories (their *.yaml, *.yml and *.json,
// in name order) and "-" for stdin; multi-document YAML, JSON, and `kind: List` with items. YAML is
// read as YAML 1.1 like kubectl's parser (so `defaultMode: 0644` is octal), timestamps kept as text.
import fs from "node:fs";
import path from "node:path";
import { decodeManifest, formatFieldErrors, InvalidError, type KindInfo, type KubeObject } from "@navarch/api";
import YAML from "yaml";
import { CliError } from "./errors.js";

export interface ManifestText {
  /** The file name as given, or "STDIN". */
  source: string;
  text: string;
}

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/**
 * Input bounds, checked before anything is parsed: a 200 MB manifest once grew navctl to 3.9 GB.
 * The largest object the API accepts is 1 MB (NAVARCH_MAX_OBJECT_BYTES), so 8 MiB of manifests in
 * one run is already several full-size objects; more is refused, not read.
 */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/** Aliases a YAML document may resolve (weighted by the aliases inside each anchor: billion laughs). */
export const MAX_YAML_ALIAS_COUNT = 1000;
/** Nesting of arrays and objects in one document; Kubernetes objects stay far below it. */
export const MAX_MANIFEST_DEPTH = 100;

const MIB = 1024 * 1024;

function tooLarge(source: string, limit: number, what: string): CliError {
  const mib = (n: number) => `${Math.round((n / MIB) * 10) / 10} MiB`;
  return new CliError(`${source}: ${what} exceeds the limit of ${mib(limit)} of manifests per run; split it and apply the parts separately`);
}

/** Reads a stream up to `budget` bytes; past it, stops reading and fails. */
async function readStream(stream: NodeJS.ReadableStream, budget: number, limit: number, source = "STDIN"): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > budget) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw tooLarge(source, limit, budget < limit ? "together with the files before it, the input" : "the input");
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function listDir(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...listDir(full, recursive));
    } else if (MANIFEST_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
      out.push(full);
    }
  }
  return out;
}

/**
 * Reads every `-f` argument; "-" reads `stdin` (once). All of it together may be at most
 * `maxBytes` (MAX_MANIFEST_BYTES): a file's size is checked before it is read, stdin while it is.
 */
export async function readManifestTexts(
  paths: string[],
  opts: { stdin?: NodeJS.ReadableStream; recursive?: boolean; maxBytes?: number } = {},
): Promise<ManifestText[]> {
  if (paths.length === 0) throw new CliError("must specify -f FILENAME");
  const out: ManifestText[] = [];
  const limit = opts.maxBytes ?? MAX_MANIFEST_BYTES;
  let budget = limit;
  const readFile = async (f: string): Promise<void> => {
    const stat = fs.statSync(f);
    if (!stat.isFile()) {
      // A pipe or device (`-f /dev/stdin`, `-f <(...)`) has no size up front: bound it while reading.
      const text = await readStream(fs.createReadStream(f), budget, limit, f);
      budget -= Buffer.byteLength(text);
      out.push({ source: f, text });
      return;
    }
    const size = stat.size;
    if (size > budget) {
      throw tooLarge(f, limit, budget < limit ? "together with the files before it, the input" : `the file (${size} bytes)`);
    }
    budget -= size;
    out.push({ source: f, text: fs.readFileSync(f, "utf8") });
  };
  let stdinRead = false;
  for (const p of paths) {
    if (p === "-") {
      if (stdinRead) continue;
      stdinRead = true;
      const text = await readStream(opts.stdin ?? process.stdin, budget, limit);
      budget -= Buffer.byteLength(text);
      out.push({ source: "STDIN", text });
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new CliError(`the path "${p}" does not exist`);
    }
    if (stat.isDirectory()) {
      const files = listDir(p, opts.recursive ?? false);
      for (const f of files) await readFile(f);
    } else {
      await readFile(p);
    }
  }
  return out;
}

const YAML_OPTIONS = {
  version: "1.1" as const,
  merge: true,
  // Timestamps stay strings, as in Kubernetes JSON.
  customTags: (tags: YAML.Tags) => tags.filter((t) => (t as { tag?: string }).tag !== "tag:yaml.org,2002:timestamp"),
};

function expandLists(value: unknown, out: unknown[]): void {
  if (Array.isArray(value)) {
    for (const v of value) expandLists(v, out);
    return;
  }
  if (value === null || value === undefined) return;
  const v = value as Record<string, unknown>;
  if (typeof v === "object" && typeof v.kind === "string" && v.kind.endsWith("List") && Array.isArray(v.items)) {
    for (const item of v.items) expandLists(item, out);
    return;
  }
  out.push(value);
}

/** Fails when `value` nests arrays/objects deeper than MAX_MANIFEST_DEPTH (walked without recursion). */
function checkDepth(source: string, value: unknown): void {
  const stack: [unknown, number][] = [[value, 1]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object" || seen.has(v)) continue;
    // Aliases share one object: walking it once keeps this linear in the document's size.
    seen.add(v);
    if (depth > MAX_MANIFEST_DEPTH) throw new CliError(`${source}: a document nests deeper than ${MAX_MANIFEST_DEPTH} levels`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
}

/** The objects in one file: YAML documents or JSON, with Lists expanded. Empty documents are skipped. */
export function parseManifestText(m: ManifestText): unknown[] {
  const out: unknown[] = [];
  const trimmed = m.text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let value: unknown;
    let isJson = false;
    try {
      value = JSON.parse(m.text);
      isJson = true;
    } catch {
      // Not one JSON value: fall through to YAML, which also reads JSON-like flow documents.
    }
    if (isJson) {
      checkDepth(m.source, value);
      expandLists(value, out);
      return out;
    }
  }
  let docs: ReturnType<typeof YAML.parseAllDocuments>;
  try {
    docs = YAML.parseAllDocuments(m.text, YAML_OPTIONS);
  } catch (err) {
    throw yamlFailure(m.source, err);
  }
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      throw new CliError(`${m.source}: error parsing YAML: ${e.message.split("\n")[0]}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
    } catch (err) {
      throw yamlFailure(m.source, err);
    }
    checkDepth(m.source, value);
    expandLists(value, out);
  }
  return out;
}

/** A YAML failure as one line naming the file; a stack overflow is a document nested too deeply. */
function yamlFailure(source: string, err: unknown): CliError {
  if (err instanceof RangeError) return new CliError(`${source}: a document nests deeper than ${MAX_MANIFEST_DEPTH} levels`);
  if (err instanceof ReferenceError && /alias/i.test(err.message)) {
    return new CliError(`${source}: error parsing YAML: more than ${MAX_YAML_ALIAS_COUNT} alias expansions (${err.message})`);
  }
  return new CliError(`${source}: error parsing YAML: ${(err as Error).message.split("\n")[0]}`);
}

export interface DecodedManifest {
  source: string;
  info: KindInfo;
  object: KubeObject;
}

/** "ConfigMap/x" for messages, from whatever the document has. */
function describeDoc(doc: unknown): string {
  const d = (doc ?? {}) as Record<string, unknown>;
  const kind = typeof d.kind === "string" && d.kind ? d.kind : "<unknown kind>";
  const meta = (d.metadata ?? {}) as Record<string, unknown>;
  const name = typeof meta.name === "string" && meta.name ? meta.name : "<no name>";
  return `${kind}/${name}`;
}

/**
 * Decodes every document of every file. A file with any invalid document contributes nothing; its
 * problems come back as one message per field: `<file>: <Kind>/<name>: <field path>: <problem>`.
 */
export function decodeManifests(texts: ManifestText[]): { objects: DecodedManifest[]; errors: string[] } {
  const objects: DecodedManifest[] = [];
  const errors: string[] = [];
  for (const t of texts) {
    let docs: unknown[];
    try {
      docs = parseManifestText(t);
    } catch (err) {
      errors.push((err as Error).message);
      continue;
    }
    const fileObjects: DecodedManifest[] = [];
    const fileErrors: string[] = [];
    for (const doc of docs) {
      try {
        const { info, object } = decodeManifest(doc);
        if (!object.metadata?.name) {
          throw InvalidError.at("metadata.name", "required (navctl applies objects by name; generateName is not supported)");
        }
        fileObjects.push({ source: t.source, info, object });
      } catch (err) {
        // One line per field, as for the server's refusals.
        const msgs = err instanceof InvalidError ? err.fieldErrors.map((e) => formatFieldErrors([e])) : [err instanceof Error ? err.message : String(err)];
        for (const msg of msgs) fileErrors.push(`${t.source}: ${describeDoc(doc)}: ${msg}`);
      }
    }
    if (fileErrors.length > 0) errors.push(...fileErrors);
    else objects.push(...fileObjects);
  }
  return { objects, errors };
}
