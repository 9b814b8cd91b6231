// Bucket and key layout. One KV bucket per kind, named so `nats kv ls` reads like
// `navctl api-resources`; keys are "<namespace>.<name>" for namespaced kinds and "<name>"
// otherwise. Namespaces are DNS-1123 labels (no dots), so the first token is always the
// namespace even when a name contains dots, and "default.>" watches one namespace.
//
// That only holds if nothing builds a key from parts it has not checked: Get(namespace
// "default.app", name "key") used to read "default.app.key", which is default/app.key. So every
// key is built here, from a namespace that is a DNS-1123 label and a name that is a DNS-1123
// subdomain (the widest name rule of any kind), and anything else is refused before it reaches NATS.
import { checkDns1123Label, checkDns1123Subdomain, clip, InvalidError, type FieldError, type KindInfo } from "@navarch/api";

export const BUCKET_PREFIX = "navarch-";

export function bucketName(info: Pick<KindInfo, "plural">): string {
  return `${BUCKET_PREFIX}${info.plural}`;
}

/** Paths to name the parts by in errors: a request's fields, or an object's metadata. */
export interface KeyPaths {
  namespace: string;
  name: string;
}

const REQUEST_PATHS: KeyPaths = { namespace: "namespace", name: "name" };

/** Why `namespace` cannot be a namespace in a key (undefined when it can). */
export function checkKeyNamespace(namespace: string, path = "namespace"): FieldError | undefined {
  if (namespace === "") return { path, message: "Required value" };
  const why = checkDns1123Label(namespace);
  return why ? { path, message: `Invalid value: ${JSON.stringify(clip(namespace, 64))}: ${why}` } : undefined;
}

/** What is wrong with (namespace, name) as the parts of a key of this kind; empty when nothing. */
export function checkKeyParts(info: Pick<KindInfo, "namespaced">, namespace: string, name: string, paths: KeyPaths = REQUEST_PATHS): FieldError[] {
  const errs: FieldError[] = [];
  // A cluster-scoped kind's key has no namespace part, so a namespace given with it is ignored.
  if (info.namespaced) {
    const bad = checkKeyNamespace(namespace, paths.namespace);
    if (bad) errs.push(bad);
  }
  if (name === "") errs.push({ path: paths.name, message: "Required value" });
  else {
    const why = checkDns1123Subdomain(name);
    if (why) errs.push({ path: paths.name, message: `Invalid value: ${JSON.stringify(clip(name, 64))}: ${why}` });
  }
  return errs;
}

/** The key of (namespace, name); throws InvalidError when the parts are not a namespace and a name. */
export function objectKey(info: Pick<KindInfo, "namespaced">, namespace: string, name: string, paths?: KeyPaths): string {
  const errs = checkKeyParts(info, namespace, name, paths);
  if (errs.length > 0) throw new InvalidError(errs);
  return info.namespaced ? `${namespace}.${name}` : name;
}

/**
 * For cache lookups (hot: controllers do many): the key of (namespace, name), or undefined when
 * the namespace could make it ambiguous. Only the namespace matters - with no dot in it, the
 * key's first token is the namespace and the rest the name, so a bad name simply finds nothing.
 */
export function objectKeyOrUndefined(info: Pick<KindInfo, "namespaced">, namespace: string, name: string): string | undefined {
  if (!info.namespaced) return name;
  if (namespace === "" || namespace.includes(".")) return undefined;
  return `${namespace}.${name}`;
}

export function splitKey(info: Pick<KindInfo, "namespaced">, key: string): { namespace: string; name: string } {
  if (!info.namespaced) return { namespace: "", name: key };
  const dot = key.indexOf(".");
  return { namespace: key.slice(0, dot), name: key.slice(dot + 1) };
}
