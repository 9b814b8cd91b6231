// Create, Get, List, Update and Delete of one kind: validation and defaulting (admission), the
// server-managed fields, and a compare-and-swap write. Reads come from the informer's cache.
import {
  clip,
  CorruptError,
  InvalidError,
  KINDS,
  parseResourceVersion,
  NotFoundError,
  PermissionDeniedError,
  PreconditionError,
  ConflictError,
  type DeleteRequest,
  type GetRequest,
  type KindInfo,
  type KubeObject,
  type ListRequest,
  type Namespace,
  type ObjectMeta,
  type Pod,
} from "@navarch/api";
import { checkKeyNamespace, requestDeletion, SYSTEM_NAMESPACES, timestamp, type Informer, type ResourceStore } from "@navarch/store";
import { randomUUID } from "node:crypto";
import { admissionFor, type Admission } from "./admission/index.js";
import type { GatewayContext } from "./context.js";
import { createOnce } from "./create-requests.js";
import { decodeContinue, encodeContinue, parseSelection, selects } from "./selection.js";
import { writeWithAddresses } from "./service-addresses.js";



const GENERATED_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789";

export interface ListResult<T> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue: string };
  items: T[];
}

export class ObjectsApi<T extends KubeObject = KubeObject> {
  private readonly store: ResourceStore<T>;
  private readonly admission: Admission<T>;

  constructor(
    private readonly ctx: GatewayContext,
    readonly info: KindInfo<T>,
  ) {
    this.store = ctx.store<T>(info);
    this.admission = admissionFor(info as unknown as KindInfo, ctx.options) as unknown as Admission<T>;
  }

  /** With an idempotency key, a retry of this create is answered safely (create-requests.ts). */
  async create(input: T, idempotencyKey = ""): Promise<T> {
    if (!idempotencyKey) return this.createAs(input, randomUUID());
    const onStored = (obj: T) => this.ctx.wrote(this.info, obj.metadata!.resourceVersion);
    return createOnce(this.ctx.createRequests!, this.store, this.info, idempotencyKey, input, (i, uid, before) => this.createAs(i, uid, before), onStored);
  }

  private async createAs(input: T, uid: string, beforeWrite?: (obj: T) => Promise<void>): Promise<T> {
    const obj = structuredClone(input);
    this.checkKind(obj);
    const meta = requireMetadata(obj);
    if (meta.resourceVersion) throw InvalidError.at("metadata.resourceVersion", "must not be set on create");
    this.placeNamespace(meta);
    // Before the namespace is looked up, so that a bad one is INVALID_ARGUMENT, not NOT_FOUND.
    const badNamespace = this.info.namespaced ? checkKeyNamespace(meta.namespace, "metadata.namespace") : undefined;
    if (badNamespace) throw new InvalidError([badNamespace]);
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    if (this.info.namespaced) await this.checkNamespaceOpen(meta.namespace);
    // The uid is the server's, and admission may use it (a Job's generated selector does).
    meta.uid = uid;
    this.admission.default(obj);
    this.refuse(this.admission.validate(obj));
    const now = timestamp(this.ctx.now());
    obj.metadata = {
      ...meta,
      uid: meta.uid,
      creationTimestamp: now,
      deletionTimestamp: "",
      deletionGracePeriodSeconds: 0,
      generation: this.info.hasSpec ? 1 : 0,
    };
    this.initialStatus(obj);
    await beforeWrite?.(obj);
    const addresses = await this.ctx.serviceAddresses?.beforeCreate(obj);
    const created = await writeWithAddresses(addresses, () => this.store.create(obj, this.ctx.options.maxObjectBytes));
    this.ctx.wrote(this.info, created.metadata!.resourceVersion);
    return created;
  }

  async get(req: GetRequest): Promise<T> {
    const key = this.store.key(this.namespaceOf(req.namespace), req.name);
    const informer = await this.ctx.fresh<T>(this.info);
    const obj = informer.getByKey(key);
    if (!obj) throw this.missing(informer, key, req.name);
    return obj;
  }

