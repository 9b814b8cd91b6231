// Builders for the cluster DNS tests: Services and Endpoints as the API stores them.
import { KINDS, type Endpoints, type Service } from "@navarch/api";
import type { ClusterView } from "./records.js";

export function service(
  namespace: string,
  name: string,
  spec: { clusterIP?: string; clusterIPs?: string[]; type?: string; externalName?: string; ports?: { name?: string; port: number; protocol?: string }[] } = {},
): Service {
  const clusterIP = spec.clusterIP ?? "";
  return KINDS.Service.codec.fromPartial({
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace, name },
    spec: {
      clusterIP,
      clusterIPs: spec.clusterIPs ?? (clusterIP && clusterIP !== "None" ? [clusterIP] : []),
      type: spec.type ?? "ClusterIP",
      externalName: spec.externalName ?? "",
      ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? "", port: p.port, targetPort: String(p.port), protocol: p.protocol ?? "TCP" })),
    },
  }) as Service;
}

export interface AddressSpec {
  ip: string;
  hostname?: string;
}

export function endpoints(
  namespace: string,
  name: string,
  subsets: { ready?: (string | AddressSpec)[]; notReady?: (string | AddressSpec)[]; ports?: { name?: string; port: number; protocol?: string }[] }[],
): Endpoints {
  const address = (a: string | AddressSpec) => (typeof a === "string" ? { ip: a } : { ip: a.ip, hostname: a.hostname ?? "" });
  return KINDS.Endpoints.codec.fromPartial({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { namespace, name },
    subsets: subsets.map((s) => ({
      addresses: (s.ready ?? []).map(address),
      notReadyAddresses: (s.notReady ?? []).map(address),
      ports: (s.ports ?? []).map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" })),
    })),
  }) as Endpoints;
}

/** A ClusterView over fixed lists. */
export function viewOf(services: Service[], endpointsList: Endpoints[] = []): ClusterView {
  const key = (o: Service | Endpoints) => `${o.metadata!.namespace}/${o.metadata!.name}`;
  const byService = new Map(services.map((s) => [key(s), s]));
  const byEndpoints = new Map(endpointsList.map((e) => [key(e), e]));
  return {
    service: (namespace, name) => byService.get(`${namespace}/${name}`),
    endpoints: (namespace, name) => byEndpoints.get(`${namespace}/${name}`),
    hasServices: (namespace) => services.some((s) => s.metadata!.namespace === namespace),
  };
}
