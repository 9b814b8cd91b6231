// Creates that a client can retry safely (docs/api-retries.md, ADR 12). A create answered
// UNAVAILABLE or DEADLINE_EXCEEDED (the gateway crashed, the connection dropped) may have been
// stored or not; a plain retry then gets ALREADY_EXISTS for the client's own object. A client that
// sends gRPC metadata `idempotency-key` gets instead: before the object is written, the gateway
// records key -> {kind, namespace, name, uid} in the bucket navarch-create-requests (create-only,
// entries expire after CREATE_REQUEST_TTL_MS); a retry with the same key finds that record and
// answers with the object if it exists with the recorded uid, or creates it with that uid if not.
import { createHash, randomUUID } from "node:crypto";
import { AlreadyExistsError, InvalidError, TransientError, type KindInfo, type KubeObject } from "@navarch/api";
import { isWrongSequence, type ResourceStore } from "@navarch/store";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { Metadata } from "@grpc/grpc-js";
import type { NatsConnection } from "@nats-io/transport-node";

export const CREATE_REQUESTS_BUCKET = "navarch-create-requests";
/** How long a key is honoured: far longer than any client's retries, short enough to stay small. */
export const CREATE_REQUEST_TTL_MS = 10 * 60_000;
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** Printable ASCII, 1-128 characters (a UUID is the usual key). */
const KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** What the first attempt with a key was creating. */
export interface CreateRecord {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

/** The key a call carries, "" for none; a malformed key is refused (never ignored). */
export function idempotencyKeyOf(metadata: Metadata): string {
  const values = metadata.get(IDEMPOTENCY_KEY_HEADER);
  if (values.length === 0) return "";
  if (values.length > 1) throw InvalidError.at(IDEMPOTENCY_KEY_HEADER, "must be given once");
  const key = String(values[0]);
  if (!KEY_PATTERN.test(key)) {
    throw InvalidError.at(IDEMPOTENCY_KEY_HEADER, "must be 1 to 128 printable ASCII characters (a UUID is a good key)");
  }
  return key;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CreateRequests {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, opts: { replicas?: number } = {}): Promise<CreateRequests> {
    const kv = await new Kvm(jetstream(nc)).create(CREATE_REQUESTS_BUCKET, {
      history: 1,
      replicas: opts.replicas ?? 1,
      ttl: CREATE_REQUEST_TTL_MS,
      description: "idempotency keys of recent creates, key sha256 of the client's key, value {kind, namespace, name, uid}",
    });
    return new CreateRequests(kv);
  }

  async get(key: string): Promise<CreateRecord | undefined> {
    const e = await nats(() => this.kv.get(bucketKey(key)));
    if (!e || e.operation !== "PUT") return undefined;
    return JSON.parse(decoder.decode(e.value)) as CreateRecord;
  }

  /** Records the key unless it is recorded already; false when another request recorded it first. */
  async record(key: string, record: CreateRecord): Promise<boolean> {
    try {
      await nats(() => this.kv.create(bucketKey(key), encoder.encode(JSON.stringify(record))));
      return true;
    } catch (err) {
      if (err instanceof RecordedFirst) return false;
      throw err;
    }
  }
}

/** How the kind's create runs with a given uid; `beforeWrite` runs after validation, before the store write. */
export type CreateAs<T> = (input: T, uid: string, beforeWrite?: (obj: T) => Promise<void>) => Promise<T>;

/**
 * One create with an idempotency key. The first attempt validates the object, records the key and
 * then writes (a refused request records nothing); a retry answers with the recorded object or
 * creates it with the recorded uid. At most two rounds: the second only when a concurrent request
 * with the same key recorded first.
 */
export async function createOnce<T extends KubeObject>(
  requests: CreateRequests,
  store: ResourceStore<T>,
  info: KindInfo,
  key: string,
  input: T,
  createAs: CreateAs<T>,
  onStored: (obj: T) => void,
): Promise<T> {
  for (let round = 0; round < 2; round++) {
    const rec = await requests.get(key);
    if (rec) return retry(rec, store, info, input, createAs, onStored);
    let ours: CreateRecord | undefined;
    try {
      return await createAs(input, randomUUID(), async (obj) => {
        const meta = obj.metadata!;
        const record = { kind: info.kind, namespace: meta.namespace, name: meta.name, uid: meta.uid };
        if (!(await requests.record(key, record))) throw new RecordedFirst();
        ours = record;
      });
    } catch (err) {
      if (err instanceof RecordedFirst) continue;
      // A concurrent retry with this key (it found our record) may have stored the object first.
      if (err instanceof AlreadyExistsError && ours) {
        const found = await existing(store, ours);
        if (found) return (onStored(found), found);
      }
      throw err;
    }
  }
  throw new TransientError("concurrent requests with the same idempotency key; retry with the same key");
}

async function retry<T extends KubeObject>(
  rec: CreateRecord,
  store: ResourceStore<T>,
  info: KindInfo,
  input: T,
  createAs: CreateAs<T>,
  onStored: (obj: T) => void,
): Promise<T> {
  const meta = input.metadata;
  const namespace = info.namespaced ? meta?.namespace || "default" : "";
  // generateName: the first attempt's generated name is the one the retry means.
  const nameMatches = meta?.name ? meta.name === rec.name : !!meta?.generateName && rec.name.startsWith(meta.generateName);
  if (rec.kind !== info.kind || rec.namespace !== namespace || !nameMatches) {
    throw InvalidError.at(IDEMPOTENCY_KEY_HEADER, `already used to create ${rec.kind} "${rec.namespace ? `${rec.namespace}/` : ""}${rec.name}"; use a new key for another object`);
  }
  const found = await existing(store, rec);
  if (found) return (onStored(found), found);
  const again = structuredClone(input);
  again.metadata!.name = rec.name;
  try {
    return await createAs(again, rec.uid);
  } catch (err) {
    // The first attempt, still in flight elsewhere, may have written it meanwhile.
    if (!(err instanceof AlreadyExistsError)) throw err;
    const now = await existing(store, rec);
    if (!now) throw err;
    onStored(now);
    return now;
  }
}

/** The object of the record, read from the store (not a cache): undefined when it is absent. */
async function existing<T extends KubeObject>(store: ResourceStore<T>, rec: CreateRecord): Promise<T | undefined> {
  const obj = await store.get(rec.namespace, rec.name);
  if (!obj) return undefined;
  if (obj.metadata?.uid !== rec.uid) {
    throw new AlreadyExistsError(`${store.info.plural} "${rec.name}" already exists (created by another request than this idempotency key's)`);
  }
  return obj;
}

class RecordedFirst extends Error {}

function bucketKey(key: string): string {
  // Any printable key becomes a valid KV key of fixed size.
  return createHash("sha256").update(key).digest("hex");
}

async function nats<R>(op: () => Promise<R>): Promise<R> {
  try {
    return await op();
  } catch (err) {
    if (isWrongSequence(err)) throw new RecordedFirst();
    throw new TransientError(`nats: ${(err as Error).message}`, { cause: err });
  }
}
