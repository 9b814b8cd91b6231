// The Endpoints of one Service, computed from the Service and the pods in its namespace (pure).
// As Kubernetes' endpoints controller:
//
// - only Services with a selector are managed; a selectorless Service's Endpoints are the user's;
// - a pod counts when it has an IP and is not terminal (Succeeded/Failed); a terminating pod
//   (deletionTimestamp) only with spec.publishNotReadyAddresses;
// - Ready pods (condition Ready=True) go to `addresses`, others to `notReadyAddresses`
//   (publishNotReadyAddresses puts every counted pod in `addresses`);
// - each Service port maps to a port per pod: a numeric targetPort as is, a named one looked up
//   in the pod's container ports (same protocol); a pod without it is left out of that port;
// - pods with the same resolved port set share one subset (Kubernetes' RepackSubsets);
// - the Endpoints is named like the Service, carries the Service's labels (plus
//   service.kubernetes.io/headless for headless Services) and no ownerReference; it is deleted
//   with the Service.
//
// Output is canonical (sorted), so an unchanged result compares equal and nothing is written.
import { EndpointSubset, KINDS, type EndpointAddress, type EndpointPort, type Endpoints, type Pod, type Service, type ServicePort } from "@navarch/api";

/** Marks the Endpoints this controller writes, so ones left behind by a deleted Service can be told from a user's. */
export const MANAGED_BY_ANNOTATION = "endpoints.navarch.dev/managed-by";
export const MANAGED_BY = "endpoints-controller";
/** Kubernetes' label on the Endpoints of a headless Service. */
export const HEADLESS_LABEL = "service.kubernetes.io/headless";

export type Plan =
  | { type: "none" }
  | { type: "create"; endpoints: Endpoints }
  /** `endpoints` carries the resourceVersion it replaces (compare-and-swap). */
  | { type: "update"; endpoints: Endpoints }
  | { type: "delete"; namespace: string; name: string; resourceVersion: string };

export interface Observed {
  /** The Endpoints stored under the Service's name, if any. */
  current: Endpoints | undefined;
  /** The pods of the Service's namespace (the caller may pass only those the selector matches). */
  pods: Pod[];
  /** This controller saw the Service's deletion: its Endpoints go even if a user wrote them. */
  serviceDeleted?: boolean;
}

export function reconcile(service: Service | undefined, observed: Observed): Plan {
  const current = observed.current;
  if (!service) {
    if (current && (isManaged(current) || observed.serviceDeleted)) {
      const m = current.metadata!;
      return { type: "delete", namespace: m.namespace, name: m.name, resourceVersion: m.resourceVersion };
    }
    return { type: "none" };
  }
  if (!isManagedService(service)) return { type: "none" };

  const subsets = desiredSubsets(service, observed.pods);
  const labels = endpointsLabels(service);
  if (!current) {
    const m = service.metadata!;
    return {
      type: "create",
      endpoints: KINDS.Endpoints.codec.fromPartial({
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: { name: m.name, namespace: m.namespace, labels, annotations: { [MANAGED_BY_ANNOTATION]: MANAGED_BY } },
        subsets,
      }),
    };
  }
  const meta = current.metadata!;
  const unchanged =
    isManaged(current) && sameJson(canonical(current.subsets), canonical(subsets)) && sameJson(sortedEntries(meta.labels), sortedEntries(labels));
  if (unchanged) return { type: "none" };
  return {
    type: "update",
    endpoints: {
      ...current,
      metadata: { ...meta, labels, annotations: { ...meta.annotations, [MANAGED_BY_ANNOTATION]: MANAGED_BY } },
      subsets,
    },
  };
}

/** Services whose Endpoints this controller writes: those with a selector, except ExternalName ones. */
export function isManagedService(service: Service): boolean {
  return service.spec?.type !== "ExternalName" && Object.keys(service.spec?.selector ?? {}).length > 0;
}

