// Manifests (Kubernetes-style JSON objects) to typed objects and back. Storage, the CLI and
// `nats kv get` all see the same JSON.
import { InvalidError } from "./errors.js";
import { ALL_KINDS, kindOf, type KindInfo, type KubeObject } from "./kinds.js";
import { checkManifestShape, toKubernetesJson } from "./schema.js";

/** Parses one manifest object, refusing unknown kinds, unknown fields and wrong types. */
export function decodeManifest(manifest: unknown): { info: KindInfo; object: KubeObject } {
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) {
    throw InvalidError.at("", "a manifest must be an object with apiVersion, kind and metadata");
  }
  const m = manifest as Record<string, unknown>;
  if (typeof m.apiVersion !== "string" || m.apiVersion === "") throw InvalidError.at("apiVersion", "required");
  if (typeof m.kind !== "string" || m.kind === "") throw InvalidError.at("kind", "required");
  const info = kindOf(m.apiVersion, m.kind);
  if (!info) {
    const sameKind = ALL_KINDS.find((k) => k.kind === m.kind);
    if (sameKind) {
      throw InvalidError.at("apiVersion", `"${m.apiVersion}" does not serve kind ${m.kind}; use "${sameKind.apiVersion}"`);
    }
    throw InvalidError.at("kind", `unsupported kind "${m.kind}"; supported: ${ALL_KINDS.map((k) => k.kind).join(", ")}`);
  }
  const errors = checkManifestShape(info.protoType, manifest);
  if (errors.length > 0) throw new InvalidError(errors);
  return { info, object: info.codec.fromJSON(manifest) };
}

/** The Kubernetes JSON of a typed object, with apiVersion and kind filled in. */
export function toManifest(info: KindInfo, object: KubeObject): Record<string, unknown> {
  const json = info.codec.toJSON({ ...object, apiVersion: info.apiVersion, kind: info.kind }) as Record<string, unknown>;
  return toKubernetesJson(info.protoType, json) as Record<string, unknown>;
}
