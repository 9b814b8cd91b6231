// Containers of a pod spec: names, images, ports, env, resources, mounts, probes and hooks.
// pod-spec.ts calls these for spec.containers and spec.initContainers.
import {
  checkDns1123Label,
  checkEnvVarName,
  checkQualifiedName,
  checkQuantity,
  milliCpu,
  type Container,
  type EnvVar,
  type FieldError,
  type HTTPGetAction,
  type LifecycleHandler,
  type Probe,
  type ResourceRequirements,
} from "@navarch/api";
import { duplicate, forbidden, invalid, notFound, nonNegative, oneOf, required, syntax } from "./errors.js";
import { PROTOCOLS, checkConfigKey, checkIPv4, checkPortName, checkPortNumber, checkRelativePath, parsePortNumOrName } from "./formats.js";
import { child, index, key } from "./paths.js";

const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const HTTP_SCHEMES = ["HTTP", "HTTPS"];
const STANDARD_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);

/**
 * Kubernetes' pull policy default: a floating image (":latest" or no tag) is pulled every time,
 * anything pinned (a tag or a digest) only when missing.
 */
export function defaultPullPolicy(image: string): string {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(":");
  const tag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : "";
  if (tag === "latest") return "Always";
  if (tag === "" && at < 0) return "Always";
  return "IfNotPresent";
}

export function defaultContainer(c: Container): void {
  if (c.imagePullPolicy === "") c.imagePullPolicy = defaultPullPolicy(c.image);
  for (const port of c.ports) if (port.protocol === "") port.protocol = "TCP";
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) if (probe) defaultProbe(probe);
  for (const hook of [c.lifecycle?.postStart, c.lifecycle?.preStop]) if (hook?.httpGet) defaultHttpGet(hook.httpGet);
  for (const env of c.env) {
    if (env.valueFrom?.fieldRef && env.valueFrom.fieldRef.apiVersion === "") env.valueFrom.fieldRef.apiVersion = "v1";
  }
}

// Zero counts as unset, as in Kubernetes (Go cannot tell them apart), so `periodSeconds: 0`
// in a manifest that works there works here.
function defaultProbe(p: Probe): void {
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  if (p.initialDelaySeconds === undefined) p.initialDelaySeconds = 0;
  if (p.httpGet) defaultHttpGet(p.httpGet);
}

function defaultHttpGet(h: HTTPGetAction): void {
  if (h.scheme === "") h.scheme = "HTTP";
  if (h.path === "") h.path = "/";
}

export interface ContainerContext {
  /** Names of the pod's volumes, for volumeMounts. */
  volumes: Set<string>;
  /** Names already used by other containers of the pod (init and regular share one space). */
  names: Set<string>;
  init: boolean;
}

export function validateContainer(c: Container, path: string, ctx: ContainerContext): FieldError[] {
  const errs: FieldError[] = [];
  const namePath = child(path, "name");
  if (c.name === "") errs.push(required(namePath));
  else {
    errs.push(...syntax(namePath, c.name, checkDns1123Label));
    if (ctx.names.has(c.name)) errs.push(duplicate(namePath, c.name));
    ctx.names.add(c.name);
  }
  if (c.image.trim() === "") errs.push(required(child(path, "image")));
  else if (c.image !== c.image.trim()) errs.push(invalid(child(path, "image"), c.image, "must not have leading or trailing whitespace"));
  errs.push(...oneOf(child(path, "imagePullPolicy"), c.imagePullPolicy, PULL_POLICIES));

  errs.push(...validatePorts(c, child(path, "ports")));
  c.env.forEach((e, i) => errs.push(...validateEnv(e, index(child(path, "env"), i))));
  c.envFrom.forEach((e, i) => {
    const p = index(child(path, "envFrom"), i);
    if (e.prefix !== "") errs.push(...syntax(child(p, "prefix"), e.prefix, checkEnvVarName));
    const sources = [e.configMapRef && "configMapRef", e.secretRef && "secretRef"].filter((s): s is string => !!s);
    if (sources.length === 0) errs.push(required(p, "must specify one of: `configMapRef` or `secretRef`"));
    if (sources.length > 1) errs.push(forbidden(p, "may not have more than one field specified at a time"));
    if (e.configMapRef?.name === "") errs.push(required(child(child(p, "configMapRef"), "name")));
    if (e.secretRef?.name === "") errs.push(required(child(child(p, "secretRef"), "name")));
  });
  errs.push(...validateResources(c.resources, child(path, "resources")));
  errs.push(...validateVolumeMounts(c, child(path, "volumeMounts"), ctx.volumes));

  const probes = [
    ["livenessProbe", c.livenessProbe],
    ["readinessProbe", c.readinessProbe],
    ["startupProbe", c.startupProbe],
  ] as const;
  for (const [field, probe] of probes) {
    if (!probe) continue;
    // Init containers run to completion one after another; health checks make no sense there.
    if (ctx.init) errs.push(forbidden(child(path, field), "may not be set for init containers"));
    else errs.push(...validateProbe(probe, child(path, field), c, field));
  }
  if (c.lifecycle) {
    if (ctx.init) errs.push(forbidden(child(path, "lifecycle"), "may not be set for init containers"));
    for (const field of ["postStart", "preStop"] as const) {
      const hook = c.lifecycle[field];
      if (hook) errs.push(...validateHandler(hook, child(child(path, "lifecycle"), field), c));
    }
  }
  return errs;
}

