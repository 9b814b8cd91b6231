// Pure translation of the runtime's specs into Docker create options: names, labels, limits,
// command/args, ports. No I/O here, so every rule is a table test.

import type Docker from "dockerode";
import { LABELS, type ContainerSpec, type HostPort, type PodDns, type PodRef, type SandboxSpec } from "./runtime.js";

export const PAUSE_IMAGE = "navarch/pause:1";
/** The container label value of a sandbox (Kubernetes' dockershim used "POD" the same way). */
export const SANDBOX_CONTAINER_NAME = "POD";

// Docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]* in names. Kubernetes names already fit; anything else
// is replaced so a strange name can never make a create fail or collide with "_" separators.
function namePart(s: string): string {
  return s.replace(/[^a-zA-Z0-9.-]/g, "-");
}

function uid8(uid: string): string {
  return namePart(uid.replace(/-/g, "").slice(0, 8));
}

/** navarch_<ns>_<pod>_<uid8>_sandbox: readable in `docker ps`, unique per pod incarnation. */
export function sandboxName(pod: PodRef): string {
  return `navarch_${namePart(pod.namespace)}_${namePart(pod.name)}_${uid8(pod.uid)}_sandbox`;
}

/** navarch_<ns>_<pod>_<uid8>_<container>_<attempt>: a new name per restart, so old ones can stay for --previous logs. */
export function containerName(pod: PodRef, name: string, attempt: number): string {
  return `navarch_${namePart(pod.namespace)}_${namePart(pod.name)}_${uid8(pod.uid)}_${namePart(name)}_${attempt}`;
}

export function podLabels(cluster: string, pod: PodRef, container: string, role: "sandbox" | "app", attempt: number): Record<string, string> {
  return {
    [LABELS.cluster]: cluster,
    [LABELS.node]: pod.node,
    [LABELS.namespace]: pod.namespace,
    [LABELS.pod]: pod.name,
    [LABELS.podUid]: pod.uid,
    [LABELS.container]: container,
    [LABELS.role]: role,
    [LABELS.attempt]: String(attempt),
  };
}

/** A hostname must be a DNS label: at most 63 characters, not ending in "-" or ".". */
export function podHostname(hostname: string): string {
  return hostname.slice(0, 63).replace(/[-.]+$/, "") || "pod";
}

/** hostPorts as Docker publishes them: on 127.0.0.1 unless a port names its hostIP. */
export function publishedPorts(ports: HostPort[]): { exposed: Record<string, object>; bindings: Record<string, { HostIp: string; HostPort: string }[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    if (!p.hostPort) continue;
    const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.hostIP || "127.0.0.1", HostPort: String(p.hostPort) });
  }
  return { exposed, bindings };
}

function setDns(hostConfig: Docker.HostConfig, dns: PodDns | undefined): void {
  if (!dns) return;
  hostConfig.Dns = dns.servers;
  hostConfig.DnsSearch = dns.searches;
  hostConfig.DnsOptions = dns.options;
}

export function sandboxCreateOptions(spec: SandboxSpec, network: string, cluster: string): Docker.ContainerCreateOptions {
  const { exposed, bindings } = publishedPorts(spec.ports);
  const hostConfig: Docker.HostConfig = {
    NetworkMode: network,
    // The agent decides about restarts; Docker restarting containers behind its back would race it.
    RestartPolicy: { Name: "no" },
    // Containers of a pod share IPC like in Kubernetes; "shareable" lets them join it.
    IpcMode: "shareable",
    PortBindings: bindings,
    // No OomScoreAdj -998 as Kubernetes gives its pause container: runc fails to start a container
    // with it on some hosts (seen here), and the pause process is too small to be picked anyway.
  };
  setDns(hostConfig, spec.dns);
  return {
    name: sandboxName(spec.pod),
    Image: PAUSE_IMAGE,
    Hostname: podHostname(spec.hostname),
    Labels: podLabels(cluster, spec.pod, SANDBOX_CONTAINER_NAME, "sandbox", 0),
    ExposedPorts: exposed,
    HostConfig: hostConfig,
  };
}

