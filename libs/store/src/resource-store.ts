// Compare-and-swap reads and writes of one kind's objects in its JetStream KV bucket.
// The KV revision of an entry is the object's resourceVersion; every write names the revision it
// expects, so a stale writer is refused instead of overwriting (one writer per fact).
import {
  AlreadyExistsError,
  clip,
  ConflictError,
  CorruptError,
  InvalidError,
  NotFoundError,
  TransientError,
  toManifest,
  type KindInfo,
  type KubeObject,
} from "@navarch/api";
import { JetStreamApiCodes, JetStreamApiError, jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { bucketName, objectKey, objectKeyOrUndefined, splitKey, type KeyPaths } from "./keys.js";

export interface OpenOptions {
  replicas?: number;
  /** Another bucket than the kind's own (for projections such as the per-node pod view). */
  bucket?: string;
  /** Prepended to every key; an informer on this store watches only "<keyPrefix>>". */
  keyPrefix?: string;
  description?: string;
  /** Largest stored object in bytes. */
  maxValueSize?: number;
  /** Entries older than this are dropped (Events); 0 keeps them forever. */
  maxAgeMs?: number;
  /**
   * Every key starts with one token of its own before the object's key (navarch-node-pods:
   * "<node>.<namespace>.<name>"); a store without keyPrefix then checks values against the rest.
   */
  ownerTokenInKeys?: boolean;
}

export const DEFAULT_MAX_OBJECT_BYTES = 1024 * 1024 - 4096;

/**
 * How long an Event is kept (Kubernetes' default --event-ttl, 1 h): the max age of the Event
 * bucket. Whichever process creates the bucket first sets it, so every opener of that kind passes it.
 */
export const EVENT_TTL_MS = 60 * 60 * 1000;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const METADATA_PATHS: KeyPaths = { namespace: "metadata.namespace", name: "metadata.name" };

export class ResourceStore<T extends KubeObject = KubeObject> {
  private constructor(
    readonly info: KindInfo<T>,
    readonly kv: KV,
    readonly bucket: string,
    readonly keyPrefix: string,
    private readonly js: JetStreamClient,
    private readonly ownerTokenInKeys = false,
  ) {}

  /** Opens the kind's bucket, creating it on first use. */
  static async open<T extends KubeObject>(nc: NatsConnection, info: KindInfo<T>, opts: OpenOptions = {}): Promise<ResourceStore<T>> {
    const bucket = opts.bucket ?? bucketName(info);
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const kv = await kvm.create(bucket, {
      history: 1,
      replicas: opts.replicas ?? 1,
      maxValueSize: opts.maxValueSize ?? DEFAULT_MAX_OBJECT_BYTES,
      ttl: opts.maxAgeMs ?? 0,
      description:
        opts.description ?? `Navarch ${info.kind} objects (${info.apiVersion}), key ${info.namespaced ? "<namespace>.<name>" : "<name>"}`,
    });
    return new ResourceStore(info, kv, bucket, opts.keyPrefix ?? "", js, opts.ownerTokenInKeys ?? false);
  }

  /** The key of (namespace, name); throws InvalidError (naming `paths`) when they cannot be one. */
  key(namespace: string, name: string, paths?: KeyPaths): string {
    return this.keyPrefix + objectKey(this.info, namespace, name, paths);
  }

  /** The key, or undefined when no object can have these parts (a cache lookup of a bad name). */
  keyOrUndefined(namespace: string, name: string): string | undefined {
    const key = objectKeyOrUndefined(this.info, namespace, name);
    return key === undefined ? undefined : this.keyPrefix + key;
  }

  splitKey(key: string): { namespace: string; name: string } {
    return splitKey(this.info, key.slice(this.keyPrefix.length));
  }

  /** What an informer of this store watches: every key, or the keys under keyPrefix. */
  get watchFilter(): string {
    return this.keyPrefix ? `${this.keyPrefix}>` : ">";
  }

  keyOf(obj: KubeObject): string {
    return this.key(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "", METADATA_PATHS);
  }

  /** The stored JSON: the Kubernetes manifest without resourceVersion (the KV revision is it). */
  encode(obj: T): Uint8Array {
    const json = toManifest(this.info, obj);
    const meta = json.metadata as Record<string, unknown> | undefined;
    if (meta) delete meta.resourceVersion;
    return encoder.encode(JSON.stringify(json));
  }

  /** Encodes once, refusing an object larger than `maxBytes` (the API's object size limit). */
  private encodeWithin(obj: T, maxBytes: number | undefined): Uint8Array {
    const value = this.encode(obj);
    if (maxBytes !== undefined && value.byteLength > maxBytes) {
      throw InvalidError.at("", `object is too large: ${value.byteLength} bytes, the limit is ${maxBytes}`);
    }
    return value;
  }

  /**
   * The object stored as `value`. Throws CorruptError when it is not a JSON object; fields of the
   * wrong type are coerced by the codec (fromJSON), so what comes back always encodes.
   */
  decode(value: Uint8Array, revision: number): T {
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(value));
    } catch (err) {
      throw new CorruptError(`not JSON (${clip((err as Error).message, 80)})`);
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new CorruptError(`not a JSON object (${json === null ? "null" : Array.isArray(json) ? "an array" : typeof json})`);
    }
    let obj: T;
    try {
      obj = this.info.codec.fromJSON(json);
    } catch (err) {
      // e.g. null where the schema has an object ([null] in ownerReferences).
      throw new CorruptError(`not a ${this.info.kind} (${clip((err as Error).message, 80)})`);
    }
    obj.metadata = { ...obj.metadata!, resourceVersion: String(revision) };
    return obj;
  }

  /**
   * decode(), and the object must be the one its key names: a value without metadata, or filed
   * under another object's key, would be served as the wrong object (or fail to encode).
   */
  decodeAt(key: string, value: Uint8Array, revision: number): T {
    const obj = this.decode(value, revision);
    const want = this.ownerTokenInKeys && !this.keyPrefix ? splitKey(this.info, key.slice(key.indexOf(".") + 1)) : this.splitKey(key);
    const meta = obj.metadata;
    if (!meta || meta.name !== want.name || (this.info.namespaced && meta.namespace !== want.namespace)) {
      const got = meta?.name ? `${meta.namespace ? meta.namespace + "/" : ""}${meta.name}` : "no metadata.name";
      throw new CorruptError(`the value is not the object its key names (it holds ${JSON.stringify(clip(got, 80))})`);
    }
    return obj;
  }

  decodeEntry(e: KvEntry): T | undefined {
    if (e.operation !== "PUT") return undefined;
    return this.decodeAt(e.key, e.value, e.revision);
  }

  /** Reads straight from the server (controllers and the gateway read from informers instead). */
  async get(namespace: string, name: string): Promise<T | undefined> {
    const e = await guard(() => this.kv.get(this.key(namespace, name)));
    return e ? this.decodeEntry(e) : undefined;
  }

  /** Stores a new object. Throws AlreadyExistsError if one with that name exists. */
  async create(obj: T, maxBytes?: number): Promise<T> {
    const key = this.keyOf(obj);
    const value = this.encodeWithin(obj, maxBytes);
    try {
      const rev = await guard(() => this.kv.create(key, value));
      return withRevision(obj, rev);
    } catch (err) {
      if (err instanceof ConflictError) {
        throw new AlreadyExistsError(`${this.info.plural} "${obj.metadata?.name}" already exists`);
      }
      throw err;
    }
  }

  /**
   * Replaces the object if its stored revision is still metadata.resourceVersion. An object that
   * is being deleted and has no finalizers left is deleted instead, as Kubernetes does.
   */
  async update(obj: T, maxBytes?: number): Promise<T | undefined> {
    return (await this.write(obj, maxBytes)).stored;
  }

  /**
   * update(), also telling the revision written when the object was deleted instead (readers that
   * wait for their own writes need it: a delete is a write too).
   */
  async write(obj: T, maxBytes?: number): Promise<{ stored: T | undefined; revision: number }> {
    const rev = Number(obj.metadata?.resourceVersion);
    if (!Number.isInteger(rev) || rev <= 0) throw new Error("update needs metadata.resourceVersion");
    const meta = obj.metadata!;
    if (meta.deletionTimestamp && !heldByFinalizers(obj)) {
      return { stored: undefined, revision: await this.delete(meta.namespace, meta.name, rev) };
    }
    const value = this.encodeWithin(obj, maxBytes);
    const newRev = await guard(() => this.kv.update(this.keyOf(obj), value, rev), () =>
      this.conflict(obj),
    );
    return { stored: withRevision(obj, newRev), revision: newRev };
  }

  /**
   * Deletes the object, only if it is still at `expectedRevision` when one is given. Returns the
   * revision of the delete marker. (Published by hand as the KV client does, because its delete()
   * drops the acknowledgement's sequence.)
   */
  async delete(namespace: string, name: string, expectedRevision?: number): Promise<number> {
    const key = this.key(namespace, name);
    const h = headers();
    h.set("KV-Operation", "DEL");
    if (expectedRevision) h.set("Nats-Expected-Last-Subject-Sequence", String(expectedRevision));
    const ack = await guard(
      () => this.js.publish(`$KV.${this.bucket}.${key}`, new Uint8Array(0), { headers: h }),
      () => new ConflictError(`${this.info.plural} "${name}" was modified; delete refused (resourceVersion ${expectedRevision} is stale)`),
    );
    return ack.seq;
  }

  /**
   * Read-modify-write with retries from fresh state: `change` gets the current object and returns
   * the new one (or undefined to leave it). Returns the stored result, or undefined if the object
   * does not exist or `change` declined.
   */
  async modify(namespace: string, name: string, change: (current: T) => T | undefined, attempts = 10): Promise<T | undefined> {
    for (let i = 0; ; i++) {
      const current = await this.get(namespace, name);
      if (!current) return undefined;
      const next = change(structuredClone(current));
      if (!next) return undefined;
      next.metadata = { ...next.metadata!, resourceVersion: current.metadata!.resourceVersion };
      try {
        return await this.update(next);
      } catch (err) {
        if (err instanceof ConflictError && i + 1 < attempts) continue;
        throw err;
      }
    }
  }

  private conflict(obj: T): Error {
    return new ConflictError(
      `the object has been modified; please apply your changes to the latest version and try again (${this.info.plural} "${obj.metadata?.name}", resourceVersion ${obj.metadata?.resourceVersion} is stale)`,
    );
  }
}

