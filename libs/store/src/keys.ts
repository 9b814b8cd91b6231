// Bucket and key layout. One KV bucket per kind, named so `nats kv ls` reads like
// `navctl api-resources`; keys are "<namespace>.<name>" for namespaced kinds and "<name>"
// otherwise. Namespaces are DNS-1123 labels (no dots), so the first token is always the
// namespace even when a name contains dots, and "default.>" watches one namespace.
import type { KindInfo } from "@navarch/api";

export const BUCKET_PREFIX = "navarch-";

export function bucketName(info: Pick<KindInfo, "plural">): string {
  return `${BUCKET_PREFIX}${info.plural}`;
}

export function objectKey(info: Pick<KindInfo, "namespaced">, namespace: string, name: string): string {
  return info.namespaced ? `${namespace}.${name}` : name;
}

export function splitKey(info: Pick<KindInfo, "namespaced">, key: string): { namespace: string; name: string } {
  if (!info.namespaced) return { namespace: "", name: key };
  const dot = key.indexOf(".");
  return { namespace: key.slice(0, dot), name: key.slice(dot + 1) };
}
