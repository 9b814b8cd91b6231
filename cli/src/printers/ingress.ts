// Ingresses in `navctl get` (NAME CLASS HOSTS ADDRESS PORTS AGE) and `navctl describe` (address,
// class, default backend, TLS, and the rules table with each backend's endpoints), as kubectl
// prints them.
import type { Endpoints, Ingress, IngressBackend, IngressLoadBalancerIngress, Service } from "@navarch/api";
import { age } from "./age.js";
// Types only from columns.ts: it imports this file's columns, and a runtime cycle would leave one undefined.
import type { KindColumns } from "./columns.js";
import type { DescribeWriter } from "./describe-writer.js";

const NONE = "<none>";

/** Rule hosts, "*" for none, at most 3 then "+ N more..." (kubectl's formatHosts). */
export function ingressHosts(ing: Ingress): string {
  const rules = ing.spec?.rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule.host !== "") list.push(rule.host);
  }
  if (list.length === 0) return "*";
  return more ? `${list.join(",")} + ${rules.length - max} more...` : list.join(",");
}

/** The status addresses, sorted, cut to 16 characters unless wide (kubectl's loadBalancerStatusStringer). */
export function ingressAddress(entries: readonly IngressLoadBalancerIngress[] | undefined, wide = false): string {
  const all = [...new Set((entries ?? []).map((e) => e.ip || e.hostname).filter(Boolean))].sort();
  const text = all.join(",");
  return !wide && text.length > 16 ? `${text.slice(0, 13)}...` : text;
}

export const ingressColumns: KindColumns = {
  named: true,
  headers: ["CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
  cells(obj, now) {
    const ing = obj as Ingress;
    return [
      ing.spec?.ingressClassName ?? NONE,
      ingressHosts(ing),
      ingressAddress(ing.status?.loadBalancer?.ingress),
      (ing.spec?.tls ?? []).length > 0 ? "80, 443" : "80",
      age(ing.metadata?.creationTimestamp, now),
    ];
  },
};

/** The Services an Ingress's backends name (describe fetches them and their Endpoints). */
export function ingressServiceNames(ing: Ingress): string[] {
  const names = new Set<string>();
  const add = (b: IngressBackend | undefined) => b?.service?.name && names.add(b.service.name);
  add(ing.spec?.defaultBackend);
  for (const rule of ing.spec?.rules ?? []) for (const p of rule.http?.paths ?? []) add(p.backend);
  return [...names].sort();
}

/** What describe knows of the backends: by Service name, the Service and Endpoints, or why not. */
export interface IngressBackends {
  services: Map<string, Service | Error>;
  endpoints: Map<string, Endpoints | Error>;
}

/** "web:80 (10.0.0.1:8080,10.0.0.2:8080)" (kubectl's describeBackendV1). */
export function backendText(b: IngressBackend | undefined, known: IngressBackends | undefined): string {
  const svc = b?.service;
  if (!svc) return NONE;
  const port = svc.port?.name || String(svc.port?.number ?? 0);
  const label = `${svc.name}:${port}`;
  const ep = known?.endpoints.get(svc.name);
  const service = known?.services.get(svc.name);
  if (!ep || ep instanceof Error) return `${label} (<error: ${ep?.message ?? `endpoints "${svc.name}" not found`}>)`;
  if (!service || service instanceof Error) return `${label} (<error: ${service?.message ?? `services "${svc.name}" not found`}>)`;
  const sp = service.spec?.ports.find((p) => (svc.port?.number ? p.port === svc.port.number : p.name === svc.port?.name));
  const addrs: string[] = [];
  for (const subset of ep.subsets) {
    for (const p of subset.ports) {
      if (p.name !== (sp?.name ?? "")) continue;
      for (const a of subset.addresses) addrs.push(`${a.ip}:${p.port}`);
    }
  }
  const shown = addrs.slice(0, 3).join(",");
  return `${label} (${addrs.length === 0 ? NONE : addrs.length > 3 ? `${shown} + ${addrs.length - 3} more...` : shown})`;
}

export function describeIngress(w: DescribeWriter, ing: Ingress, known: IngressBackends | undefined): void {
  const spec = ing.spec;
  w.line(0, `Address:\t${ingressAddress(ing.status?.loadBalancer?.ingress, true)}`);
  w.line(0, `Ingress Class:\t${spec?.ingressClassName ?? NONE}`);
  w.line(0, `Default backend:\t${spec?.defaultBackend ? backendText(spec.defaultBackend, known) : "<default>"}`);
  if ((spec?.tls ?? []).length > 0) {
    w.line(0, "TLS:");
    for (const t of spec!.tls) {
      w.line(1, t.secretName === "" ? `SNI routes ${t.hosts.join(",")}` : `${t.secretName} terminates ${t.hosts.join(",")}`);
    }
  }
  w.line(0, "Rules:");
  w.line(1, "Host\tPath\tBackends");
  w.line(1, "----\t----\t--------");
  let count = 0;
  for (const rule of spec?.rules ?? []) {
    if (!rule.http) continue;
    count++;
    w.line(1, `${rule.host || "*"}\t`);
    for (const p of rule.http.paths) w.line(2, `\t${p.path} \t${backendText(p.backend, known)}`);
  }
  if (count === 0) w.line(1, `*\t*\t${spec?.defaultBackend ? backendText(spec.defaultBackend, known) : "<default>"}`);
}
