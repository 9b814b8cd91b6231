// The container runtime interface of the node agent. DockerRuntime implements it on a real
// Docker engine; a fake runtime for simulated (hollow) nodes implements the same interface, so
// the node agent cannot tell them apart. Everything a pod needs from a runtime is here and
// nothing Docker-specific leaks out.
import type { HostNetfilter } from "./host-netfilter.js";

/** Labels on every container Navarch creates; the node agent finds its containers by them. */
export const LABELS = {
  /**
   * The cluster's id (libs/store cluster-identity.ts): an agent lists, adopts, fences and removes
   * only containers with its own, so clusters sharing a Docker engine (even with nodes of the same
   * name) never touch each other's.
   */
  cluster: "navarch.cluster",
  node: "navarch.node",
  namespace: "navarch.pod.namespace",
  pod: "navarch.pod.name",
  podUid: "navarch.pod.uid",
  container: "navarch.container.name",
  /** "sandbox" for the container that holds the pod's network namespace, "app" otherwise. */
  role: "navarch.container.role",
  /** Restart count of this container name in this pod when this container was created. */
  attempt: "navarch.container.attempt",
  /** The fixed pod IP of an app container that holds its pod's network itself (no sandbox). */
  podIP: "navarch.pod.ip",
} as const;

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  node: string;
}

export interface HostPort {
  containerPort: number;
  hostPort: number;
  protocol: "TCP" | "UDP" | "SCTP";
  hostIP: string;
}