  async list(req: ListRequest): Promise<ListResult<T>> {
    const sel = parseSelection(this.info, req);
    if (req.limit < 0) throw InvalidError.at("limit", "must be 0 or more");
    let after: string | undefined;
    if (req.continue) {
      after = decodeContinue(req.continue);
      if (after === undefined) throw InvalidError.at("continue", "not a continue token from a previous List");
    }
    const informer = await this.ctx.fresh<T>(this.info);
    // From here on nothing awaits, so the page is one consistent view at `revision`.
    const revision = informer.revision;
    const keys = informer.keys();
    const prefix = sel.namespace !== undefined ? `${sel.namespace}.` : "";
    let i = lowerBound(keys, after !== undefined && after >= prefix ? after + "\u0000" : prefix);
    const items: T[] = [];
    let lastKey = "";
    let more = false;
    for (; i < keys.length && keys[i]!.startsWith(prefix); i++) {
      const obj = informer.getByKey(keys[i]!)!;
      if (!selects(sel, obj)) continue;
      if (req.limit > 0 && items.length === req.limit) {
        more = true;
        break;
      }
      items.push(obj);
      lastKey = keys[i]!;
    }
    return {
      apiVersion: this.info.apiVersion,
      kind: `${this.info.kind}List`,
      metadata: { resourceVersion: String(revision), continue: more ? encodeContinue(lastKey) : "" },
      items,
    };
  }

  async update(input: T): Promise<T> {
    const obj = structuredClone(input);
    this.checkKind(obj);
    const meta = requireMetadata(obj);
    if (!meta.name) throw InvalidError.at("metadata.name", "Required value");
    this.placeNamespace(meta);
    const key = this.store.keyOf(obj);
    const wanted = parseResourceVersion(meta.resourceVersion, "metadata.resourceVersion");
    // A version this store has not reached cannot be the current one: refused at once, not after a wait.
    const informer = await this.ctx.fresh<T>(this.info, wanted, (latest) => this.conflict(meta.name, String(wanted), `it is newer than the latest revision, ${latest}`));
    const current = informer.getByKey(key);
    if (!current) throw this.missing(informer, key, meta.name);
    const cur = current.metadata!;
    if (meta.uid && meta.uid !== cur.uid) {
      throw new ConflictError(`Precondition failed: UID in object meta: ${meta.uid}, UID in stored object: ${cur.uid}`);
    }
    if (wanted && String(wanted) !== cur.resourceVersion) throw this.conflict(meta.name, String(wanted));
    meta.uid = cur.uid;
    this.ctx.serviceAddresses?.keepAllocated(obj, current);
    this.admission.default(obj);
    this.refuse([...this.admission.validate(obj), ...this.admission.validateUpdate(obj, current)]);
    const specChanged = this.info.hasSpec && JSON.stringify(specOf(obj)) !== JSON.stringify(specOf(current));
    obj.metadata = {
      ...meta,
      uid: cur.uid,
      creationTimestamp: cur.creationTimestamp,
      deletionTimestamp: cur.deletionTimestamp,
      deletionGracePeriodSeconds: cur.deletionGracePeriodSeconds,
      generation: cur.generation + (specChanged ? 1 : 0),
      resourceVersion: cur.resourceVersion,
    };
    // Status belongs to the controller that reports it; a client update keeps it as it was.
    if (this.info.hasStatus) (obj as { status?: unknown }).status = (current as { status?: unknown }).status;
    const addresses = await this.ctx.serviceAddresses?.beforeUpdate(obj, current);
    const { stored, revision } = await writeWithAddresses(addresses, () => this.store.write(obj, this.ctx.options.maxObjectBytes));
    this.ctx.wrote(this.info, revision);
    // No result: the last finalizer of an object being deleted went away, so the store deleted it.
    return stored ?? obj;
  }

