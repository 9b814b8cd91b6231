// ConfigMap and Secret: key/value data handed to pods as files or env vars. Keys become file
// names, so they are restricted; `immutable` lets nodes stop watching for changes, so it sticks.
import type { ConfigMap, FieldError, Secret } from "@navarch/api";
import { forbidden, invalid, syntax, tooLong } from "./errors.js";
import { checkConfigKey } from "./formats.js";
import type { KindRules } from "./index.js";
import { key } from "./paths.js";

/** Both kinds are stored whole in one KV entry and mounted in tmpfs; 1 MiB bounds both. */
const MAX_SIZE = 1024 * 1024;
const IMMUTABLE = "field is immutable when `immutable` is set";

/** Required keys of the well-known secret types, so consumers can rely on them. */
const SECRET_TYPE_KEYS: Record<string, string[][]> = {
  "kubernetes.io/tls": [["tls.crt"], ["tls.key"]],
  "kubernetes.io/dockerconfigjson": [[".dockerconfigjson"]],
  "kubernetes.io/dockercfg": [[".dockercfg"]],
  "kubernetes.io/ssh-auth": [["ssh-privatekey"]],
  "kubernetes.io/basic-auth": [["username", "password"]],
};

function validateKeys(map: Record<string, unknown>, path: string): FieldError[] {
  return Object.keys(map).flatMap((k) => syntax(key(path, k), k, checkConfigKey));
}

/** Compares byte maps by content (Buffers from JSON and from binary decoding differ as objects). */
function sameBytes(a: Record<string, Uint8Array>, b: Record<string, Uint8Array>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && Buffer.compare(Buffer.from(a[k]!), Buffer.from(b[k]!)) === 0);
}

function sameStrings(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

export const configMapRules: KindRules<ConfigMap> = {
  validate(cm) {
    const errs = [...validateKeys(cm.data, "data"), ...validateKeys(cm.binaryData, "binaryData")];
    let size = 0;
    for (const [k, v] of Object.entries(cm.data)) size += k.length + Buffer.byteLength(v);
    for (const [k, v] of Object.entries(cm.binaryData)) {
      size += k.length + v.length;
      // Both maps are projected into the same directory; one file name cannot hold two values.
      if (k in cm.data) errs.push(invalid(key("binaryData", k), k, "duplicate of key present in data"));
    }
    if (size > MAX_SIZE) errs.push(tooLong("data", MAX_SIZE));
    return errs;
  },

  validateUpdate(cm, old) {
    if (old.immutable !== true) return [];
    const errs: FieldError[] = [];
    if (!sameStrings(cm.data, old.data)) errs.push(forbidden("data", IMMUTABLE));
    if (!sameBytes(cm.binaryData, old.binaryData)) errs.push(forbidden("binaryData", IMMUTABLE));
    if (cm.immutable !== true) errs.push(forbidden("immutable", IMMUTABLE));
    return errs;
  },
};

export const secretRules: KindRules<Secret> = {
  default(secret) {
    if (secret.type === "") secret.type = "Opaque";
    // stringData is a write-only convenience: it is folded into data and never stored.
    for (const [k, v] of Object.entries(secret.stringData)) secret.data[k] = Buffer.from(v, "utf8");
    secret.stringData = {};
  },

  validate(secret) {
    const errs = [...validateKeys(secret.data, "data"), ...validateKeys(secret.stringData, "stringData")];
    let size = 0;
    for (const v of Object.values(secret.data)) size += v.length;
    if (size > MAX_SIZE) errs.push(tooLong("data", MAX_SIZE));
    const required = SECRET_TYPE_KEYS[secret.type] ?? [];
    for (const anyOf of required) {
      if (!anyOf.some((k) => k in secret.data || k in secret.stringData)) {
        const p = anyOf.length === 1 ? key("data", anyOf[0]!) : "data";
        errs.push({ path: p, message: `Required value: type ${secret.type} requires ${anyOf.map((k) => `"${k}"`).join(" or ")}` });
      }
    }
    return errs;
  },

  validateUpdate(secret, old) {
    const errs: FieldError[] = [];
    if (secret.type !== old.type) errs.push(invalid("type", secret.type, "field is immutable"));
    if (old.immutable !== true) return errs;
    if (!sameBytes(secret.data, old.data)) errs.push(forbidden("data", IMMUTABLE));
    if (secret.immutable !== true) errs.push(forbidden("immutable", IMMUTABLE));
    return errs;
  },
};
