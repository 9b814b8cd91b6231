// Builders for the service proxy's tests: Services and Endpoints as the API stores them.
import { KINDS, type Endpoints, type Service } from "@navarch/api";

export interface PortSpec {
  name?: string;
  port: number;
  targetPort?: string;
  protocol?: string;
  nodePort?: number;
}

export function service(
  namespace: string,
  name: string,
  spec: { clusterIP: string; type?: string; sessionAffinity?: string; ports: PortSpec[]; selector?: Record<string, string> },
): Service {
  return KINDS.Service.codec.fromPartial({
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace, name },
    spec: {
      clusterIP: spec.clusterIP,
      type: spec.type ?? "ClusterIP",
      sessionAffinity: spec.sessionAffinity ?? "None",
      selector: spec.selector ?? {},
      ports: spec.ports.map((p) => ({ name: p.name ?? "", port: p.port, targetPort: p.targetPort ?? String(p.port), protocol: p.protocol ?? "TCP", nodePort: p.nodePort })),
    },
  }) as Service;
}

export interface SubsetSpec {
  ready?: string[];
  notReady?: string[];
  ports: { name?: string; port: number; protocol?: string }[];
}

export function endpoints(namespace: string, name: string, subsets: SubsetSpec[]): Endpoints {
  return KINDS.Endpoints.codec.fromPartial({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { namespace, name },
    subsets: subsets.map((s) => ({
      addresses: (s.ready ?? []).map((ip) => ({ ip })),
      notReadyAddresses: (s.notReady ?? []).map((ip) => ({ ip })),
      ports: s.ports.map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" })),
    })),
  }) as Endpoints;
}

/** endpointsOf() for reconcile over a list. */
export function lookup(list: Endpoints[]): (namespace: string, name: string) => Endpoints | undefined {
  const byKey = new Map(list.map((e) => [`${e.metadata!.namespace}/${e.metadata!.name}`, e]));
  return (namespace, name) => byKey.get(`${namespace}/${name}`);
}
