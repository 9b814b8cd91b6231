// Which replica set runs which pod template. A replica set's name and its pod-template-hash
// label carry a hash of the deployment's template (FNV-1a 32 over a canonical JSON of it, plus
// the collision count, encoded with Kubernetes' safe alphabet: no vowels, no look-alike digits),
// but the replica set that *is* the deployment's current one is found by comparing templates
// (ignoring that label), as Kubernetes does - so a hash that changes between versions of the
// encoder never starts a rollout by itself.
import { PodTemplateSpec } from "@navarch/api";
import { POD_TEMPLATE_HASH } from "./reasons.js";

const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** JSON with object keys sorted at every level: equal templates give equal strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function templateJson(template: PodTemplateSpec | undefined, withoutHashLabel: boolean): string {
  const json = PodTemplateSpec.toJSON(PodTemplateSpec.fromPartial(template ?? {})) as { metadata?: { labels?: Record<string, string> } };
  if (withoutHashLabel && json.metadata?.labels) {
    const { [POD_TEMPLATE_HASH]: _ignored, ...rest } = json.metadata.labels;
    json.metadata.labels = rest;
    if (Object.keys(rest).length === 0) delete json.metadata.labels;
  }
  return canonicalJson(json);
}

/** The pod-template-hash of a template (and the deployment's collision count, when it has one). */
export function templateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let text = templateJson(template, false);
  if (collisionCount !== undefined && collisionCount > 0) text += `#${collisionCount}`;
  const digits = String(fnv1a32(text));
  let out = "";
  for (const ch of digits) out += SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length];
  return out;
}

/** Whether two templates are the same apart from the pod-template-hash label. */
export function equalIgnoringHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return templateJson(a, true) === templateJson(b, true);
}
