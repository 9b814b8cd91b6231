// The ingress controller's options, declared once (env var, default, doc).
import { asInt, asString, option } from "@navarch/config";
import { LEADER_ELECTION_OPTIONS } from "@navarch/controller";

export const INGRESS_OPTIONS = {
  ...LEADER_ELECTION_OPTIONS,
  ingressAddr: option("NAVARCH_INGRESS_ADDR", "127.0.0.1:8080", asString, "address the ingress HTTP proxy listens on (port 0 picks a free port; empty: no ingress)"),
  ingressClass: option("NAVARCH_INGRESS_CLASS", "navarch", asString, "serve Ingresses whose spec.ingressClassName is this one or empty"),
  ingressStatusAddress: option(
    "NAVARCH_INGRESS_STATUS_ADDRESS",
    "",
    asString,
    "address written to served Ingresses' status.loadBalancer; empty: the listen host, or 127.0.0.1 when it listens on every address",
  ),
  ingressConnectTimeoutSeconds: option("NAVARCH_INGRESS_CONNECT_TIMEOUT_SECONDS", 5, asInt, "give up connecting to a backend pod after this long (then try another, for requests that allow it)"),
  ingressBackendTimeoutSeconds: option("NAVARCH_INGRESS_BACKEND_TIMEOUT_SECONDS", 60, asInt, "answer 504 when a backend is silent this long while a request waits on it"),
  ingressShutdownGraceSeconds: option("NAVARCH_INGRESS_SHUTDOWN_GRACE_SECONDS", 10, asInt, "on shutdown, how long requests in flight may take to finish"),
};

export type IngressOptions = {
  [K in keyof typeof INGRESS_OPTIONS]: (typeof INGRESS_OPTIONS)[K]["default"];
};

export function defaultOptions(): IngressOptions {
  return Object.fromEntries(Object.entries(INGRESS_OPTIONS).map(([k, spec]) => [k, spec.default])) as IngressOptions;
}
