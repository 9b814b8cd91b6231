// What `navctl apply` sends when the object exists: the live object with the applied fields laid
// over it, and whether that changes anything.
//
// Rules, field by field, using the proto descriptors (so maps and messages are told apart):
//  - a field the manifest does not set keeps its live value (server defaults such as a Service's
//    clusterIP or a container's imagePullPolicy survive, and do not count as a change);
//  - maps (data, selector, resources.limits, ...) are replaced whole, so a removed key is removed;
//  - messages merge field by field; lists of messages merge item by item when the lengths agree,
//    and are replaced when they do not; scalars and lists of scalars are replaced;
//  - metadata.labels and metadata.annotations are exactly the manifest's; the server-managed
//    metadata (uid, resourceVersion, generation, timestamps) and the status are the live ones.
import { fieldOf, isMapField as isMap, LABEL_REPEATED, TYPE_MESSAGE, toManifest, type KindInfo, type KubeObject } from "@navarch/api";
import { sortKeys } from "./printers/output.js";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** `applied` laid over `live` for the proto message `typeName` (both Kubernetes JSON). */
export function overlay(typeName: string, live: unknown, applied: unknown): unknown {
  if (!isObject(applied)) return applied;
  if (!isObject(live)) return applied;
  const out: Json = { ...live };
  for (const [key, value] of Object.entries(applied)) {
    const f = fieldOf(typeName, key);
    if (!f || f.type !== TYPE_MESSAGE || isMap(f)) {
      out[key] = value;
    } else if (f.label === LABEL_REPEATED) {
      const l = live[key];
      out[key] =
        Array.isArray(value) && Array.isArray(l) && l.length === value.length
          ? value.map((item, i) => overlay(f.typeName, l[i], item))
          : value;
    } else {
      out[key] = overlay(f.typeName, live[key], value);
    }
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

export interface ApplyPlan {
  /** The object to send with Update (carries the live resourceVersion). */
  object: KubeObject;
  /** True when the live object already has every applied field. */
  unchanged: boolean;
}

/** Computes the Update for applying `applied` over `live`. */
export function planApply(info: KindInfo, live: KubeObject, applied: KubeObject): ApplyPlan {
  const liveJson = foldStringData(info, toManifest(info, live) as Json);
  const appliedJson = foldStringData(info, toManifest(info, applied) as Json);
  delete appliedJson.status;
  const merged = overlay(info.protoType, liveJson, appliedJson) as Json;

  const liveMeta = isObject(liveJson.metadata) ? liveJson.metadata : {};
  const appliedMeta = isObject(appliedJson.metadata) ? appliedJson.metadata : {};
  const meta: Json = { ...(isObject(merged.metadata) ? merged.metadata : {}) };
  for (const key of ["labels", "annotations"]) {
    if (isObject(appliedMeta[key]) && Object.keys(appliedMeta[key]).length > 0) meta[key] = appliedMeta[key];
    else delete meta[key];
  }
  for (const key of SERVER_METADATA) {
    if (liveMeta[key] !== undefined) meta[key] = liveMeta[key];
    else delete meta[key];
  }
  merged.metadata = meta;
  if (liveJson.status !== undefined) merged.status = liveJson.status;
  else delete merged.status;

  const unchanged = JSON.stringify(sortKeys(merged)) === JSON.stringify(sortKeys(liveJson));
  return { object: info.codec.fromJSON(merged), unchanged };
}
