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

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
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

/** Reads every `-f` argument; "-" reads `stdin` (once). */
export async function readManifestTexts(
  paths: string[],
  opts: { stdin?: NodeJS.ReadableStream; recursive?: boolean } = {},
): Promise<ManifestText[]> {
  if (paths.length === 0) throw new CliError("must specify -f FILENAME");
  const out: ManifestText[] = [];
  let stdinRead = false;
  for (const p of paths) {
    if (p === "-") {
      if (stdinRead) continue;
      stdinRead = true;
      out.push({ source: "STDIN", text: await readStream(opts.stdin ?? process.stdin) });
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
      for (const f of files) out.push({ source: f, text: fs.readFileSync(f, "utf8") });
    } else {
      out.push({ source: p, text: fs.readFileSync(p, "utf8") });
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

/** The objects in one file: YAML documents or JSON, with Lists expanded. Empty documents are skipped. */
export function parseManifestText(m: ManifestText): unknown[] {
  const out: unknown[] = [];
  const trimmed = m.text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      expandLists(JSON.parse(m.text), out);
      return out;
    } catch {
      // Not one JSON value: fall through to YAML, which also reads JSON-like flow documents.
    }
  }
  const docs = YAML.parseAllDocuments(m.text, YAML_OPTIONS);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      throw new CliError(`${m.source}: error parsing YAML: ${e.message.split("\n")[0]}`);
    }
    expandLists(doc.toJS({ maxAliasCount: 1000 }), out);
  }
  return out;
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
