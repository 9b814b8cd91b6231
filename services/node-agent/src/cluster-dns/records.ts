// Cluster DNS names -> records, after Kubernetes' DNS specification for Services. Pure: a question
// plus what the informers hold gives an answer, so every rule is a table test (records.test.ts).
//
//   SVC.NS.svc.DOMAIN               A     the ClusterIP; for a headless Service the ready pod IPs
//                                   CNAME the externalName of an ExternalName Service
//   HOST.SVC.NS.svc.DOMAIN          A     a ready endpoint of a headless Service whose hostname is
//                                         HOST, or whose IP is HOST with dashes (10-1-2-3)
//   _PORT._PROTO.SVC.NS.svc.DOMAIN  SRV   the Service's port named PORT (per ready endpoint when
//                                         headless), with the targets' A records as additionals
//
// A name in the domain that names nothing is NXDOMAIN; a name that exists without records of the
// asked type (AAAA of an IPv4 service, NS.svc.DOMAIN) is NOERROR with no answer. Both carry the
// zone's SOA in the authority section, whose minimum bounds how long resolvers cache the miss.
// Names outside the domain are not ours: the server forwards or refuses them.
import type { Endpoints, Service } from "@navarch/api";
import type { Answer, Question } from "dns-packet";
import { isIP } from "node:net";

/** TTL of every record (CoreDNS' default for Kubernetes answers): changes show within seconds. */
export const TTL_SECONDS = 5;

/** What the resolver needs from the informers. */
export interface ClusterView {
  service(namespace: string, name: string): Service | undefined;
  endpoints(namespace: string, name: string): Endpoints | undefined;
  /** NS.svc.DOMAIN exists while the namespace has a Service. */
  hasServices(namespace: string): boolean;
}

export type Resolution =
  | { outside: true }
  | { outside: false; rcode: "NOERROR" | "NXDOMAIN"; answers: Answer[]; authorities: Answer[]; additionals: Answer[] };

type Found = Extract<Resolution, { outside: false }>;

export function resolve(question: Question, view: ClusterView, domain: string): Resolution {
  const zone = trimDot(domain).toLowerCase();
  const name = trimDot(question.name);
  const lower = name.toLowerCase();
  if (lower !== zone && !lower.endsWith(`.${zone}`)) return { outside: true };
  const soa = soaRecord(zone);
  const nxdomain: Found = { outside: false, rcode: "NXDOMAIN", answers: [], authorities: [soa], additionals: [] };
  const nodata: Found = { outside: false, rcode: "NOERROR", answers: [], authorities: [soa], additionals: [] };
  const answer = (answers: Answer[], additionals: Answer[] = []): Found =>
    answers.length ? { outside: false, rcode: "NOERROR", answers, authorities: [], additionals } : nodata;

  // Labels left of the zone, innermost first: "web.default.svc" -> ["svc", "default", "web"].
  const labels = lower === zone ? [] : lower.slice(0, -zone.length - 1).split(".").reverse();
  if (labels.length === 0) {
    if (question.type === "SOA") return answer([{ ...soa, name }]);
    if (question.type === "NS") return answer([{ type: "NS", name, ttl: TTL_SECONDS, data: nameServer(zone) }]);
    return nodata;
  }
  if (labels[0] !== "svc") return nxdomain;
  const [, namespace, serviceName, ...rest] = labels;
  if (namespace === undefined) return nodata; // svc.DOMAIN
  if (serviceName === undefined) return view.hasServices(namespace) ? nodata : nxdomain;
  const service = view.service(namespace, serviceName);
  if (!service) return nxdomain;
  const serviceFqdn = `${serviceName}.${namespace}.svc.${zone}`;

  if (rest.length === 0) {
    const spec = service.spec;
    if (spec?.type === "ExternalName") {
      return spec.externalName ? answer([{ type: "CNAME", name, ttl: TTL_SECONDS, data: trimDot(spec.externalName) }]) : nodata;
    }
    const ips = isHeadless(service) ? readyAddresses(view.endpoints(namespace, serviceName)).map((a) => a.ip) : clusterIPs(service);
    return answer(addressRecords(name, question.type, ips));
  }

  if (rest.length === 1) {
    // HOST.SVC.NS.svc.DOMAIN: one endpoint of a headless Service.
    if (!isHeadless(service)) return nxdomain;
    const host = rest[0]!;
    const ips = readyAddresses(view.endpoints(namespace, serviceName))
      .filter((a) => a.hostname === host || dashed(a.ip) === host)
      .map((a) => a.ip);
    if (ips.length === 0) return nxdomain;
    return answer(addressRecords(name, question.type, ips));
  }

  if (rest.length === 2) {
    // _PORT._PROTO.SVC.NS.svc.DOMAIN (innermost first: rest = [_proto, _port]).
    const [proto, port] = rest as [string, string];
    if (!proto.startsWith("_") || !port.startsWith("_")) return nxdomain;
    const servicePort = service.spec?.ports.find(
      (p) => p.name.toLowerCase() === port.slice(1) && (p.protocol || "TCP").toLowerCase() === proto.slice(1),
    );
    if (!servicePort || service.spec?.type === "ExternalName") return nxdomain;
    if (question.type !== "SRV") return nodata;
    if (!isHeadless(service)) {
      const srv: Answer = { type: "SRV", name, ttl: TTL_SECONDS, data: { priority: 0, weight: 100, port: servicePort.port, target: serviceFqdn } };
      return answer([srv], addressRecords(serviceFqdn, "A", clusterIPs(service)));
    }
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    for (const subset of view.endpoints(namespace, serviceName)?.subsets ?? []) {
      const endpointPort = subset.ports.find((p) => p.name === servicePort.name && (p.protocol || "TCP") === (servicePort.protocol || "TCP"));
      if (!endpointPort) continue;
      for (const a of subset.addresses) {
        const target = `${a.hostname || dashed(a.ip)}.${serviceFqdn}`;
        answers.push({ type: "SRV", name, ttl: TTL_SECONDS, data: { priority: 0, weight: 100, port: endpointPort.port, target } });
        additionals.push(...addressRecords(target, "A", [a.ip]), ...addressRecords(target, "AAAA", [a.ip]));
      }
    }
    return answer(answers, additionals);
  }
  return nxdomain;
}

