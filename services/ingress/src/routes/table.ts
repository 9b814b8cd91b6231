// The route table: every served Ingress, Service and Endpoints folded into one immutable value that
// the proxy reads per request (match.ts). It is rebuilt whole when something it depends on
// changes and swapped in one assignment, so a request sees either the old table or the new one,
// never half of each, and requests in flight keep the backend they already chose.
//
// Merging Ingresses (as ingress-nginx does): rules of every served Ingress are grouped by host;
// when two name the same host, path and path type, the older Ingress (creationTimestamp, then
// namespace/name) wins, and within one Ingress the first path listed. Each host gets the
// defaultBackend of the oldest Ingress that has rules for it and one; an Ingress with a
// defaultBackend and no rules gives the default for requests no host takes.
import type { Endpoints, Ingress, IngressBackend, Service } from "@navarch/api";

export type PathType = "Exact" | "Prefix";

/** One pod address a backend may send to. */
export interface Address {
  ip: string;
  port: number;
}

/** A Service port as an Ingress names it, resolved to its ready endpoints. */
export interface Backend {
  /** "<namespace>/<service>:<port>", the port as the Ingress wrote it (number or name). */
  readonly id: string;
  readonly namespace: string;
  readonly service: string;
  /** READY pod addresses, sorted; requests are round-robined over them. */
  readonly addresses: readonly Address[];
  /** Why there are no addresses (the 503's reason, for logs and describe). */
  readonly unavailable?: string | undefined;
}

export interface PathRoute {
  readonly path: string;
  readonly pathType: PathType;
  readonly backend: Backend;
  /** "<namespace>/<name>" of the Ingress it came from. */
  readonly ingress: string;
}

export interface HostRoutes {
  /** Longest path first; of equal length Exact before Prefix (the first match wins). */
  readonly paths: readonly PathRoute[];
  readonly defaultBackend?: Backend | undefined;
}

export interface RouteTable {
  readonly exact: ReadonlyMap<string, HostRoutes>;
  /** "*.example.com" rules under "example.com". */
  readonly wildcard: ReadonlyMap<string, HostRoutes>;
  /** Rules without a host: requests whose host no other rule names. */
  readonly anyHost?: HostRoutes | undefined;
  readonly defaultBackend?: Backend | undefined;
  /** "<namespace>/<name>" of the Services the table read: only their changes need a rebuild. */
  readonly services: ReadonlySet<string>;
  /** "<namespace>/<name>" of the Ingresses served. */
  readonly ingresses: readonly string[];
}

export const EMPTY_TABLE: RouteTable = { exact: new Map(), wildcard: new Map(), services: new Set(), ingresses: [] };

export const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

/**
 * Whether this controller serves the Ingress: its spec.ingressClassName is ours, or it has none
 * (there is no IngressClass kind to pick a default from, so a classless Ingress is ours) and no
 * legacy class annotation naming another controller.
 */
export function isServed(ing: Ingress | undefined, ingressClass: string): boolean {
  if (!ing) return false;
  const cls = ing.spec?.ingressClassName ?? "";
  if (cls !== "") return cls === ingressClass;
  const legacy = ing.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION] ?? "";
  return legacy === "" || legacy === ingressClass;
}

export interface TableInputs {
  /** Every Ingress (the builder keeps the served ones). */
  ingresses: readonly Ingress[];
  service(namespace: string, name: string): Service | undefined;
  endpoints(namespace: string, name: string): Endpoints | undefined;
  ingressClass: string;
}

