// Small promise wrappers over the generated callback-style gRPC clients from @navarch/api.
import * as grpc from "@grpc/grpc-js";
import { GetRequest, KINDS, ListRequest, type ConfigMap, type KindInfo, type KubeObject } from "@navarch/api";
import { GRPC_CLIENT_OPTIONS, type LocalCluster } from "./cluster.js";

const CALL_TIMEOUT_MS = 10_000;

/** A client of one kind's service; close() it when done. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function client(cluster: LocalCluster, kind: KindInfo<any>): grpc.Client & Record<string, any> {
  return new kind.client(cluster.apiAddr, grpc.credentials.createInsecure(), GRPC_CLIENT_OPTIONS);
}

/** Calls a unary method with a deadline; rejects with the grpc.ServiceError. */
export function call<T>(c: grpc.Client & Record<string, any>, method: string, request: unknown, md: grpc.Metadata): Promise<T> {
  return new Promise((resolve, reject) => {
    c[method](request, md, { deadline: Date.now() + CALL_TIMEOUT_MS }, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** Get of one object (requests go through fromPartial: ts-proto encoders need every field set). */
export function get<T>(c: grpc.Client & Record<string, any>, name: string, namespace: string, md: grpc.Metadata): Promise<T> {
  return call<T>(c, "get", GetRequest.fromPartial({ name, namespace }), md);
}

/** List of every object in a namespace ("" for all or for cluster-scoped kinds), in one page. */
export function list<T>(c: grpc.Client & Record<string, any>, namespace: string, md: grpc.Metadata): Promise<{ items: T[] }> {
  return call<{ items: T[] }>(c, "list", ListRequest.fromPartial({ namespace }), md);
}

export function configMap(name: string, data: Record<string, string>, namespace = "default"): ConfigMap {
  return KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data });
}

export function metaOf(o: KubeObject): { uid: string; resourceVersion: string } {
  return { uid: o.metadata!.uid, resourceVersion: o.metadata!.resourceVersion };
}