export function soaRecord(zone: string): Answer {
  return {
    type: "SOA",
    name: zone,
    ttl: TTL_SECONDS,
    data: { mname: nameServer(zone), rname: `hostmaster.${zone}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL_SECONDS },
  };
}

function nameServer(zone: string): string {
  return `ns.dns.${zone}`;
}

function isHeadless(service: Service): boolean {
  return service.spec?.clusterIP === "None";
}

function clusterIPs(service: Service): string[] {
  const ips = service.spec?.clusterIPs.length ? service.spec.clusterIPs : [service.spec?.clusterIP ?? ""];
  return ips.filter((ip) => isIP(ip) !== 0);
}

/** The ready addresses of all subsets, one per IP (a pod in several subsets is one address). */
function readyAddresses(endpoints: Endpoints | undefined): { ip: string; hostname: string }[] {
  const seen = new Map<string, { ip: string; hostname: string }>();
  for (const subset of endpoints?.subsets ?? []) {
    for (const a of subset.addresses) if (isIP(a.ip) !== 0 && !seen.has(a.ip)) seen.set(a.ip, { ip: a.ip, hostname: a.hostname });
  }
  return [...seen.values()];
}

/** A and AAAA records of `ips` that fit the asked type (ANY gets both). */
function addressRecords(name: string, type: Question["type"] | "ANY", ips: string[]): Answer[] {
  const out: Answer[] = [];
  for (const ip of ips) {
    const family = isIP(ip);
    if (family === 4 && (type === "A" || type === "ANY")) out.push({ type: "A", name, ttl: TTL_SECONDS, data: ip });
    if (family === 6 && (type === "AAAA" || type === "ANY")) out.push({ type: "AAAA", name, ttl: TTL_SECONDS, data: ip });
  }
  return out;
}

/** 10.1.2.3 -> 10-1-2-3, the label Kubernetes gives an endpoint without a hostname. */
function dashed(ip: string): string {
  return ip.replace(/[.:]/g, "-");
}

function trimDot(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}