  async delete(req: DeleteRequest): Promise<T> {
    const namespace = this.namespaceOf(req.namespace);
    const key = this.store.key(namespace, req.name);
    if (!["", "Background", "Foreground", "Orphan"].includes(req.propagationPolicy)) {
      throw InvalidError.at("propagationPolicy", `unsupported value ${JSON.stringify(clip(req.propagationPolicy, 32))}: must be Background, Foreground or Orphan`);
    }
    const preRevision = parseResourceVersion(req.preconditions?.resourceVersion ?? "", "preconditions.resourceVersion");
    if (req.gracePeriodSeconds !== undefined && req.gracePeriodSeconds < 0) {
      throw InvalidError.at("gracePeriodSeconds", "must be 0 or more");
    }
    if (this.info.kind === "Namespace" && SYSTEM_NAMESPACES.includes(req.name)) {
      throw new PermissionDeniedError(`namespaces "${req.name}" is forbidden: this namespace may not be deleted`);
    }
    const informer = await this.ctx.fresh<T>(this.info);
    let current = informer.getByKey(key);
    if (!current) {
      const bad = informer.undecodable(key);
      // A value that cannot be decoded can still be deleted (that is how it is repaired).
      if (bad && !req.preconditions?.uid && (!preRevision || preRevision === bad.revision)) return this.deleteUndecodable(namespace, req.name, bad.revision);
      throw this.missing(informer, key, req.name);
    }
    const cur = current.metadata!;
    const pre = req.preconditions;
    if (pre?.uid && pre.uid !== cur.uid) {
      throw new ConflictError(`Precondition failed: UID in precondition: ${clip(pre.uid, 64)}, UID in object meta: ${cur.uid}`);
    }
    if (preRevision && String(preRevision) !== cur.resourceVersion) {
      throw new ConflictError(
        `Precondition failed: ResourceVersion in precondition: ${preRevision}, ResourceVersion in object meta: ${cur.resourceVersion}`,
      );
    }
    if (this.info.kind === "Namespace") return (await this.terminateNamespace(current as unknown as Namespace)) as unknown as T;
    // The propagation policy is carried by finalizers the garbage collector acts on.
    const finalizersBefore = cur.finalizers ?? [];
    const finalizers = propagationFinalizers(finalizersBefore, req.propagationPolicy);
    if (finalizers !== finalizersBefore) {
      current = { ...current, metadata: { ...cur, finalizers } };
      if (cur.deletionTimestamp) {
        // Already being deleted: only the policy changes (the update deletes it if nothing holds it now).
        const { stored, revision } = await this.store.write(current);
        this.ctx.wrote(this.info, revision);
        return stored ?? current;
      }
    }
    if (this.info.kind === "Pod") {
      const graceful = await this.terminatePod(current as unknown as Pod, req.gracePeriodSeconds);
      if (graceful) return graceful as unknown as T;
      if (req.gracePeriodSeconds === 0 && finalizers.length === 0) {
        // Force: gone now, whatever its node agent is doing (it kills the containers on seeing it gone).
        this.ctx.wrote(this.info, await this.store.delete(namespace, req.name, Number(cur.resourceVersion)));
        return current;
      }
    }
    const result = await requestDeletion(this.store, current, this.ctx.now(), req.gracePeriodSeconds);
    this.ctx.wrote(this.info, result.revision);
    if (result.deleted) await this.ctx.serviceAddresses?.afterDelete(current);
    return result.object;
  }

  /**
   * A pod running on a node is deleted gracefully, as in Kubernetes: the gateway only stamps
   * deletionTimestamp and the grace period; the node agent stops the containers (SIGTERM, grace,
   * SIGKILL) and then deletes the Pod. Unbound or finished pods, and a grace period of 0 (force),
   * go at once. Returns undefined when the pod should be deleted now.
   */
  private async terminatePod(pod: Pod, gracePeriodSeconds: number | undefined): Promise<Pod | undefined> {
    const finished = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
    if (!pod.spec?.nodeName || finished || gracePeriodSeconds === 0) return undefined;
    if (pod.metadata!.deletionTimestamp) return pod;
    const grace = gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    const marked: Pod = {
      ...pod,
      metadata: { ...pod.metadata!, deletionTimestamp: timestamp(this.ctx.now()), deletionGracePeriodSeconds: grace },
    };
    const { stored, revision } = await this.ctx.store<Pod>(KINDS.Pod).write(marked);
    this.ctx.wrote(KINDS.Pod, revision);
    return stored ?? marked;
  }

  /** Namespaces go Terminating; the namespace controller empties them and then deletes them. */
  private async terminateNamespace(ns: Namespace): Promise<Namespace> {
    if (ns.metadata!.deletionTimestamp) return ns;
    const store = this.ctx.store<Namespace>(KINDS.Namespace);
    const marked: Namespace = {
      ...ns,
      metadata: { ...ns.metadata!, deletionTimestamp: timestamp(this.ctx.now()) },
      status: { ...ns.status!, phase: "Terminating", conditions: ns.status?.conditions ?? [] },
    };
    if ((ns.spec?.finalizers ?? []).length === 0 && (ns.metadata!.finalizers ?? []).length === 0) {
      this.ctx.wrote(KINDS.Namespace, await store.delete("", ns.metadata!.name, Number(ns.metadata!.resourceVersion)));
      return marked;
    }
    const { stored, revision } = await store.write(marked);
    this.ctx.wrote(KINDS.Namespace, revision);
    return stored ?? marked;
  }

  private checkKind(obj: T): void {
    if (obj.apiVersion && obj.apiVersion !== this.info.apiVersion) {
      throw InvalidError.at("apiVersion", `must be "${this.info.apiVersion}" for kind ${this.info.kind}, got ${JSON.stringify(clip(obj.apiVersion, 64))}`);
    }
    if (obj.kind && obj.kind !== this.info.kind) {
      throw InvalidError.at("kind", `must be "${this.info.kind}" for this service, got ${JSON.stringify(clip(obj.kind, 64))}`);
    }
    obj.apiVersion = this.info.apiVersion;
    obj.kind = this.info.kind;
  }

