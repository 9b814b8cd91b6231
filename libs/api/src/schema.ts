// Checks a manifest (parsed YAML/JSON) against the proto message it must become, before
// ts-proto's fromJSON silently drops what it does not know. This is where "unknown field" and
// "expected a string" errors come from, with the JSON path of the offending field.
import { protoMetadata as apiMeta } from "./generated/navarch/api/v1/api.js";
import type { FieldError } from "./errors.js";

export interface FieldDescriptor {
  name: string;
  jsonName: string;
  type: number;
  typeName: string;
  label: number;
}
export interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  options?: { mapEntry?: boolean } | undefined;
}
interface FileMeta {
  fileDescriptor: { package: string; messageType: MessageDescriptor[] };
  references: Record<string, unknown>;
  dependencies?: FileMeta[];
}

const TYPE_DOUBLE = 1, TYPE_FLOAT = 2, TYPE_INT64 = 3, TYPE_UINT64 = 4, TYPE_INT32 = 5;
const TYPE_BOOL = 8, TYPE_STRING = 9, TYPE_BYTES = 12, TYPE_UINT32 = 13;
export const TYPE_MESSAGE = 11;
export const LABEL_REPEATED = 3;

/**
 * Fields that Kubernetes types as IntOrString (a port number or a port name, a count or a
 * percentage). They are strings in proto; manifests may give numbers, and output shows numbers.
 */
const INT_OR_STRING = new Set([
  "navarch.core.v1.ServicePort.target_port",
  "navarch.core.v1.HTTPGetAction.port",
  "navarch.core.v1.TCPSocketAction.port",
  "navarch.apps.v1.RollingUpdateDeployment.max_surge",
  "navarch.apps.v1.RollingUpdateDeployment.max_unavailable",
]);

/** Maps of quantities ("cpu: 1" is as good as "cpu: '1'"). */
const QUANTITY_MAPS = new Set([
  "navarch.core.v1.ResourceRequirements.requests",
  "navarch.core.v1.ResourceRequirements.limits",
  "navarch.core.v1.NodeStatus.capacity",
  "navarch.core.v1.NodeStatus.allocatable",
]);

const messages = new Map<string, MessageDescriptor>();

function register(meta: FileMeta, seen: Set<FileMeta>): void {
  if (seen.has(meta)) return;
  seen.add(meta);
  const walk = (prefix: string, types: MessageDescriptor[]) => {
    for (const m of types) {
      const full = `${prefix}.${m.name}`;
      messages.set(full, m);
      walk(full, m.nestedType ?? []);
    }
  };
  walk(meta.fileDescriptor.package, meta.fileDescriptor.messageType);
  for (const dep of meta.dependencies ?? []) register(dep, seen);
}
register(apiMeta as unknown as FileMeta, new Set());

/** The descriptor of a proto message by its full name ("navarch.core.v1.Pod", leading dot allowed). */
export function messageDescriptor(typeName: string): MessageDescriptor {
  const m = messages.get(typeName.replace(/^\./, ""));
  if (!m) throw new Error(`no descriptor for ${typeName}`);
  return m;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function checkScalar(f: FieldDescriptor, fullField: string, value: unknown, path: string, errors: FieldError[], quantity = false): void {
  switch (f.type) {
    case TYPE_STRING:
      if (typeof value === "string") return;
      if (typeof value === "number" && (INT_OR_STRING.has(fullField) || quantity)) return;
      errors.push({ path, message: `expected a string, got ${describe(value)}` });
      return;
    case TYPE_BOOL:
      if (typeof value !== "boolean") errors.push({ path, message: `expected true or false, got ${describe(value)}` });
      return;
    case TYPE_INT32:
    case TYPE_UINT32:
    case TYPE_INT64:
    case TYPE_UINT64: {
      const n = typeof value === "string" && /^-?\d+$/.test(value) && f.type !== TYPE_INT32 ? Number(value) : value;
      if (typeof n !== "number" || !Number.isInteger(n)) {
        errors.push({ path, message: `expected an integer, got ${describe(value)}` });
      } else if ((f.type === TYPE_INT32 && Math.abs(n) > 2 ** 31 - 1) || ((f.type === TYPE_UINT32 || f.type === TYPE_UINT64) && n < 0)) {
        errors.push({ path, message: `integer ${n} is out of range` });
      }
      return;
    }
    case TYPE_DOUBLE:
    case TYPE_FLOAT:
      if (typeof value !== "number") errors.push({ path, message: `expected a number, got ${describe(value)}` });
      return;
    case TYPE_BYTES:
      if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value.replace(/\s/g, ""))) {
        errors.push({ path, message: "expected base64-encoded data" });
      }
      return;
  }
}

