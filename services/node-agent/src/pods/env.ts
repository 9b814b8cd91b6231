// A container's environment, the Kubernetes way: envFrom sources first (each key, with its
// prefix), then env entries in order, later ones overriding earlier ones. An entry is a value
// (with $(VAR) references to variables defined before it expanded, "$$" escaping), or taken from
// a ConfigMap key, a Secret key, a field of the pod (fieldRef) or a container resource
// (resourceFieldRef). A missing ConfigMap/Secret (or key) that is not optional is a
// CreateContainerConfigError: the container is not created, and the agent tries again later.
//
// Pure: the caller fetches the ConfigMaps and Secrets named by envSources() and passes them in.
import { bytesOf, checkEnvVarName, milliCpu, type ConfigMap, type Container, type Pod, type Secret } from "@navarch/api";

/** The container's configuration cannot be satisfied (yet): CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  override name = "ContainerConfigError";
}

export interface EnvSources {
  configMaps: string[];
  secrets: string[];
}

export interface EnvInput {
  pod: Pod;
  container: Container;
  /** Every ConfigMap / Secret named by envSources(), undefined when it does not exist. */
  configMaps: Map<string, ConfigMap | undefined>;
  secrets: Map<string, Secret | undefined>;
  podIP: string;
  hostIP: string;
  /** Used for limits.* when the container has no limit, as Kubernetes does. */
  nodeAllocatable: { cpuMillis: number; memoryBytes: number };
}

/** The ConfigMaps and Secrets a container's environment reads. */
export function envSources(container: Container): EnvSources {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef?.name) configMaps.add(from.configMapRef.name);
    if (from.secretRef?.name) secrets.add(from.secretRef.name);
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps: [...configMaps], secrets: [...secrets] };
}

/** Expands $(NAME) from `vars`; "$$" is a literal "$"; unknown references stay as written. */
export function expand(text: string, vars: Record<string, string>): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== "$" || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const close = text.indexOf(")", i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      out += Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : text.slice(i, close + 1);
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

function secretValue(value: Buffer | Uint8Array | string): string {
  return typeof value === "string" ? value : Buffer.from(value).toString("utf8");
}

function secretData(secret: Secret): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = secretValue(v);
  // stringData is merged into data on write; honour it if a writer left it.
  for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = v;
  return data;
}

function configMapData(cm: ConfigMap): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) data[k] = secretValue(v);
  for (const [k, v] of Object.entries(cm.data ?? {})) data[k] = v;
  return data;
}

/** "metadata.labels['app']" -> ["labels", "app"] */
function mapField(path: string): [string, string] | undefined {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  return m ? [m[1]!, m[2]!] : undefined;
}

export function fieldValue(path: string, input: Pick<EnvInput, "pod" | "podIP" | "hostIP">): string {
  const meta = input.pod.metadata;
  const spec = input.pod.spec;
  switch (path) {
    case "metadata.name":
      return meta?.name ?? "";
    case "metadata.namespace":
      return meta?.namespace ?? "";
    case "metadata.uid":
      return meta?.uid ?? "";
    case "spec.nodeName":
      return spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return spec?.serviceAccountName ?? "";
    case "status.podIP":
    case "status.podIPs":
      return input.podIP;
    case "status.hostIP":
    case "status.hostIPs":
      return input.hostIP;
  }
  const m = mapField(path);
  if (m) return (m[0] === "labels" ? meta?.labels : meta?.annotations)?.[m[1]] ?? "";
  throw new ContainerConfigError(`unsupported fieldRef fieldPath "${path}"`);
}

export function resourceValue(input: EnvInput, containerName: string, resource: string, divisor: string): string {
  const container = containerName
    ? [...(input.pod.spec?.containers ?? []), ...(input.pod.spec?.initContainers ?? [])].find((c) => c.name === containerName)
    : input.container;
  if (!container) throw new ContainerConfigError(`resourceFieldRef: no container named "${containerName}"`);
  const [kind, name] = resource.split(".", 2) as [string, string];
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  if (name === "cpu") {
    const limit = limits.cpu ? milliCpu(limits.cpu) : input.nodeAllocatable.cpuMillis;
    const value = kind === "limits" ? limit : requests.cpu ? milliCpu(requests.cpu) : limits.cpu ? limit : 0;
    const per = milliCpu(divisor || "1");
    return String(Math.ceil(value / (per || 1)));
  }
  if (name === "memory") {
    const limit = limits.memory ? bytesOf(limits.memory) : input.nodeAllocatable.memoryBytes;
    const value = kind === "limits" ? limit : requests.memory ? bytesOf(requests.memory) : limits.memory ? limit : 0;
    const per = bytesOf(divisor || "1");
    return String(Math.ceil(value / (per || 1)));
  }
  throw new ContainerConfigError(`unsupported resourceFieldRef resource "${resource}"`);
}

export function resolveEnv(input: EnvInput): Record<string, string> {
  const ns = input.pod.metadata?.namespace ?? "";
  const env: Record<string, string> = {};
  for (const from of input.container.envFrom ?? []) {
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      const cm = input.configMaps.get(from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      data = configMapData(cm);
    } else if (from.secretRef) {
      const secret = input.secrets.get(from.secretRef.name);
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      data = secretData(secret);
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      const name = `${from.prefix ?? ""}${k}`;
      // Kubernetes skips keys that are not valid variable names (and says so in an event).
      if (checkEnvVarName(name) === undefined) env[name] = v;
    }
  }
  for (const e of input.container.env ?? []) {
    const src = e.valueFrom;
    if (!src) {
      env[e.name] = expand(e.value ?? "", env);
    } else if (src.configMapKeyRef) {
      const ref = src.configMapKeyRef;
      const cm = input.configMaps.get(ref.name);
      if (!cm) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`configmap "${ref.name}" not found`);
      }
      const data = configMapData(cm);
      if (!(ref.key in data)) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      }
      env[e.name] = data[ref.key]!;
    } else if (src.secretKeyRef) {
      const ref = src.secretKeyRef;
      const secret = input.secrets.get(ref.name);
      if (!secret) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`secret "${ref.name}" not found`);
      }
      const data = secretData(secret);
      if (!(ref.key in data)) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      }
      env[e.name] = data[ref.key]!;
    } else if (src.fieldRef) {
      env[e.name] = fieldValue(src.fieldRef.fieldPath, input);
    } else if (src.resourceFieldRef) {
      const r = src.resourceFieldRef;
      env[e.name] = resourceValue(input, r.containerName, r.resource, r.divisor);
    }
  }
  return env;
}
