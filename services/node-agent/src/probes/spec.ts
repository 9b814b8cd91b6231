// What the agent runs for a container's probes: each Probe of the container spec with
// Kubernetes' defaults applied again (a Pod written to the store without the gateway has none;
// zero counts as unset, as in the gateway), times in ms, and named ports resolved against the
// container's ports. Pure.
import type { Container, Pod, Probe } from "@navarch/api";

export type ProbeKind = "startup" | "liveness" | "readiness";

export type ProbeAction =
  /** host "" = the pod IP. */
  | { type: "http"; scheme: "http" | "https"; host: string; port: number; path: string; headers: [string, string][] }
  | { type: "tcp"; host: string; port: number }
  | { type: "exec"; command: string[] }
  /** A spec the agent cannot run (a port name the container does not have): every attempt fails with `message`. */
  | { type: "invalid"; message: string };

export interface ProbeSpec {
  kind: ProbeKind;
  action: ProbeAction;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
  /** Grace of the SIGTERM when this probe kills the container (liveness, startup). */
  killGraceSeconds: number;
}

/** The probes of one container; a missing one is not run (and holds nothing back). */
export interface ContainerProbes {
  startup?: ProbeSpec | undefined;
  liveness?: ProbeSpec | undefined;
  readiness?: ProbeSpec | undefined;
}

const DEFAULT_POD_GRACE_SECONDS = 30;

export function hasProbes(p: ContainerProbes | undefined): p is ContainerProbes {
  return !!p && !!(p.startup || p.liveness || p.readiness);
}

export function containerProbes(container: Container, pod: Pod): ContainerProbes {
  const podGrace = pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS;
  const spec = (kind: ProbeKind, p: Probe | undefined) => (p ? probeSpec(kind, p, container, podGrace) : undefined);
  return {
    startup: spec("startup", container.startupProbe),
    liveness: spec("liveness", container.livenessProbe),
    readiness: spec("readiness", container.readinessProbe),
  };
}

export function probeSpec(kind: ProbeKind, p: Probe, container: Container, podGraceSeconds: number): ProbeSpec {
  const positive = (v: number | undefined, dflt: number) => (v && v > 0 ? v : dflt);
  return {
    kind,
    action: probeAction(p, container),
    initialDelayMs: Math.max(0, p.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(p.periodSeconds, 10) * 1000,
    timeoutMs: positive(p.timeoutSeconds, 1) * 1000,
    // Liveness and startup verdicts take one success (the gateway refuses anything else).
    successThreshold: kind === "readiness" ? positive(p.successThreshold, 1) : 1,
    failureThreshold: positive(p.failureThreshold, 3),
    killGraceSeconds: p.terminationGracePeriodSeconds && p.terminationGracePeriodSeconds > 0 ? p.terminationGracePeriodSeconds : podGraceSeconds,
  };
}

function probeAction(p: Probe, container: Container): ProbeAction {
  if (p.exec) return { type: "exec", command: p.exec.command };
  if (p.httpGet) {
    const h = p.httpGet;
    const port = resolvePort(h.port, container);
    if (typeof port === "string") return { type: "invalid", message: port };
    const path = h.path === "" ? "/" : h.path.startsWith("/") ? h.path : `/${h.path}`;
    return {
      type: "http",
      scheme: h.scheme.toUpperCase() === "HTTPS" ? "https" : "http",
      host: h.host,
      port,
      path,
      headers: (h.httpHeaders ?? []).map((x) => [x.name, x.value] as [string, string]),
    };
  }
  if (p.tcpSocket) {
    const port = resolvePort(p.tcpSocket.port, container);
    if (typeof port === "string") return { type: "invalid", message: port };
    return { type: "tcp", host: p.tcpSocket.host, port };
  }
  return { type: "invalid", message: "the probe has no handler (exec, httpGet or tcpSocket)" };
}

/** A port number, or the containerPort of the container's port of that name; a string is the error. */
export function resolvePort(port: string, container: Container): number | string {
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    return n >= 1 && n <= 65535 ? n : `invalid port ${port}`;
  }
  const named = container.ports?.find((p) => p.name === port);
  return named ? named.containerPort : `port "${port}" is not a port of container ${container.name}`;
}
