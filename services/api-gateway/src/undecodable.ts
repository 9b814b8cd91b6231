// Values in the store that cannot be decoded are surfaced where users look, not only in a log:
// each one (per key and revision) becomes a Warning Event in navarch-system naming the bucket,
// the key and why, and a log line. The informers count them (Informer.decodeFailures) and no
// longer serve the key; a Get of it is DATA_LOSS (objects.ts), a Delete removes it.
import { AlreadyExistsError, KINDS, type Event, type KindInfo } from "@navarch/api";
import type { Logger } from "@navarch/config";
import { SYSTEM_NAMESPACE, timestamp, type Informer, type ResourceStore, type UndecodableValue } from "@navarch/store";
import { createHash, randomUUID } from "node:crypto";

export const UNDECODABLE_REASON = "UndecodableValue";

/** Reports what the informers already found, then every new one; returns the stop function. */
export function reportUndecodableValues(informers: Iterable<Informer>, events: ResourceStore<Event>, logger: Logger): () => void {
  const stops: (() => void)[] = [];
  for (const informer of informers) {
    const info = informer.store.info;
    const report = (bad: UndecodableValue) => {
      logger.warn({ bucket: bad.bucket, key: bad.key, revision: bad.revision, reason: bad.reason, decodeFailures: informer.decodeFailures }, "stored value cannot be decoded; not served");
      events.create(warning(info, bad)).catch((err: unknown) => {
        if (!(err instanceof AlreadyExistsError)) logger.warn({ err, key: bad.key }, "recording the undecodable-value event failed");
      });
    };
    for (const bad of informer.undecodableValues()) report(bad);
    stops.push(informer.onDecodeError(report));
  }
  return () => stops.forEach((stop) => stop());
}

/** One Event per (bucket, key, revision): a second gateway reporting the same value finds it exists. */
function warning(info: KindInfo, bad: UndecodableValue): Event {
  const at = timestamp(new Date());
  const hash = createHash("sha256").update(`${bad.bucket}\n${bad.key}\n${bad.revision}`).digest("hex").slice(0, 16);
  const { namespace, name } = splitSafely(info, bad.key);
  return KINDS.Event.codec.fromPartial({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `undecodable-${info.plural}.${hash}`, namespace: SYSTEM_NAMESPACE, uid: randomUUID(), creationTimestamp: at },
    involvedObject: { kind: info.kind, apiVersion: info.apiVersion, namespace, name, uid: "", fieldPath: "" },
    reason: UNDECODABLE_REASON,
    message: `the value of key "${bad.key}" in ${bad.bucket} (revision ${bad.revision}) cannot be decoded: ${bad.reason}; it is not served until it is replaced or deleted`,
    source: { component: "api-gateway", host: "" },
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
    type: "Warning",
    reportingComponent: "api-gateway",
    reportingInstance: "",
  });
}

function splitSafely(info: KindInfo, key: string): { namespace: string; name: string } {
  if (!info.namespaced) return { namespace: "", name: key.slice(0, 253) };
  const dot = key.indexOf(".");
  return dot < 0 ? { namespace: "", name: key.slice(0, 253) } : { namespace: key.slice(0, dot), name: key.slice(dot + 1, dot + 254) };
}
