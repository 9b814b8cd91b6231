// -o json, -o yaml and -o name, as kubectl prints them: Kubernetes JSON with keys in sorted order,
// 4-space indented JSON, block YAML with unindented sequences; several objects become a List.
import { toManifest, type KindInfo, type KubeObject } from "@navarch/api";
import YAML from "yaml";
import { objectRef } from "../resources.js";

export type OutputFormat = "table" | "wide" | "json" | "yaml" | "name";

export function parseOutputFormat(text: string | undefined): OutputFormat {
  if (text === undefined || text === "") return "table";
  if (["wide", "json", "yaml", "name"].includes(text)) return text as OutputFormat;
  throw new Error(`unable to match a printer suitable for the output format "${text}", allowed formats are: json,name,wide,yaml`);
}

/** Sorts object keys recursively, as kubectl's printers do (they print maps). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

export interface Printed {
  info: KindInfo;
  object: KubeObject;
}

/** One object, or a `kind: List` of several, as Kubernetes JSON. */
export function manifestOf(items: Printed[], single: boolean): unknown {
  if (single && items.length === 1) return sortKeys(toManifest(items[0]!.info, items[0]!.object));
  return sortKeys({
    apiVersion: "v1",
    kind: "List",
    items: items.map((p) => toManifest(p.info, p.object)),
    metadata: { resourceVersion: "" },
  });
}

export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 4) + "\n";
}

/** YAML 1.1 like kubectl's: strings such as "yes", "0644" or timestamps are quoted, so they read back as strings. */
export function formatYaml(value: unknown): string {
  return YAML.stringify(value, { version: "1.1", indentSeq: false, lineWidth: 0 });
}

export function formatName(p: Printed): string {
  return `${objectRef(p.info, p.object.metadata?.name ?? "")}\n`;
}