/** Docker refuses NanoCpus below 0.01 CPU or above the host's CPUs; a limit beyond the host is no limit. */
export function nanoCpus(cpuLimitMillis: number, hostCpus: number): number | undefined {
  if (!cpuLimitMillis || cpuLimitMillis <= 0) return undefined;
  const millis = Math.max(10, hostCpus > 0 ? Math.min(cpuLimitMillis, hostCpus * 1000) : cpuLimitMillis);
  return Math.round(millis * 1e6);
}

/** CFS weight from the request, as Kubernetes computes it: 1024 per CPU, at least 2. */
export function cpuShares(cpuRequestMillis: number): number | undefined {
  if (!cpuRequestMillis || cpuRequestMillis <= 0) return undefined;
  return Math.max(2, Math.floor((cpuRequestMillis * 1024) / 1000));
}

export interface AppOptions {
  /** Host CPU count, to clamp the CPU limit (see nanoCpus). 0 = unknown, no clamping. */
  hostCpus: number;
  /** json-file rotation, so a chatty container cannot fill the node's disk. */
  logMaxSize: string;
  logMaxFiles: number;
  /** The pod network, for a container with a network of its own (spec.network). */
  network: string;
  /** The cluster's id, in LABELS.cluster. */
  cluster: string;
}

export function appCreateOptions(spec: ContainerSpec, opts: AppOptions): Docker.ContainerCreateOptions {
  const own = spec.network;
  const hostConfig: Docker.HostConfig = {
    // Joining the sandbox's namespaces is what makes a pod: same IP, localhost between containers.
    // A pod's only container holds the pod's network itself: straight on the pod network.
    NetworkMode: own ? opts.network : `container:${spec.sandboxId}`,
    ...(own ? {} : { IpcMode: `container:${spec.sandboxId}` }),
    RestartPolicy: { Name: "no" },
    // Binds (not Mounts) so a missing host directory is created, like hostPath DirectoryOrCreate.
    Binds: spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ":ro" : ""}`),
    LogConfig: { Type: "json-file", Config: { "max-size": opts.logMaxSize, "max-file": String(opts.logMaxFiles) } },
  };
  const cpus = nanoCpus(spec.cpuLimitMillis, opts.hostCpus);
  if (cpus !== undefined) hostConfig.NanoCpus = cpus;
  const shares = cpuShares(spec.cpuRequestMillis);
  if (shares !== undefined) hostConfig.CpuShares = shares;
  if (spec.memoryLimitBytes > 0) {
    hostConfig.Memory = spec.memoryLimitBytes;
    // Equal to Memory: no swap on top, so the limit is the limit (and OOM means OOMKilled).
    hostConfig.MemorySwap = spec.memoryLimitBytes;
  }
  const options: Docker.ContainerCreateOptions = {
    name: containerName(spec.pod, spec.name, spec.attempt),
    Image: spec.image,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: podLabels(opts.cluster, spec.pod, spec.name, "app", spec.attempt),
    Tty: spec.tty,
    HostConfig: hostConfig,
  };
  // Kubernetes semantics: command replaces ENTRYPOINT (and then the image's CMD is dropped too:
  // the daemon only merges the image's CMD when no entrypoint is given); args replace CMD.
  if (spec.command.length > 0) options.Entrypoint = spec.command;
  if (spec.args.length > 0) options.Cmd = spec.args;
  if (spec.workingDir) options.WorkingDir = spec.workingDir;
  if (own) {
    // What the sandbox does for a pod of several containers: hostname, hostPorts, resolv.conf,
    // and the pod IP - fixed, so the container's replacement (a restart) gets the same one.
    const { exposed, bindings } = publishedPorts(own.ports);
    options.Hostname = podHostname(own.hostname);
    options.ExposedPorts = exposed;
    hostConfig.PortBindings = bindings;
    setDns(hostConfig, own.dns);
    options.Labels = { ...options.Labels, [LABELS.podIP]: own.ip };
    options.NetworkingConfig = { EndpointsConfig: { [opts.network]: { IPAMConfig: { IPv4Address: own.ip } } } };
  }
  return options;
}
