// An in-memory gRPC server speaking the Navarch API, for navctl's own tests only: it lets the CLI
// be run end to end (auth metadata, statuses, paging, compare-and-swap, watch) without the real
// gateway. It is deliberately simple and is no model of the real server's validation.
import * as grpc from "@grpc/grpc-js";
import { IDEMPOTENCY_KEY_HEADER } from "../connection.js";
import {
  ALL_KINDS,
  DiscoveryServiceService,
  matches,
  parseSelector,
  type KindInfo,
  type KubeObject,
} from "@navarch/api";

interface Stored {
  info: KindInfo;
  object: KubeObject;
  /** The idempotency-key of the Create that stored it. */
  createKey?: string;
}

interface WatchEvent {
  rv: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  info: KindInfo;
  object: KubeObject;
}

export interface FakeServer {
  address: string;
  token: string;
  /** Objects by "Kind/namespace/name". */
  objects: Map<string, Stored>;
  /** Inserts an object as the server would store it. */
  seed(info: KindInfo, object: KubeObject): KubeObject;
  /** How many List calls were made (paging tests). */
  listCalls: number;
  /** The idempotency-key of every Create call, in order ("" for none). */
  createKeys: string[];
  /** While > 0, a Create is stored but answered UNAVAILABLE (a gateway dying after the write). */
  loseCreateReplies: number;
  /**
   * A refusal the real server could give that this one cannot produce by itself (a permission
   * check, a conflict that persists): returning a status fails that create or update with it.
   */
  refuse?: ((method: "create" | "update", info: KindInfo, object: KubeObject) => { code: grpc.status; details: string } | undefined) | undefined;
  /** Refuses the next `count` calls and watch starts as the gateway's rate limit does. */
  limitRefusals: { count: number; retryAfterMs: number; watchesOnly?: boolean };
  /** Ends every open watch as the gateway cuts off a slow watcher (OUT_OF_RANGE). */
  cutOffWatches(): void;
  stop(): Promise<void>;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

function fail(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** As the real server: a Secret's stringData is merged into data and not stored. */
function foldStringData(info: KindInfo, o: KubeObject): void {
  if (info.kind !== "Secret") return;
  const s = o as unknown as { data: Record<string, Uint8Array>; stringData: Record<string, string> };
  for (const [k, v] of Object.entries(s.stringData ?? {})) (s.data ??= {})[k] = Buffer.from(v, "utf8");
  s.stringData = {};
}

export async function startFakeServer(token = "test-token"): Promise<FakeServer> {
  const server = new grpc.Server();
  const objects = new Map<string, Stored>();
  const history: WatchEvent[] = [];
  const watchers = new Set<(ev: WatchEvent) => void>();
  let rv = 100;
  let uid = 0;

  const key = (info: KindInfo, ns: string, name: string) => `${info.kind}/${info.namespaced ? ns || "default" : ""}/${name}`;
  const authorized = (call: { metadata: grpc.Metadata }) => call.metadata.get("authorization")[0] === `Bearer ${token}`;
  const emit = (type: WatchEvent["type"], info: KindInfo, object: KubeObject) => {
    const ev = { rv, type, info, object };
    history.push(ev);
    for (const w of watchers) w(ev);
  };

  const openWatches = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  /** The gateway's refusal by a limit: RESOURCE_EXHAUSTED with a retry-after-ms trailer. */
  const refusedByLimit = (watch: boolean): grpc.ServiceError | undefined => {
    const r = fake.limitRefusals;
    if (r.count <= 0 || (r.watchesOnly && !watch)) return undefined;
    r.count--;
    const err = fail(grpc.status.RESOURCE_EXHAUSTED, `too many requests from user "tester": more than 1 per second (burst 1); retry after ${r.retryAfterMs} ms`);
    err.metadata.set("retry-after-ms", String(r.retryAfterMs));
    return err;
  };
  const fake: FakeServer = {
    address: "",
    token,
    objects,
    listCalls: 0,
    createKeys: [],
    loseCreateReplies: 0,
    limitRefusals: { count: 0, retryAfterMs: 0 },
    cutOffWatches() {
      for (const call of openWatches) call.emit("error", fail(grpc.status.OUT_OF_RANGE, "watch cut off: its client is too slow; list again"));
      openWatches.clear();
    },
    seed(info, object) {
      const o = info.codec.fromPartial(object) as KubeObject;
      const m = o.metadata!;
      if (info.namespaced) m.namespace ||= "default";
      m.uid = `uid-${++uid}`;
      m.resourceVersion = String(++rv);
      m.creationTimestamp ||= now();
      objects.set(key(info, m.namespace, m.name), { info, object: o });
      emit("ADDED", info, o);
      return o;
    },
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };

  const refused = (method: "create" | "update", info: KindInfo, o: KubeObject) => {
    const r = fake.refuse?.(method, info, o);
    if (r) throw fail(r.code, r.details);
  };

  const selectorMatch = (info: KindInfo, o: KubeObject, ns: string, labelSelector: string, fieldSelector: string) => {
    if (info.namespaced && ns && o.metadata?.namespace !== ns) return false;
    if (!matches(parseSelector(labelSelector), o.metadata?.labels)) return false;
    for (const term of fieldSelector.split(",").filter(Boolean)) {
      const [field, value] = term.split("=");
      if (field === "metadata.name" && o.metadata?.name !== value) return false;
      if (field === "metadata.namespace" && o.metadata?.namespace !== value) return false;
    }
    return true;
  };

  for (const info of ALL_KINDS) {
    type Unary = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
    const guarded = (fn: (req: any, md: grpc.Metadata) => unknown): Unary => // eslint-disable-line @typescript-eslint/no-explicit-any
      (call, cb) => {
        if (!authorized(call)) return cb(fail(grpc.status.UNAUTHENTICATED, "invalid or missing token"));
        const refusal = refusedByLimit(false);
        if (refusal) return cb(refusal);
        try {
          cb(null, fn(call.request, call.metadata));
        } catch (err) {
          cb(err as grpc.ServiceError);
        }
      };
    const notFound = (name: string) => fail(grpc.status.NOT_FOUND, `${info.plural} "${name}" not found`);
    server.addService(info.service, {
      create: guarded((o: KubeObject, md: grpc.Metadata) => {
        refused("create", info, o);
        const m = o.metadata;
        if (!m?.name) throw fail(grpc.status.INVALID_ARGUMENT, "metadata.name: required");
        if (info.namespaced) m.namespace ||= "default";
        // The gateway's idempotency protocol, reduced: a key seen before answers with its object.
        const idemKey = String(md.get(IDEMPOTENCY_KEY_HEADER)[0] ?? "");
        fake.createKeys.push(idemKey);
        const prior = objects.get(key(info, m.namespace, m.name));
        const answer = (o: KubeObject) => {
          if (fake.loseCreateReplies > 0) {
            fake.loseCreateReplies--;
            throw fail(grpc.status.UNAVAILABLE, "Connection dropped");
          }
          return o;
        };
        if (prior && idemKey && prior.createKey === idemKey) return answer(prior.object);
        if (prior) throw fail(grpc.status.ALREADY_EXISTS, `${info.plural} "${m.name}" already exists`);
        if ((info.kind === "Service") && !(o as unknown as { spec?: { clusterIP?: string } }).spec?.clusterIP) {
          (o as unknown as { spec: { clusterIP: string } }).spec.clusterIP = "10.96.0.10"; // a server default
        }
        foldStringData(info, o);
        const stored = fake.seed(info, o);
        objects.get(key(info, m.namespace, m.name))!.createKey = idemKey;
        return answer(stored);
      }),
      get: guarded((req: { namespace: string; name: string }) => {
        const s = objects.get(key(info, req.namespace, req.name));
        if (!s) throw notFound(req.name);
        return s.object;
      }),
      list: guarded((req: { namespace: string; labelSelector: string; fieldSelector: string; limit: number; continue: string }) => {
        fake.listCalls++;
        const all = [...objects.values()]
          .filter((s) => s.info === info && selectorMatch(info, s.object, req.namespace, req.labelSelector, req.fieldSelector))
          .map((s) => s.object)
          .sort((a, b) => key(info, a.metadata!.namespace, a.metadata!.name).localeCompare(key(info, b.metadata!.namespace, b.metadata!.name)));
        const start = req.continue ? Number(req.continue) : 0;
        const end = req.limit > 0 ? start + req.limit : all.length;
        return {
          apiVersion: info.apiVersion,
          kind: `${info.kind}List`,
          metadata: { resourceVersion: String(rv), continue: end < all.length ? String(end) : "" },
          items: all.slice(start, end),
        };
      }),
      update: guarded((o: KubeObject) => {
        refused("update", info, o);
        const m = o.metadata!;
        const k = key(info, m.namespace, m.name);
        const s = objects.get(k);
        if (!s) throw notFound(m.name);
        if (m.resourceVersion && m.resourceVersion !== s.object.metadata!.resourceVersion) {
          throw fail(grpc.status.ABORTED, "the object has been modified; please apply your changes to the latest version and try again");
        }
        foldStringData(info, o);
        m.uid = s.object.metadata!.uid;
        m.creationTimestamp = s.object.metadata!.creationTimestamp;
        m.resourceVersion = String(++rv);
        if (info.namespaced) m.namespace ||= "default";
        s.object = o;
        emit("MODIFIED", info, o);
        return o;
      }),
      delete: guarded((req: { namespace: string; name: string }) => {
        const k = key(info, req.namespace, req.name);
        const s = objects.get(k);
        if (!s) throw notFound(req.name);
        objects.delete(k);
        rv++;
        emit("DELETED", info, s.object);
        return s.object;
      }),
      watch: (call: grpc.ServerWritableStream<{ namespace: string; labelSelector: string; fieldSelector: string; resourceVersion: string }, unknown>) => {
        if (!authorized(call)) {
          call.emit("error", fail(grpc.status.UNAUTHENTICATED, "invalid or missing token"));
          return;
        }
        const refusal = refusedByLimit(true);
        if (refusal) {
          call.emit("error", refusal);
          return;
        }
        const req = call.request;
        const send = (ev: WatchEvent) => {
          if (ev.info === info && selectorMatch(info, ev.object, req.namespace, req.labelSelector, req.fieldSelector)) {
            call.write({ type: ev.type, object: ev.object });
          }
        };
        if (req.resourceVersion) {
          const from = Number(req.resourceVersion);
          for (const ev of history) if (ev.rv > from) send(ev);
        } else {
          for (const s of objects.values()) send({ rv, type: "ADDED", info: s.info, object: s.object });
        }
        watchers.add(send);
        const open = call as grpc.ServerWritableStream<unknown, unknown>;
        openWatches.add(open);
        const gone = () => {
          watchers.delete(send);
          openWatches.delete(open);
        };
        call.on("cancelled", gone);
        call.on("error", gone);
      },
    });
  }

  server.addService(DiscoveryServiceService, {
    getVersion: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      authorized(call)
        ? cb(null, { version: "v0.1.0-fake", gitCommit: "", platform: "linux/amd64", natsServerVersion: "2.9.10", clusterId: "5b0e8c1e-3f0a-4d7e-9a51-2c6f1d9e7b42" })
        : cb(fail(grpc.status.UNAUTHENTICATED, "invalid or missing token")),
    listApiResources: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      authorized(call)
        ? cb(null, {
            resources: ALL_KINDS.map((k) => ({
              name: k.plural,
              singularName: k.singular,
              shortNames: k.shortNames,
              apiVersion: k.apiVersion,
              kind: k.kind,
              namespaced: k.namespaced,
              verbs: ["create", "delete", "get", "list", "update", "watch"],
            })),
          })
        : cb(fail(grpc.status.UNAUTHENTICATED, "invalid or missing token")),
    whoAmI: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      authorized(call)
        ? cb(null, { username: "admin", groups: ["system:masters", "system:authenticated"] })
        : cb(fail(grpc.status.UNAUTHENTICATED, "invalid or missing token")),
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  fake.address = `127.0.0.1:${port}`;
  return fake;
}