export function isManaged(endpoints: Endpoints): boolean {
  return endpoints.metadata?.annotations?.[MANAGED_BY_ANNOTATION] === MANAGED_BY;
}

/** Whether the Service's selector selects the pod (same namespace assumed). */
export function selects(service: Service, pod: Pod): boolean {
  const selector = service.spec?.selector ?? {};
  const labels = pod.metadata?.labels ?? {};
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** Kubernetes' ShouldPodBeInEndpoints. */
export function podCounts(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return false;
  if (!podIP(pod)) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

function podIP(pod: Pod): string {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || "";
}

/**
 * The container port a Service port reaches on this pod (Kubernetes' FindPort), or undefined
 * when the pod has no container port of that name and protocol.
 */
export function targetPortOf(servicePort: ServicePort, pod: Pod): number | undefined {
  const target = servicePort.targetPort === "" ? String(servicePort.port) : servicePort.targetPort;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol || "TCP";
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports) {
      if (p.name === target && (p.protocol || "TCP") === protocol) return p.containerPort;
    }
  }
  return undefined;
}

export function desiredSubsets(service: Service, pods: Pod[]): EndpointSubset[] {
  const spec = service.spec!;
  const publishNotReady = spec.publishNotReadyAddresses === true;
  const headless = spec.clusterIP === "None";
  // Pods grouped by their resolved port set.
  const groups = new Map<string, { ports: EndpointPort[]; addresses: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (!selects(service, pod) || !podCounts(pod, publishNotReady)) continue;
    const ports: EndpointPort[] = [];
    for (const sp of spec.ports) {
      const port = targetPortOf(sp, pod);
      if (port !== undefined) ports.push({ name: sp.name, port, protocol: sp.protocol || "TCP", appProtocol: sp.appProtocol });
    }
    // A pod that offers none of the ports is not an endpoint; a headless Service without ports lists its pods bare.
    if (ports.length === 0 && !(headless && spec.ports.length === 0)) continue;
    ports.sort(comparePorts);
    const key = ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(",");
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports, addresses: [], notReady: [] }));
    const address = addressOf(pod, service);
    if (publishNotReady || isPodReady(pod)) group.addresses.push(address);
    else group.notReady.push(address);
  }
  const subsets = [...groups.values()].map((g) => ({
    addresses: g.addresses.sort(compareAddresses),
    notReadyAddresses: g.notReady.sort(compareAddresses),
    ports: g.ports,
  }));
  return subsets.sort(compareSubsets);
}

function addressOf(pod: Pod, service: Service): EndpointAddress {
  const m = pod.metadata!;
  // Kubernetes' ShouldSetHostname: the pod asked to be <hostname>.<service> in DNS.
  const hostname = pod.spec?.hostname && pod.spec.subdomain === service.metadata!.name ? pod.spec.hostname : "";
  return {
    ip: podIP(pod),
    hostname,
    nodeName: pod.spec?.nodeName ?? "",
    targetRef: { kind: "Pod", namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: "", resourceVersion: "", fieldPath: "" },
  };
}

function endpointsLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...service.metadata?.labels };
  if (service.spec?.clusterIP === "None") labels[HEADLESS_LABEL] = "";
  else delete labels[HEADLESS_LABEL];
  return labels;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return a.name.localeCompare(b.name) || a.port - b.port || a.protocol.localeCompare(b.protocol);
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return compareIPs(a.ip, b.ip) || (a.targetRef?.uid ?? "").localeCompare(b.targetRef?.uid ?? "");
}

function compareIPs(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function compareSubsets(a: EndpointSubset, b: EndpointSubset): number {
  const pa = a.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(",");
  const pb = b.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(",");
  return pa.localeCompare(pb);
}

function sortedEntries(m: Record<string, string> | undefined): [string, string][] {
  return Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** Field order and left-out defaults do not matter: compare the JSON the codec writes. */
function canonical(subsets: EndpointSubset[]): unknown[] {
  return subsets.map((s) => EndpointSubset.toJSON(s));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