export interface PodDns {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface SandboxSpec {
  pod: PodRef;
  hostname: string;
  /** hostPort mappings of all containers of the pod (published on hostIP, default 127.0.0.1). */
  ports: HostPort[];
  /** DNS settings for the pod's resolv.conf (the cluster DNS for dnsPolicy ClusterFirst); absent: the runtime's default. */
  dns?: PodDns | undefined;
}

/**
 * What a container that is its pod's only container needs to hold the pod's network itself, in
 * place of a sandbox: what the sandbox would have had, plus a fixed IP (from the node's pod CIDR)
 * so the pod IP stays when the container is recreated.
 */
export interface OwnNetwork {
  ip: string;
  hostname: string;
  ports: HostPort[];
  dns?: PodDns | undefined;
}

export interface Sandbox {
  id: string;
  pod: PodRef;
  /** The pod IP: stable for the sandbox's lifetime, shared by every container of the pod. */
  ip: string;
  state: "ready" | "notready";
  createdAt: Date;
}

export interface ContainerSpec {
  pod: PodRef;
  /** The sandbox whose namespaces the container joins; "" when it has `network` of its own. */
  sandboxId: string;
  /** Only for a pod without a sandbox: the container is attached to the pod network itself. */
  network?: OwnNetwork | undefined;
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: Record<string, string>;
  workingDir: string;
  /** Limits enforced by the runtime: CPU in millicores, memory in bytes; 0 = none. */
  cpuLimitMillis: number;
  memoryLimitBytes: number;
  /** Relative CPU weight from the request, in millicores; 0 = default. */
  cpuRequestMillis: number;
  mounts: { hostPath: string; containerPath: string; readOnly: boolean }[];
  attempt: number;
  tty: boolean;
}

export type ContainerState = "created" | "running" | "exited" | "unknown";

export interface ContainerStatus {
  id: string;
  pod: PodRef;
  name: string;
  role: "sandbox" | "app";
  attempt: number;
  image: string;
  imageID: string;
  state: ContainerState;
  exitCode: number;
  /** The kernel killed it for exceeding its memory limit. */
  oomKilled: boolean;
  /** Runtime's reason text when it failed to start (e.g. exec format error). */
  error: string;
  createdAt: Date;
  startedAt?: Date | undefined;
  finishedAt?: Date | undefined;
  /** The fixed pod IP of an app container with its own network (no sandbox); absent otherwise. */
  podIP?: string | undefined;
}

export type RuntimeEventType = "start" | "die" | "oom" | "destroy" | "create";

export interface RuntimeEvent {
  type: RuntimeEventType;
  containerId: string;
  pod?: PodRef | undefined;
  containerName?: string | undefined;
  at: Date;
  /** For "die": the container's exit code, when the runtime reports it. */
  exitCode?: number | undefined;
}

export interface LogOptions {
  follow: boolean;
  tail?: number | undefined;
  sinceSeconds?: number | undefined;
  timestamps?: boolean | undefined;
}

export class ImagePullError extends Error {
  override name = "ImagePullError";
}

export class ImageNotPresentError extends Error {
  override name = "ImageNotPresentError";
}

/** The runtime (e.g. the Docker daemon) cannot be reached: transient, retry with backoff. */
export class RuntimeUnavailableError extends Error {
  override name = "RuntimeUnavailableError";
}

/** The runtime rejected a container's configuration (e.g. a memory limit below its minimum): retrying will not help. */
export class InvalidContainerSpecError extends Error {
  override name = "InvalidContainerSpecError";
}

/** An exec did not finish in time. The process may still run: Docker cannot kill an exec. */
export class ExecTimeoutError extends Error {
  override name = "ExecTimeoutError";
}

/** The container does not exist (any more). Stop and remove treat this as success instead. */
export class ContainerNotFoundError extends Error {
  override name = "ContainerNotFoundError";
}

export interface RuntimeInfo {
  name: string;
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
  kernelVersion: string;
  cpus: number;
  memoryBytes: number;
  hostname: string;
}

export interface ContainerRuntime {
  /**
   * The cluster whose containers this runtime makes and sees (every container carries it in
   * LABELS.cluster; every list and the event stream are narrowed to it). Absent on a runtime whose
   * containers no other cluster can see (the fake runtime of hollow nodes).
   */
  readonly cluster?: string | undefined;
  info(): Promise<RuntimeInfo>;
  /** Makes `image` present according to `policy`; returns its image ID. Throws ImagePullError / ImageNotPresentError. */
  ensureImage(image: string, policy: PullPolicy, onPull?: (phase: "pulling" | "pulled", detail: string) => void): Promise<string>;
  /**
   * Creates and starts the pod's sandbox (network namespace holder) and returns it with its IP.
   * Leaves nothing behind when it fails (a created but unstartable sandbox is removed). Idempotent
   * per pod uid: a running sandbox of the same pod is returned as is, a dead one is replaced.
   */
  runSandbox(spec: SandboxSpec): Promise<Sandbox>;
  stopSandbox(id: string): Promise<void>;
  removeSandbox(id: string): Promise<void>;
  /**
   * Creates (not starts) an app container in the sandbox's network namespace, or, with
   * spec.network (only when podNetwork() says fixed IPs are possible), on the pod network itself
   * with that fixed IP.
   */
  createContainer(spec: ContainerSpec): Promise<string>;
  /**
   * Starts a created container. When this throws, the container stays (state "created", the reason
   * in ContainerStatus.error) and the caller removes it, so the failure can be reported first.
   */
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after graceSeconds. Resolves when the container has stopped. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** Every Navarch container (sandboxes and apps) of `node` in this runtime's cluster, from the runtime's own list. */
  listContainers(node: string): Promise<ContainerStatus[]>;
  listSandboxes(node: string): Promise<Sandbox[]>;
  /**
   * Containers labelled with `node` but with no cluster label: made by a Navarch from before
   * cluster ids, of this cluster or of another one - the agent decides (pods/legacy.ts). Absent on
   * runtimes that never had such containers (the fake one).
   */
  listUnclusteredContainers?(node: string): Promise<ContainerStatus[]>;
  inspectContainer(id: string): Promise<ContainerStatus | undefined>;
  /**
   * The runtime's event stream for Navarch containers (only those of `node` when given); ends when
   * the runtime connection drops or `signal` aborts, so the caller resyncs and subscribes again.
   */
  events(signal: AbortSignal, node?: string): AsyncIterable<RuntimeEvent>;
  logs(id: string, opts: LogOptions, signal: AbortSignal): AsyncIterable<Buffer>;
  /**
   * Runs a command in a running container (exec probes, navctl exec later); output is stdout and
   * stderr together. Throws ExecTimeoutError after timeoutMs.
   */
  exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /**
   * Netfilter of the host the pods' network lives on, for the service proxy; `owner` (the node)
   * names whatever the runtime keeps for it. Absent on a runtime without a host (the fake one).
   */
  hostNetfilter?(owner: string): HostNetfilter;
  /**
   * The pods' network (created when missing), for the node's cluster DNS server to find the address
   * pods reach it at, and to tell whether pods can have fixed IPs. Undefined where pods have no
   * real network (the fake runtime).
   */
  podNetwork?(): Promise<PodNetwork | undefined>;
  /**
   * Only for runtimes whose pod IPs are made up (the fake runtime of hollow nodes): answers an HTTP
   * or TCP probe of a container itself, so the agent never dials an address that is not a pod.
   * Runtimes with real pod networks leave it out and the agent connects to the pod IP.
   */
  simulatedNetworkProbe?(id: string, probe: NetworkProbe): Promise<{ ok: boolean; output: string }>;
}

/** The pods' network: its IPv4 subnet and the gateway (the host's side of it). */
export interface PodNetwork {
  name: string;
  subnet: string;
  gateway: string;
  /**
   * The part of the subnet the runtime hands out addresses from on its own. Present only when
   * containers can be given fixed IPs from the rest of the subnet (node pod CIDRs are carved
   * from it); absent on a network made without a configured subnet (fixed IPs impossible).
   */
  dynamicRange?: string | undefined;
  /**
   * Addresses that containers on the network have now, with the node label of each - only for
   * containers of this runtime's cluster; "" for any other (another cluster's agent on the same
   * host shares the network too, and may have a node of the same name): a node picks a pod CIDR
   * nobody uses.
   */
  inUse?: { ip: string; node: string }[] | undefined;
}

/** An HTTP GET (path given) or a TCP connect to a port of a container, for simulatedNetworkProbe. */
export interface NetworkProbe {
  type: "http" | "tcp";
  port: number;
  path?: string | undefined;
}
