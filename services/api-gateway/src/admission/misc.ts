// The small kinds: Namespace, Endpoints, Event, Lease.
import {
  checkDns1123Label,
  checkDns1123Subdomain,
  checkQualifiedName,
  NamespaceSpec,
  type EndpointAddress,
  type Endpoints,
  type Event,
  type FieldError,
  type Lease,
  type Namespace,
} from "@navarch/api";
import { duplicate, invalid, nonNegative, oneOf, required, syntax } from "./errors.js";
import { PROTOCOLS, checkIPv4, checkPortNumber } from "./formats.js";
import type { KindRules } from "./index.js";
import { child, index } from "./paths.js";

export const namespaceRules: KindRules<Namespace> = {
  default(ns) {
    const spec = (ns.spec ??= NamespaceSpec.fromPartial({}));
    // The "kubernetes" finalizer holds the namespace until everything in it is deleted.
    if (spec.finalizers.length === 0) spec.finalizers = ["kubernetes"];
  },
  validate(ns) {
    return (ns.spec?.finalizers ?? []).flatMap((f, i) => syntax(index("spec.finalizers", i), f, checkQualifiedName));
  },
};

export const endpointsRules: KindRules<Endpoints> = {
  default(ep) {
    for (const subset of ep.subsets) for (const port of subset.ports) if (port.protocol === "") port.protocol = "TCP";
  },
  validate(ep) {
    const errs: FieldError[] = [];
    ep.subsets.forEach((subset, i) => {
      const p = index("subsets", i);
      subset.addresses.forEach((a, j) => errs.push(...validateAddress(a, index(child(p, "addresses"), j))));
      subset.notReadyAddresses.forEach((a, j) => errs.push(...validateAddress(a, index(child(p, "notReadyAddresses"), j))));
      const names = new Set<string>();
      subset.ports.forEach((port, j) => {
        const pp = index(child(p, "ports"), j);
        // Several ports are matched to service ports by name.
        if (port.name === "") {
          if (subset.ports.length > 1) errs.push(required(child(pp, "name")));
        } else {
          errs.push(...syntax(child(pp, "name"), port.name, checkDns1123Label));
          if (names.has(port.name)) errs.push(duplicate(child(pp, "name"), port.name));
          names.add(port.name);
        }
        const bad = checkPortNumber(port.port);
        if (bad) errs.push(invalid(child(pp, "port"), port.port, bad));
        errs.push(...oneOf(child(pp, "protocol"), port.protocol, PROTOCOLS));
      });
    });
    return errs;
  },
};

function validateAddress(a: EndpointAddress, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (a.ip === "") errs.push(required(child(path, "ip")));
  else errs.push(...syntax(child(path, "ip"), a.ip, checkIPv4));
  if (a.hostname !== "") errs.push(...syntax(child(path, "hostname"), a.hostname, checkDns1123Label));
  if (a.nodeName !== "") errs.push(...syntax(child(path, "nodeName"), a.nodeName, checkDns1123Subdomain));
  return errs;
}

export const eventRules: KindRules<Event> = {
  default(ev) {
    if (ev.type === "") ev.type = "Normal";
  },
  validate(ev) {
    const errs: FieldError[] = [];
    if (!ev.involvedObject?.kind) errs.push(required("involvedObject.kind"));
    if (!ev.involvedObject?.name) errs.push(required("involvedObject.name"));
    if (ev.reason === "") errs.push(required("reason"));
    errs.push(...oneOf("type", ev.type, ["Normal", "Warning"]));
    return errs;
  },
};

export const leaseRules: KindRules<Lease> = {
  validate(lease) {
    const spec = lease.spec;
    if (!spec) return [];
    const errs: FieldError[] = [];
    // A zero-length lease would expire as it is taken: no holder could ever be trusted.
    if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) {
      errs.push(invalid("spec.leaseDurationSeconds", spec.leaseDurationSeconds, "must be greater than 0"));
    }
    errs.push(...nonNegative("spec.leaseTransitions", spec.leaseTransitions));
    return errs;
  },
};
