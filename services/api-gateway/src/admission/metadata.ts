// ObjectMeta rules shared by every kind. Server-managed fields (uid, resourceVersion, generation,
// timestamps) are the gateway's business and are neither filled nor checked here.
import {
  checkDns1123Label,
  checkDns1123Subdomain,
  checkLabelValue,
  checkQualifiedName,
  type FieldError,
  type KindInfo,
  type ObjectMeta,
  type OwnerReference,
} from "@navarch/api";
import { duplicate, forbidden, invalid, required, syntax, tooLong } from "./errors.js";
import { child, index, key } from "./paths.js";

/**
 * Kinds whose names become single DNS labels (a namespace is a DNS zone part, a service name is
 * `<name>.<namespace>.svc`), so they may not contain dots. All others are DNS subdomains.
 */
const LABEL_NAMED_KINDS = new Set(["Namespace", "Service"]);

const TOTAL_ANNOTATION_SIZE = 256 * 1024;

export function validateObjectMeta(meta: ObjectMeta | undefined, info: KindInfo, path = "metadata"): FieldError[] {
  const errs: FieldError[] = [];
  const m: Pick<ObjectMeta, "name" | "generateName" | "namespace" | "labels" | "annotations" | "ownerReferences" | "finalizers"> =
    meta ?? { name: "", generateName: "", namespace: "", labels: {}, annotations: {}, ownerReferences: [], finalizers: [] };
  const checkName = LABEL_NAMED_KINDS.has(info.kind) ? checkDns1123Label : checkDns1123Subdomain;

  if (m.generateName) {
    // The server appends random characters, so a trailing "-" in the prefix is fine.
    const masked = m.generateName.length > 1 && m.generateName.endsWith("-") ? `${m.generateName.slice(0, -1)}a` : m.generateName;
    const why = checkName(masked);
    if (why) errs.push(invalid(child(path, "generateName"), m.generateName, why));
  }
  if (m.name === "") {
    if (!m.generateName) errs.push(required(child(path, "name"), "name or generateName is required"));
  } else {
    errs.push(...syntax(child(path, "name"), m.name, checkName));
  }

  if (info.namespaced) {
    if (m.namespace === "") errs.push(required(child(path, "namespace")));
    else errs.push(...syntax(child(path, "namespace"), m.namespace, checkDns1123Label));
  } else if (m.namespace !== "") {
    // Worded as the gateway documents it, without Kubernetes' "Forbidden:" prefix.
    errs.push({ path: child(path, "namespace"), message: `not allowed on cluster-scoped kind ${info.kind}` });
  }

  errs.push(...validateLabels(m.labels, child(path, "labels")));
  errs.push(...validateAnnotations(m.annotations, child(path, "annotations")));
  errs.push(...validateOwnerReferences(m.ownerReferences ?? [], child(path, "ownerReferences")));
  errs.push(...validateFinalizers(m.finalizers ?? [], child(path, "finalizers")));
  return errs;
}

/** Label maps (metadata.labels, selectors, nodeSelector): qualified-name keys, label values. */
export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const badKey = checkQualifiedName(k);
    if (badKey) errs.push(invalid(key(path, k), k, badKey));
    errs.push(...syntax(key(path, k), v, checkLabelValue));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    // Kubernetes checks annotation keys case-insensitively (upper case prefixes are tolerated).
    const badKey = checkQualifiedName(k.toLowerCase());
    if (badKey) errs.push(invalid(key(path, k), k, badKey));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE));
  return errs;
}

function validateOwnerReferences(refs: OwnerReference[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const controllers: string[] = [];
  refs.forEach((ref, i) => {
    const p = index(path, i);
    if (ref.apiVersion === "") errs.push(required(child(p, "apiVersion")));
    if (ref.kind === "") errs.push(required(child(p, "kind")));
    if (ref.name === "") errs.push(required(child(p, "name")));
    if (ref.uid === "") errs.push(required(child(p, "uid")));
    if (ref.controller === true) controllers.push(`${ref.kind}/${ref.name}`);
  });
  // Garbage collection and adoption assume a single managing controller.
  if (controllers.length > 1) {
    errs.push(invalid(path, controllers.join(", "), `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(" and ")}`));
  }
  return errs;
}

function validateFinalizers(finalizers: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  finalizers.forEach((f, i) => {
    const p = index(path, i);
    errs.push(...syntax(p, f, checkQualifiedName));
    if (seen.has(f)) errs.push(duplicate(p, f));
    seen.add(f);
  });
  return errs;
}

/** An object's identity never changes; the gateway addresses updates by it. */
export function validateObjectMetaUpdate(meta: ObjectMeta | undefined, old: ObjectMeta | undefined, path = "metadata"): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ["name", "namespace"] as const) {
    const now = meta?.[field] ?? "";
    const before = old?.[field] ?? "";
    if (now !== before) errs.push(invalid(child(path, field), now, "field is immutable"));
  }
  return errs;
}