function checkMessage(typeName: string, value: unknown, path: string, errors: FieldError[]): void {
  if (value === null || value === undefined) return;
  if (typeof value !== "object" || Array.isArray(value)) {
    errors.push({ path: path || "(root)", message: `expected an object, got ${describe(value)}` });
    return;
  }
  const msg = messageDescriptor(typeName);
  const byName = new Map<string, FieldDescriptor>();
  for (const f of msg.field) {
    byName.set(f.jsonName, f);
    byName.set(f.name, f);
  }
  const at = (key: string) => (path ? `${path}.${key}` : key);
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const f = byName.get(key);
    if (!f) {
      errors.push({ path: at(key), message: `unknown field "${key}"` });
      continue;
    }
    if (v === null || v === undefined) continue;
    const fullField = `${typeName.replace(/^\./, "")}.${f.name}`;
    const fieldPath = at(f.jsonName);
    const isMessage = f.type === TYPE_MESSAGE;
    const entry = isMessage ? messageDescriptor(f.typeName) : undefined;
    if (entry?.options?.mapEntry) {
      if (typeof v !== "object" || Array.isArray(v)) {
        errors.push({ path: fieldPath, message: `expected a map, got ${describe(v)}` });
        continue;
      }
      const valueField = entry.field.find((x) => x.name === "value")!;
      for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) {
        const p = `${fieldPath}[${JSON.stringify(mk)}]`;
        if (valueField.type === TYPE_MESSAGE) checkMessage(valueField.typeName, mv, p, errors);
        else checkScalar(valueField, fullField, mv, p, errors, QUANTITY_MAPS.has(fullField));
      }
      continue;
    }
    if (f.label === LABEL_REPEATED) {
      if (!Array.isArray(v)) {
        errors.push({ path: fieldPath, message: `expected a list, got ${describe(v)}` });
        continue;
      }
      v.forEach((item, i) => {
        const p = `${fieldPath}[${i}]`;
        if (isMessage) checkMessage(f.typeName, item, p, errors);
        else checkScalar(f, fullField, item, p, errors);
      });
      continue;
    }
    if (isMessage) checkMessage(f.typeName, v, fieldPath, errors);
    else checkScalar(f, fullField, v, fieldPath, errors);
  }
}

/** Returns every unknown field and type mismatch in `manifest` for the given proto message. */
export function checkManifestShape(protoType: string, manifest: unknown): FieldError[] {
  const errors: FieldError[] = [];
  checkMessage(protoType, manifest, "", errors);
  return errors;
}

function normalize(typeName: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const msg = messageDescriptor(typeName);
  const obj = value as Record<string, unknown>;
  for (const f of msg.field) {
    const v = obj[f.jsonName];
    if (v === undefined) continue;
    const fullField = `${typeName.replace(/^\./, "")}.${f.name}`;
    if (INT_OR_STRING.has(fullField) && typeof v === "string" && /^\d+$/.test(v)) {
      obj[f.jsonName] = Number(v);
    } else if (f.type === TYPE_MESSAGE && !messageDescriptor(f.typeName).options?.mapEntry) {
      if (Array.isArray(v)) v.forEach((item) => normalize(f.typeName, item));
      else normalize(f.typeName, v);
    }
  }
  return obj;
}

/**
 * Turns ts-proto's toJSON output into the Kubernetes JSON users expect: IntOrString fields that
 * hold a number are numbers again. Mutates and returns `json`.
 */
export function toKubernetesJson(protoType: string, json: unknown): unknown {
  return normalize(protoType, json);
}

/** A field of a message by its JSON or proto name. */
export function fieldOf(typeName: string, key: string): FieldDescriptor | undefined {
  return messages.get(typeName.replace(/^\./, ""))?.field.find((f) => f.jsonName === key || f.name === key);
}

/** Whether a field is a proto map (a message field whose type is a map entry). */
export function isMapField(f: FieldDescriptor): boolean {
  return f.type === TYPE_MESSAGE && messages.get(f.typeName.replace(/^\./, ""))?.options?.mapEntry === true;
}
