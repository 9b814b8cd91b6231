// Service: a stable virtual address (clusterIP) and ports, load-balanced over the pods its
// selector matches; or a DNS alias (ExternalName). Addresses (clusterIP, nodePort) are checked
// against their ranges and claimed by the gateway's allocator (../service-addresses.ts), after
// these rules.
import { checkDns1123Label, checkDns1123Subdomain, ServiceSpec, type FieldError, type Service } from "@navarch/api";
import { duplicate, forbidden, invalid, oneOf, required, syntax } from "./errors.js";
import { PROTOCOLS, checkIPv4, checkPortNumber, parsePortNumOrName } from "./formats.js";
import type { KindRules } from "./index.js";
import { validateLabels } from "./metadata.js";
import { child, index } from "./paths.js";

const TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
const AFFINITIES = ["None", "ClientIP"];
const TRAFFIC_POLICIES = ["Cluster", "Local"];

export const serviceRules: KindRules<Service> = {
  default(svc) {
    const spec = (svc.spec ??= ServiceSpec.fromPartial({}));
    if (spec.type === "") spec.type = "ClusterIP";
    // clusterIPs alone names the address too (Kubernetes' defaulting); the allocator fills the rest.
    if (spec.clusterIP === "" && spec.clusterIPs.length > 0) spec.clusterIP = spec.clusterIPs[0]!;
    if (spec.sessionAffinity === "") spec.sessionAffinity = "None";
    for (const port of spec.ports) {
      if (port.protocol === "") port.protocol = "TCP";
      if (port.targetPort === "" && port.port !== 0) port.targetPort = String(port.port);
    }
    if (spec.type !== "ExternalName" && spec.internalTrafficPolicy === "") spec.internalTrafficPolicy = "Cluster";
    if ((spec.type === "NodePort" || spec.type === "LoadBalancer") && spec.externalTrafficPolicy === "") {
      spec.externalTrafficPolicy = "Cluster";
    }
  },

  validate(svc) {
    const spec = svc.spec;
    if (!spec) return [required("spec")];
    const errs: FieldError[] = [];
    errs.push(...oneOf("spec.type", spec.type, TYPES));
    errs.push(...oneOf("spec.sessionAffinity", spec.sessionAffinity, AFFINITIES));
    const headless = spec.clusterIP === "None";

    if (spec.type === "ExternalName") {
      if (spec.externalName === "") errs.push(required("spec.externalName"));
      else errs.push(...syntax("spec.externalName", spec.externalName, checkDns1123Subdomain));
      if (spec.clusterIP !== "") errs.push(forbidden("spec.clusterIP", "may not be set for ExternalName services"));
    } else if (spec.clusterIP !== "" && !headless) {
      errs.push(...syntax("spec.clusterIP", spec.clusterIP, checkIPv4));
    }
    if (headless && (spec.type === "NodePort" || spec.type === "LoadBalancer")) {
      errs.push(invalid("spec.clusterIP", spec.clusterIP, `may not be set to 'None' for ${spec.type} services`));
    }
    spec.clusterIPs.forEach((ip, i) => {
      if (ip !== "None") errs.push(...syntax(index("spec.clusterIPs", i), ip, checkIPv4));
    });
    if (spec.clusterIPs.length > 0 && spec.clusterIP !== "" && spec.clusterIPs[0] !== spec.clusterIP) {
      errs.push(invalid("spec.clusterIPs[0]", spec.clusterIPs[0], "must be same as clusterIP"));
    }
    spec.externalIPs.forEach((ip, i) => errs.push(...syntax(index("spec.externalIPs", i), ip, checkIPv4)));

    // A headless service may exist only for DNS records; an ExternalName one has no ports at all.
    if (spec.ports.length === 0 && spec.type !== "ExternalName" && !headless) errs.push(required("spec.ports"));
    errs.push(...validatePorts(spec));
    errs.push(...validateLabels(spec.selector, "spec.selector"));
    if (spec.internalTrafficPolicy !== "") errs.push(...oneOf("spec.internalTrafficPolicy", spec.internalTrafficPolicy, TRAFFIC_POLICIES));
    if (spec.externalTrafficPolicy !== "") errs.push(...oneOf("spec.externalTrafficPolicy", spec.externalTrafficPolicy, TRAFFIC_POLICIES));
    return errs;
  },

  validateUpdate(svc, old) {
    const now = svc.spec?.clusterIP ?? "";
    const before = old.spec?.clusterIP ?? "";
    // The address is what clients hold on to; moving to ExternalName is the one way to give it up.
    if (before !== "" && now !== before && svc.spec?.type !== "ExternalName") {
      return [invalid("spec.clusterIP", now, "field is immutable")];
    }
    return [];
  },
};

function validatePorts(spec: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  const portProtocols = new Set<string>();
  const nodePortAllowed = spec.type === "NodePort" || spec.type === "LoadBalancer";
  spec.ports.forEach((port, i) => {
    const p = index("spec.ports", i);
    // With several ports, endpoints and SRV records tell them apart by name.
    if (port.name === "") {
      if (spec.ports.length > 1) errs.push(required(child(p, "name")));
    } else {
      errs.push(...syntax(child(p, "name"), port.name, checkDns1123Label));
      if (names.has(port.name)) errs.push(duplicate(child(p, "name"), port.name));
      names.add(port.name);
    }
    const badPort = checkPortNumber(port.port);
    if (badPort) errs.push(invalid(child(p, "port"), port.port, badPort));
    errs.push(...oneOf(child(p, "protocol"), port.protocol, PROTOCOLS));
    const id = `${port.port}/${port.protocol || "TCP"}`;
    if (!badPort && portProtocols.has(id)) errs.push(duplicate(p, id));
    portProtocols.add(id);
    if (port.targetPort !== "") {
      const parsed = parsePortNumOrName(port.targetPort);
      if (parsed.error) errs.push(invalid(child(p, "targetPort"), port.targetPort, parsed.error));
    }
    // Whether it is in the configured node port range, and free, is the allocator's to say.
    if (port.nodePort !== undefined && port.nodePort !== 0) {
      if (!nodePortAllowed) errs.push(forbidden(child(p, "nodePort"), `may not be used when \`type\` is '${spec.type}'`));
      else {
        const bad = checkPortNumber(port.nodePort);
        if (bad) errs.push(invalid(child(p, "nodePort"), port.nodePort, bad));
      }
    }
  });
  return errs;
}
