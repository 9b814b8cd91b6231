// Which objects a List or Watch selects: namespace, label selector and field selector.
import { InvalidError, matches, parseFieldSelector, parseSelector, type FieldRequirement, type KindInfo, type KubeObject, type Requirement } from "@navarch/api";
import { checkKeyNamespace } from "@navarch/store";

/** Field selectors each kind supports (Kubernetes' set for these kinds). */
const FIELDS: Record<string, string[]> = {
  Pod: ["spec.nodeName", "spec.schedulerName", "status.phase", "status.podIP"],
  Event: ["involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "involvedObject.uid", "reason", "type"],
  Secret: ["type"],
  Node: ["spec.unschedulable"],
};

export interface Selection {
  namespace: string | undefined;
  labels: Requirement[];
  fields: FieldRequirement[];
}

export function parseSelection(info: KindInfo, req: { namespace: string; labelSelector: string; fieldSelector: string }): Selection {
  const supported = ["metadata.name", "metadata.namespace", ...(FIELDS[info.kind] ?? [])];
  // The namespace is a key prefix: "default.app" would select default/app.* (docs/api-errors.md).
  const badNamespace = info.namespaced && req.namespace !== "" ? checkKeyNamespace(req.namespace, "namespace") : undefined;
  if (badNamespace) throw new InvalidError([badNamespace]);
  return {
    namespace: info.namespaced && req.namespace !== "" ? req.namespace : undefined,
    labels: parseSelector(req.labelSelector, "labelSelector"),
    fields: parseFieldSelector(req.fieldSelector, supported, "fieldSelector"),
  };
}

function fieldValue(obj: KubeObject, path: string): string {
  let v: unknown = obj;
  for (const part of path.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  return v === undefined || v === null ? "" : String(v);
}

export function selects(sel: Selection, obj: KubeObject): boolean {
  if (sel.namespace !== undefined && obj.metadata?.namespace !== sel.namespace) return false;
  if (sel.labels.length > 0 && !matches(sel.labels, obj.metadata?.labels)) return false;
  for (const f of sel.fields) {
    const equal = fieldValue(obj, f.field) === f.value;
    if (equal !== (f.op === "=")) return false;
  }
  return true;
}

/** Continue tokens carry the last key served; the next page starts after it. */
export function encodeContinue(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey })).toString("base64url");
}

export function decodeContinue(token: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { k?: unknown };
    return typeof parsed.k === "string" ? parsed.k : undefined;
  } catch {
    return undefined;
  }
}