  private namespaceOf(namespace: string): string {
    return this.info.namespaced ? namespace || "default" : "";
  }

  private placeNamespace(meta: ObjectMeta): void {
    if (this.info.namespaced) meta.namespace ||= "default";
    else if (meta.namespace) {
      throw InvalidError.at("metadata.namespace", `not allowed on cluster-scoped kind ${this.info.kind}`);
    }
  }

  private async checkNamespaceOpen(name: string): Promise<void> {
    const namespaces = await this.ctx.fresh<Namespace>(KINDS.Namespace);
    const ns = namespaces.get("", name);
    if (!ns) throw new NotFoundError(`namespaces "${name}" not found`);
    if (ns.metadata!.deletionTimestamp) {
      throw new PreconditionError(`unable to create new content in namespace ${name} because it is being terminated`);
    }
  }

  private initialStatus(obj: T): void {
    if (!this.info.hasStatus) return;
    const o = obj as unknown as { status?: unknown };
    switch (this.info.kind) {
      case "Namespace":
        o.status = { phase: "Active", conditions: [] };
        break;
      case "Pod":
        o.status = KINDS.Pod.codec.fromPartial({ status: { phase: "Pending" } }).status;
        break;
      case "Node":
        break; // node agents register their nodes with the status they observe
      default:
        o.status = undefined;
    }
  }

  private refuse(errors: { path: string; message: string }[]): void {
    if (errors.length > 0) throw new InvalidError(errors);
  }

  private notFound(name: string): NotFoundError {
    return new NotFoundError(`${this.info.plural} "${name}" not found`);
  }

  /** NOT_FOUND, or DATA_LOSS when the key holds a value that cannot be decoded (it is not served). */
  private missing(informer: Informer<T>, key: string, name: string): Error {
    const bad = informer.undecodable(key);
    if (!bad) return this.notFound(name);
    return new CorruptError(
      `${this.info.plural} "${name}": the stored value (key "${bad.key}" in ${bad.bucket}, revision ${bad.revision}) cannot be decoded: ${bad.reason}; it is not served until it is replaced or deleted`,
    );
  }

  private async deleteUndecodable(namespace: string, name: string, revision: number): Promise<T> {
    this.ctx.wrote(this.info, await this.store.delete(namespace, name, revision));
    return this.info.codec.fromPartial({
      apiVersion: this.info.apiVersion,
      kind: this.info.kind,
      metadata: { name, namespace, resourceVersion: String(revision) },
    });
  }

  private conflict(name: string, rv: string, why = "is stale"): ConflictError {
    return new ConflictError(
      `Operation cannot be fulfilled on ${this.info.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again (resourceVersion ${rv} ${why})`,
    );
  }
}

/** Finalizers the garbage collector honours (services/replication/src/garbage-collector). */
export const FOREGROUND_DELETION_FINALIZER = "foregroundDeletion";
export const ORPHAN_FINALIZER = "orphan";

/**
 * The finalizers a delete with this propagation policy leaves, as Kubernetes does: Foreground
 * holds the object until the dependents that block it are gone; Orphan until the garbage
 * collector has removed the object from its dependents' ownerReferences; Background asks for
 * neither (dependents go after the object); no policy keeps what the object has. Returns the
 * same array when nothing changes.
 */
export function propagationFinalizers(finalizers: string[], policy: string): string[] {
  const want = policy === "Foreground" ? FOREGROUND_DELETION_FINALIZER : policy === "Orphan" ? ORPHAN_FINALIZER : undefined;
  if (policy === "") return finalizers;
  const rest = finalizers.filter((f) => f !== FOREGROUND_DELETION_FINALIZER && f !== ORPHAN_FINALIZER);
  const next = want ? [...rest, want] : rest;
  const same = next.length === finalizers.length && next.every((f) => finalizers.includes(f));
  return same ? finalizers : next;
}

/** An object's metadata; a create or update without it is refused (it was a TypeError, INTERNAL). */
function requireMetadata(obj: KubeObject): ObjectMeta {
  if (!obj.metadata) throw InvalidError.at("metadata", "Required value");
  return obj.metadata;
}

function specOf(obj: KubeObject): unknown {
  return (obj as { spec?: unknown }).spec;
}

function randomSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += GENERATED_SUFFIX_CHARS[Math.floor(Math.random() * GENERATED_SUFFIX_CHARS.length)];
  return s;
}

function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