function validatePorts(c: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  c.ports.forEach((port, i) => {
    const p = index(path, i);
    if (port.name !== "") {
      errs.push(...syntax(child(p, "name"), port.name, checkPortName));
      if (names.has(port.name)) errs.push(duplicate(child(p, "name"), port.name));
      names.add(port.name);
    }
    if (port.containerPort === 0) errs.push(required(child(p, "containerPort")));
    else if (checkPortNumber(port.containerPort)) errs.push(invalid(child(p, "containerPort"), port.containerPort, checkPortNumber(port.containerPort)!));
    // 0 (or unset) means "not exposed on the host".
    if (port.hostPort !== undefined && port.hostPort !== 0 && checkPortNumber(port.hostPort)) {
      errs.push(invalid(child(p, "hostPort"), port.hostPort, checkPortNumber(port.hostPort)!));
    }
    errs.push(...oneOf(child(p, "protocol"), port.protocol, PROTOCOLS));
    if (port.hostIP !== "") errs.push(...syntax(child(p, "hostIP"), port.hostIP, checkIPv4));
  });
  return errs;
}

function validateEnv(e: EnvVar, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (e.name === "") errs.push(required(child(path, "name")));
  else errs.push(...syntax(child(path, "name"), e.name, checkEnvVarName));
  const from = e.valueFrom;
  if (!from) return errs;
  const p = child(path, "valueFrom");
  // An empty `value` is indistinguishable from an absent one, so "neither" is an empty variable.
  if (e.value !== "") errs.push(invalid(p, "", "may not be specified when `value` is not empty"));
  const sources = (["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"] as const).filter((s) => from[s]);
  if (sources.length === 0) {
    errs.push(invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
  } else if (sources.length > 1) {
    errs.push(invalid(p, "", "may not have more than one field specified at a time"));
  }
  for (const ref of [["configMapKeyRef", from.configMapKeyRef], ["secretKeyRef", from.secretKeyRef]] as const) {
    const [field, sel] = ref;
    if (!sel) continue;
    if (sel.name === "") errs.push(required(child(child(p, field), "name")));
    if (sel.key === "") errs.push(required(child(child(p, field), "key")));
    else errs.push(...syntax(child(child(p, field), "key"), sel.key, checkConfigKey));
  }
  if (from.fieldRef && from.fieldRef.fieldPath === "") errs.push(required(child(child(p, "fieldRef"), "fieldPath")));
  if (from.resourceFieldRef && from.resourceFieldRef.resource === "") errs.push(required(child(child(p, "resourceFieldRef"), "resource")));
  return errs;
}

/** cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource with a domain ("example.com/gpu"). */
function checkResourceName(name: string): string | undefined {
  if (STANDARD_RESOURCES.has(name) || name.startsWith("hugepages-")) return undefined;
  if (name.includes("/") && checkQualifiedName(name) === undefined) return undefined;
  return "must be a standard resource for containers";
}

function validateResources(res: ResourceRequirements | undefined, path: string): FieldError[] {
  if (!res) return [];
  const errs: FieldError[] = [];
  const valid = (map: Record<string, string>, field: "requests" | "limits"): Map<string, string> => {
    const ok = new Map<string, string>();
    for (const [name, qty] of Object.entries(map)) {
      const p = key(child(path, field), name);
      const badName = checkResourceName(name);
      const badQty = checkQuantity(qty);
      if (badName) errs.push(invalid(p, name, badName));
      if (badQty) errs.push(invalid(p, qty, badQty));
      if (!badName && !badQty) ok.set(name, qty);
    }
    return ok;
  };
  const requests = valid(res.requests, "requests");
  const limits = valid(res.limits, "limits");
  for (const [name, request] of requests) {
    const limit = limits.get(name);
    // milliCpu is the quantity times 1000, rounded up: exact enough to order any resource.
    if (limit !== undefined && milliCpu(request) > milliCpu(limit)) {
      errs.push(invalid(child(path, "requests"), request, `must be less than or equal to ${name} limit of ${limit}`));
    }
  }
  return errs;
}

function validateVolumeMounts(c: Container, path: string, volumes: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const mountPaths = new Set<string>();
  c.volumeMounts.forEach((m, i) => {
    const p = index(path, i);
    if (m.name === "") errs.push(required(child(p, "name")));
    else if (!volumes.has(m.name)) errs.push(notFound(child(p, "name"), m.name));
    if (m.mountPath === "") errs.push(required(child(p, "mountPath")));
    else if (!m.mountPath.startsWith("/")) errs.push(invalid(child(p, "mountPath"), m.mountPath, "must be an absolute path"));
    else if (mountPaths.has(m.mountPath)) errs.push(invalid(child(p, "mountPath"), m.mountPath, "must be unique"));
    mountPaths.add(m.mountPath);
    if (m.subPath !== "") errs.push(...syntax(child(p, "subPath"), m.subPath, checkRelativePath));
  });
  return errs;
}

type ProbeField = "livenessProbe" | "readinessProbe" | "startupProbe";

function validateProbe(probe: Probe, path: string, c: Container, field: ProbeField): FieldError[] {
  const errs = validateHandler(probe, path, c);
  errs.push(...nonNegative(child(path, "initialDelaySeconds"), probe.initialDelaySeconds));
  for (const f of ["timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] as const) {
    const v = probe[f];
    if (v !== undefined && v < 1) errs.push(invalid(child(path, f), v, "must be greater than or equal to 1"));
  }
  // A liveness or startup probe that needs several successes would delay the verdict for nothing.
  if (field !== "readinessProbe" && probe.successThreshold !== undefined && probe.successThreshold !== 1 && probe.successThreshold >= 1) {
    errs.push(invalid(child(path, "successThreshold"), probe.successThreshold, "must be 1"));
  }
  if (field === "readinessProbe" && probe.terminationGracePeriodSeconds !== undefined) {
    errs.push(invalid(child(path, "terminationGracePeriodSeconds"), probe.terminationGracePeriodSeconds, "must not be set for readinessProbes"));
  }
  if (probe.terminationGracePeriodSeconds !== undefined && probe.terminationGracePeriodSeconds <= 0 && field !== "readinessProbe") {
    errs.push(invalid(child(path, "terminationGracePeriodSeconds"), probe.terminationGracePeriodSeconds, "must be greater than 0"));
  }
  return errs;
}

/** Probes and lifecycle hooks: exactly one of exec, httpGet, tcpSocket (and sleep, for hooks). */
function validateHandler(h: LifecycleHandler | Probe, path: string, c: Container): FieldError[] {
  const errs: FieldError[] = [];
  const sleep = "sleep" in h ? h.sleep : undefined;
  const set = (["exec", "httpGet", "tcpSocket", "sleep"] as const).filter((f) => (f === "sleep" ? sleep : h[f]));
  if (sleep && sleep.seconds < 0) errs.push(invalid(child(child(path, "sleep"), "seconds"), sleep.seconds, "must be greater than or equal to 0"));
  if (set.length === 0) errs.push(required(path, "must specify a handler type"));
  for (const extra of set.slice(1)) errs.push(forbidden(child(path, extra), "may not specify more than 1 handler type"));
  if (h.exec && h.exec.command.length === 0) errs.push(required(child(child(path, "exec"), "command")));
  if (h.httpGet) {
    const p = child(path, "httpGet");
    if (h.httpGet.path === "") errs.push(required(child(p, "path")));
    errs.push(...validateProbePort(h.httpGet.port, child(p, "port"), c));
    errs.push(...oneOf(child(p, "scheme"), h.httpGet.scheme, HTTP_SCHEMES));
  }
  if (h.tcpSocket) errs.push(...validateProbePort(h.tcpSocket.port, child(child(path, "tcpSocket"), "port"), c));
  return errs;
}

/** A number, or the name of one of this container's ports (the kubelet resolves it there). */
function validateProbePort(port: string, path: string, c: Container): FieldError[] {
  if (port === "") return [required(path)];
  const parsed = parsePortNumOrName(port);
  if (parsed.error) return [invalid(path, port, parsed.error)];
  if (parsed.name !== undefined && !c.ports.some((p) => p.name === parsed.name)) {
    return [invalid(path, port, "must be a port number or the name of a port of this container")];
  }
  return [];
}
