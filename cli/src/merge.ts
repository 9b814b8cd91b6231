// What `navctl apply` sends when the object exists, and whether that changes anything: a
// three-way merge of the live object, the manifest being applied, and the manifest applied last
// time (kept on the object in the annotation kubectl uses; docs/adr/0013-apply-three-way-merge.md).
//
// Rules, field by field, using the proto descriptors (so maps and messages are told apart):
//  - a field the manifest sets takes the manifest's value (messages merge field by field, lists
//    of messages item by item, see mergeList; scalars and lists of scalars are replaced);
//  - a field the manifest does not set keeps its live value (server defaults such as a Service's
//    clusterIP, and what controllers write, such as a Deployment's revision annotation or a Job's
//    template labels), unless the last applied manifest set it: then the user removed it, and
//    it is removed;
//  - maps (labels, annotations, data, selector, resources.limits, ...) merge key by key the same
//    way: the manifest's keys are set, keys the last manifest had and this one lacks are removed,
//    keys others added are kept;
//  - the server-managed metadata (uid, resourceVersion, generation, timestamps) and the status are
//    the live ones.
// So re-applying an unchanged manifest computes exactly the live object: `unchanged`, no write.
import {
  fieldOf,
  isMapField as isMap,
  LABEL_REPEATED,
  TYPE_MESSAGE,
  toManifest,
  type KindInfo,
  type KubeObject,
} from "@navarch/api";
import { sortKeys } from "./printers/output.js";

type Json = Record<string, unknown>;

/** Where apply keeps the manifest it applied: kubectl's annotation, so both tools read each other's. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** `applied` laid over `live` key by key; keys `last` had and `applied` lacks are removed. */
function mergeMap(live: unknown, applied: unknown, last: unknown): unknown {
  if (!isObject(applied)) return applied;
  const out: Json = isObject(live) ? { ...live } : {};
  if (isObject(last)) for (const k of Object.keys(last)) if (!(k in applied)) delete out[k];
  return Object.assign(out, applied);
}

/** The map `live` without the keys the last manifest set; undefined when nothing is left. */
function removeKeys(live: unknown, last: unknown): unknown {
  if (!isObject(live) || !isObject(last)) return live;
  const out: Json = { ...live };
  for (const k of Object.keys(last)) delete out[k];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The `name` of every item, when every item has a distinct one (containers, volumes, env, ...). */
function names(list: unknown[]): string[] | undefined {
  const out = list.map((item) => (isObject(item) && typeof item.name === "string" && item.name ? item.name : undefined));
  if (out.some((n) => n === undefined) || new Set(out).size !== out.length) return undefined;
  return out as string[];
}

/**
 * Lists of messages, in the manifest's order: items with a name are matched by name (so adding a
 * container keeps the server defaults of the others), items without by position when the lengths
 * agree; an item with no live counterpart is taken as written.
 */
function mergeList(typeName: string, live: unknown, applied: unknown, last: unknown): unknown {
  if (!Array.isArray(applied) || !Array.isArray(live)) return applied;
  const prev = Array.isArray(last) ? last : [];
  const appliedNames = names(applied);
  const liveNames = names(live);
  if (appliedNames && liveNames) {
    const prevNames = names(prev);
    return applied.map((item, i) => {
      const j = liveNames.indexOf(appliedNames[i]!);
      const p = prevNames ? prevNames.indexOf(appliedNames[i]!) : -1;
      return j < 0 ? item : overlay(typeName, live[j], item, p < 0 ? undefined : prev[p]);
    });
  }
  if (live.length !== applied.length) return applied;
  return applied.map((item, i) => overlay(typeName, live[i], item, prev.length === applied.length ? prev[i] : undefined));
}

/** `applied` laid over `live` for the proto message `typeName` (all Kubernetes JSON). */
export function overlay(typeName: string, live: unknown, applied: unknown, last?: unknown): unknown {
  if (!isObject(applied) || !isObject(live)) return applied;
  const out: Json = { ...live };
  const prev = isObject(last) ? last : {};
  for (const key of Object.keys(prev)) {
    if (key in applied) continue;
    // The user removed this field from the manifest. Of a map only the keys they had set go.
    const f = fieldOf(typeName, key);
    const rest = f && isMap(f) ? removeKeys(live[key], prev[key]) : undefined;
    if (rest === undefined) delete out[key];
    else out[key] = rest;
  }
  for (const [key, value] of Object.entries(applied)) {
    const f = fieldOf(typeName, key);
    if (f && isMap(f)) out[key] = mergeMap(live[key], value, prev[key]);
    else if (!f || f.type !== TYPE_MESSAGE) out[key] = value;
    else if (f.label === LABEL_REPEATED) out[key] = mergeList(f.typeName, live[key], value, prev[key]);
    else out[key] = overlay(f.typeName, live[key], value, prev[key]);
  }
  return out;
}

const SERVER_METADATA = ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"];

/** Secrets: stringData is write-only (the server folds it into data), so compare it as data. */
function foldStringData(info: KindInfo, json: Json): Json {
  if (info.kind !== "Secret" || !isObject(json.stringData)) return json;
  const data: Json = { ...(isObject(json.data) ? json.data : {}) };
  for (const [k, v] of Object.entries(json.stringData)) data[k] = Buffer.from(String(v), "utf8").toString("base64");
  const out: Json = { ...json, data };
  delete out.stringData;
  return out;
}

/**
 * The manifest as apply records it: Kubernetes JSON with sorted keys, no status, no
 * server-managed metadata, and without the annotation itself (a manifest copied from
 * `get -o yaml` carries the old one).
 */
function appliedConfiguration(info: KindInfo, applied: KubeObject): Json {
  const json = foldStringData(info, toManifest(info, applied) as Json);
  delete json.status;
  const meta: Json = isObject(json.metadata) ? { ...json.metadata } : {};
  for (const key of SERVER_METADATA) delete meta[key];
  if (isObject(meta.annotations)) {
    const annotations = { ...meta.annotations };
    delete annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(annotations).length > 0) meta.annotations = annotations;
    else delete meta.annotations;
  }
  json.metadata = meta;
  return sortKeys(json) as Json;
}