/**
 * Whether something still holds an object being deleted: metadata.finalizers; for a Namespace
 * also spec.finalizers (the namespace controller's "kubernetes" finalizer); for a Pod on a node,
 * its graceful termination (the node agent deletes it once its containers have stopped).
 */
export function heldByFinalizers(obj: KubeObject): boolean {
  if ((obj.metadata?.finalizers ?? []).length > 0) return true;
  const spec = (obj as { spec?: { finalizers?: string[]; nodeName?: string } }).spec;
  if (obj.kind === "Namespace") return (spec?.finalizers ?? []).length > 0;
  if (obj.kind === "Pod") return !!spec?.nodeName && (obj.metadata?.deletionGracePeriodSeconds ?? 0) > 0;
  return false;
}

function withRevision<T extends KubeObject>(obj: T, rev: number): T {
  return { ...obj, metadata: { ...obj.metadata!, resourceVersion: String(rev) } };
}

/** A compare-and-swap lost: the subject was not at the expected sequence. */
export function isWrongSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** Maps NATS failures to our error classes: CAS losses to ConflictError, the rest to TransientError. */
async function guard<R>(op: () => Promise<R>, onConflict?: () => Error): Promise<R> {
  try {
    return await op();
  } catch (err) {
    if (isWrongSequence(err)) throw onConflict ? onConflict() : new ConflictError((err as Error).message);
    if (err instanceof JetStreamApiError) throw err;
    if (err instanceof NotFoundError) throw err;
    throw new TransientError(`nats: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The store with another decode: an Informer of the view keeps what `decode` returns instead of
 * whole objects (a controller that needs only a digest or the raw JSON of each entry keeps the
 * garbage collector's work small). Everything else - keys, watch filter, the KV - is the store's.
 */
export function decodingView<V extends KubeObject, T extends KubeObject>(
  store: ResourceStore<T>,
  decode: (value: Uint8Array, revision: number) => V,
): ResourceStore<V> {
  return Object.create(store, { decode: { value: decode } }) as ResourceStore<V>;
}

/** The store a decodingView was made of. */
export function storeBehind<T extends KubeObject>(view: ResourceStore<KubeObject>): ResourceStore<T> {
  return Object.getPrototypeOf(view) as ResourceStore<T>;
}