export function buildRouteTable(inputs: TableInputs): RouteTable {
  const served = inputs.ingresses.filter((i) => isServed(i, inputs.ingressClass)).sort(olderFirst);
  const services = new Set<string>();
  const backends = new Map<string, Backend>();
  const backendOf = (namespace: string, b: IngressBackend): Backend => {
    const name = b.service?.name ?? "";
    const port = b.service?.port?.name || String(b.service?.port?.number ?? 0);
    const id = `${namespace}/${name}:${port}`;
    let backend = backends.get(id);
    if (!backend) {
      services.add(`${namespace}/${name}`);
      backend = resolveBackend(id, namespace, b, inputs);
      backends.set(id, backend);
    }
    return backend;
  };

  interface Building {
    paths: PathRoute[];
    seen: Set<string>;
    defaultBackend?: Backend;
  }
  const exact = new Map<string, Building>();
  const wildcard = new Map<string, Building>();
  let anyHost: Building | undefined;
  let defaultBackend: Backend | undefined;

  for (const ing of served) {
    const ns = ing.metadata?.namespace ?? "";
    const ingressName = `${ns}/${ing.metadata?.name ?? ""}`;
    const spec = ing.spec;
    const rules = spec?.rules ?? [];
    const ownDefault = spec?.defaultBackend?.service ? backendOf(ns, spec.defaultBackend) : undefined;
    if (rules.length === 0) {
      defaultBackend ??= ownDefault;
      continue;
    }
    for (const rule of rules) {
      const host = rule.host.toLowerCase();
      let group: Building;
      if (host === "") group = anyHost ??= { paths: [], seen: new Set() };
      else {
        const [map, key] = host.startsWith("*.") ? [wildcard, host.slice(2)] : [exact, host];
        let g = map.get(key);
        if (!g) map.set(key, (g = { paths: [], seen: new Set() }));
        group = g;
      }
      group.defaultBackend ??= ownDefault;
      for (const p of rule.http?.paths ?? []) {
        if (!p.backend?.service) continue;
        const pathType: PathType = p.pathType === "Exact" ? "Exact" : "Prefix"; // ImplementationSpecific is Prefix here
        const path = p.path === "" ? "/" : p.path;
        const seenKey = `${pathType} ${path}`;
        if (group.seen.has(seenKey)) continue; // an older Ingress (or an earlier path) has it
        group.seen.add(seenKey);
        group.paths.push({ path, pathType, backend: backendOf(ns, p.backend), ingress: ingressName });
      }
    }
  }

  const finish = (g: Building): HostRoutes => ({ paths: [...g.paths].sort(longestFirst), defaultBackend: g.defaultBackend });
  const finishAll = (m: Map<string, Building>) => new Map([...m].map(([k, g]) => [k, finish(g)]));
  return {
    exact: finishAll(exact),
    wildcard: finishAll(wildcard),
    anyHost: anyHost ? finish(anyHost) : undefined,
    defaultBackend,
    services,
    ingresses: served.map((i) => `${i.metadata?.namespace ?? ""}/${i.metadata?.name ?? ""}`),
  };
}

function olderFirst(a: Ingress, b: Ingress): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? "") || 0;
  if (ta !== tb) return ta - tb;
  const ka = `${a.metadata?.namespace ?? ""}/${a.metadata?.name ?? ""}`;
  const kb = `${b.metadata?.namespace ?? ""}/${b.metadata?.name ?? ""}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function longestFirst(a: PathRoute, b: PathRoute): number {
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  if (a.pathType !== b.pathType) return a.pathType === "Exact" ? -1 : 1;
  return 0; // stable sort keeps the merge order
}

/**
 * The Service port the Ingress names (by number: the Service's `port`; by name: its `name`),
 * then that port's ready addresses in the Service's Endpoints, with the pods' target port.
 */
export function resolveBackend(id: string, namespace: string, b: IngressBackend, inputs: Pick<TableInputs, "service" | "endpoints">): Backend {
  const name = b.service?.name ?? "";
  const base = { id, namespace, service: name };
  const none = (why: string): Backend => ({ ...base, addresses: [], unavailable: why });
  const svc = inputs.service(namespace, name);
  if (!svc) return none(`service ${namespace}/${name} does not exist`);
  if (svc.spec?.type === "ExternalName") return none(`service ${namespace}/${name} is an ExternalName service`);
  const want = b.service?.port;
  const port = (svc.spec?.ports ?? []).find((p) => (want?.name ? p.name === want.name : p.port === want?.number));
  if (!port) return none(`service ${namespace}/${name} has no port ${want?.name || want?.number}`);
  if ((port.protocol || "TCP") !== "TCP") return none(`service ${namespace}/${name} port ${want?.name || want?.number} is not TCP`);
  const addresses = new Map<string, Address>();
  for (const subset of inputs.endpoints(namespace, name)?.subsets ?? []) {
    const ep = subset.ports.find((p) => p.name === port.name && (p.protocol || "TCP") === "TCP");
    if (!ep) continue;
    for (const a of subset.addresses) addresses.set(`${a.ip}:${ep.port}`, { ip: a.ip, port: ep.port });
  }
  if (addresses.size === 0) return none(`service ${namespace}/${name} has no ready endpoints`);
  const sorted = [...addresses].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, a]) => a);
  return { ...base, addresses: sorted };
}