/** Kubernetes' (and the gateway's) limit on the total size of an object's annotations. */
export const ANNOTATIONS_LIMIT_BYTES = 256 * 1024;

/**
 * `json` with the manifest recorded in the annotation; false (and no annotation) when it does not
 * fit beside the other annotations: then the object is applied without the record.
 */
function withAnnotation(json: Json, config: Json): { json: Json; recorded: boolean } {
  const meta: Json = isObject(json.metadata) ? { ...json.metadata } : {};
  const annotations: Json = { ...(isObject(meta.annotations) ? meta.annotations : {}) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  const record = `${JSON.stringify(config)}\n`;
  let size = Buffer.byteLength(LAST_APPLIED_ANNOTATION) + Buffer.byteLength(record);
  for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  const recorded = size <= ANNOTATIONS_LIMIT_BYTES;
  if (recorded) annotations[LAST_APPLIED_ANNOTATION] = record;
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  else delete meta.annotations;
  return { json: { ...json, metadata: meta }, recorded };
}

/** What navctl says when the manifest is too large to record (nothing is silently different). */
const NOT_RECORDED = `the manifest is too large to keep in the annotation ${LAST_APPLIED_ANNOTATION} (annotations may have at most ${ANNOTATIONS_LIMIT_BYTES} bytes): a field later removed from it will not be removed by apply`;

export interface CreatePlan {
  object: KubeObject;
  /** Set when the manifest could not be recorded. */
  warning?: string | undefined;
}

/** What apply creates: the manifest, recording itself as the last applied configuration. */
export function planCreate(info: KindInfo, applied: KubeObject): CreatePlan {
  const config = appliedConfiguration(info, applied);
  const { json, recorded } = withAnnotation(config, config);
  return { object: info.codec.fromJSON(json), warning: recorded ? undefined : NOT_RECORDED };
}

/** The last applied manifest recorded on a live object; undefined when none (or unreadable). */
function lastApplied(liveJson: Json): Json | undefined {
  const meta = isObject(liveJson.metadata) ? liveJson.metadata : {};
  const text = isObject(meta.annotations) ? meta.annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof text !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    // Not ours to fail on: without it apply removes nothing, as kubectl does.
    return undefined;
  }
}

export interface ApplyPlan {
  /** The object to send with Update (carries the live resourceVersion). */
  object: KubeObject;
  /** True when the live object already is what applying would make it: nothing is written. */
  unchanged: boolean;
  /** Set when the manifest could not be recorded. */
  warning?: string | undefined;
}

/** Computes the Update for applying `applied` over `live`. */
export function planApply(info: KindInfo, live: KubeObject, applied: KubeObject): ApplyPlan {
  const liveJson = toManifest(info, live) as Json;
  const config = appliedConfiguration(info, applied);
  const { json: merged, recorded } = withAnnotation(overlay(info.protoType, liveJson, config, lastApplied(liveJson)) as Json, config);

  const liveMeta = isObject(liveJson.metadata) ? liveJson.metadata : {};
  const meta = merged.metadata as Json;
  for (const key of SERVER_METADATA) {
    if (liveMeta[key] !== undefined) meta[key] = liveMeta[key];
    else delete meta[key];
  }
  if (liveJson.status !== undefined) merged.status = liveJson.status;
  else delete merged.status;

  const unchanged = JSON.stringify(sortKeys(merged)) === JSON.stringify(sortKeys(liveJson));
  return { object: info.codec.fromJSON(merged), unchanged, warning: recorded ? undefined : NOT_RECORDED };
}
