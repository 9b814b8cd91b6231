// Ingress (networking.k8s.io/v1): host and path rules to services. The rules, field paths and
// messages are Kubernetes' (pkg/apis/networking/validation: ValidateIngressSpec and the functions
// it calls). Kubernetes defaults nothing in a v1 Ingress, and neither do we: pathType in
// particular must be given.
import { checkDns1123Label, checkDns1123Subdomain, type FieldError, type Ingress, type IngressBackend } from "@navarch/api";
import { invalid, notSupported, required, syntax } from "./errors.js";
import { checkPortName, checkPortNumber, isIPv4 } from "./formats.js";
import type { KindRules } from "./index.js";
import { child, index } from "./paths.js";

export const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"] as const;

// A path that means something else once a proxy normalizes it; Kubernetes refuses these for
// Exact and Prefix so that what is matched is what the backend sees.
const INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES = ["/..", "/."];

const WILDCARD_DNS1123_SUBDOMAIN = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes' IsWildcardDNS1123Subdomain: "*." then a DNS-1123 subdomain. */
export function checkWildcardDns1123Subdomain(value: string): string | undefined {
  if (value.length > 253) return "must be no more than 253 characters";
  if (!WILDCARD_DNS1123_SUBDOMAIN.test(value)) {
    return "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com')";
  }
  return undefined;
}

/** A rule's or a TLS entry's host: a DNS-1123 subdomain, or "*." and one. */
function checkHost(path: string, host: string): FieldError[] {
  return host.includes("*") ? syntax(path, host, checkWildcardDns1123Subdomain) : syntax(path, host, checkDns1123Subdomain);
}

/** Service names are DNS-1035 labels (a letter first). */
function checkServiceName(name: string): string | undefined {
  const bad = checkDns1123Label(name);
  if (bad) return bad;
  return /^[a-z]/.test(name) ? undefined : "a DNS-1035 label must start with an alphabetic character";
}

function validateBackend(backend: IngressBackend, path: string): FieldError[] {
  const svc = backend.service;
  // The proto has no `resource` backend, so the service backend is the one kind there is.
  if (!svc) return [invalid(path, "", "resource or service backend is required")];
  const errs: FieldError[] = [];
  const svcPath = child(path, "service");
  if (svc.name === "") errs.push(required(child(svcPath, "name")));
  else errs.push(...syntax(child(svcPath, "name"), svc.name, checkServiceName));
  const name = svc.port?.name ?? "";
  const number = svc.port?.number ?? 0;
  const portPath = child(svcPath, "port");
  if (name !== "" && number !== 0) errs.push(invalid(path, "", "cannot set both port name & port number"));
  else if (name !== "") errs.push(...syntax(child(portPath, "name"), name, checkPortName));
  else if (number !== 0) {
    const bad = checkPortNumber(number);
    if (bad) errs.push(invalid(child(portPath, "number"), number, bad));
  } else errs.push(required(path, "port name or number is required"));
  return errs;
}

function validatePath(p: { path: string; pathType: string; backend?: IngressBackend | undefined }, at: string): FieldError[] {
  const typePath = child(at, "pathType");
  if (p.pathType === "") return [required(typePath, "pathType must be specified")];
  const errs: FieldError[] = [];
  const valuePath = child(at, "path");
  switch (p.pathType) {
    case "Exact":
    case "Prefix":
      if (!p.path.startsWith("/")) errs.push(invalid(valuePath, p.path, "must be an absolute path"));
      for (const seq of INVALID_PATH_SEQUENCES) {
        if (p.path.includes(seq)) errs.push(invalid(valuePath, p.path, `must not contain '${seq}'`));
      }
      for (const suffix of INVALID_PATH_SUFFIXES) {
        if (p.path.endsWith(suffix)) errs.push(invalid(valuePath, p.path, `cannot end with '${suffix}'`));
      }
      break;
    case "ImplementationSpecific":
      if (p.path !== "" && !p.path.startsWith("/")) errs.push(invalid(valuePath, p.path, "must be an absolute path"));
      break;
    default:
      errs.push(notSupported(typePath, p.pathType, PATH_TYPES));
  }
  errs.push(...(p.backend ? validateBackend(p.backend, child(at, "backend")) : [invalid(child(at, "backend"), "", "resource or service backend is required")]));
  return errs;
}

export const ingressRules: KindRules<Ingress> = {
  validate(ing) {
    const spec = ing.spec;
    if (!spec) return [required("spec")];
    const errs: FieldError[] = [];
    if (spec.rules.length === 0 && !spec.defaultBackend) {
      errs.push(invalid("spec", [], "either `defaultBackend` or `rules` must be specified"));
    }
    if (spec.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, "spec.defaultBackend"));
    spec.rules.forEach((rule, i) => {
      const at = index("spec.rules", i);
      if (rule.host !== "") {
        if (isIPv4(rule.host) || rule.host.includes(":")) errs.push(invalid(child(at, "host"), rule.host, "must be a DNS name, not an IP address"));
        else errs.push(...checkHost(child(at, "host"), rule.host));
      }
      if (rule.http) {
        const httpPath = child(at, "http");
        if (rule.http.paths.length === 0) errs.push(required(child(httpPath, "paths")));
        rule.http.paths.forEach((p, j) => errs.push(...validatePath(p, index(child(httpPath, "paths"), j))));
      }
    });
    spec.tls.forEach((tls, i) => {
      const at = index("spec.tls", i);
      tls.hosts.forEach((host, j) => errs.push(...checkHost(index(child(at, "hosts"), j), host)));
      if (tls.secretName !== "") errs.push(...syntax(child(at, "secretName"), tls.secretName, checkDns1123Subdomain));
    });
    if (spec.ingressClassName !== undefined) errs.push(...syntax("spec.ingressClassName", spec.ingressClassName, checkDns1123Subdomain));
    return errs;
  },
};
