// ContainerRuntime on a real Docker engine (through dockerode).
//
// A pod is one sandbox container (navarch/pause, on the `navarch` bridge network, holding the
// pod's network and IPC namespaces and its hostPort bindings) plus one container per app
// container that joins those namespaces (NetworkMode container:<sandbox>). So containers of a pod
// talk over localhost, share one IP, and the IP survives any app container's restart: restarts
// create a new container (new attempt number) while the sandbox lives on.
//
// A pod with a single container and no init containers can do without the sandbox (when the
// network has a configured subnet, see podNetwork): its container is attached to the network
// itself with a fixed IP the node agent picks from its node's pod CIDR, publishes the hostPorts
// and gets the hostname and DNS settings, and its replacement after a restart gets the same IP
// (Docker releases an address when its container stops, so an exited predecessor does not hold it).
//
// Every container carries LABELS (cluster, node, namespace, pod, uid, container, role, attempt),
// which is all the agent needs to rebuild its picture after a restart of itself or of the daemon.
// The runtime belongs to one cluster (options.cluster): it labels what it makes with the cluster's
// id and asks the daemon only for containers with it (label filters on Docker's side), so another
// cluster on the same engine - even with a node of the same name - is invisible to it.

import type Docker from "dockerode";
import { connect, ensureNetwork } from "./docker-client.js";
import { dockerError, statusOf } from "./docker-errors.js";
import { dockerEvents } from "./docker-events.js";
import { DockerHostNetfilter } from "./docker-netfilter.js";
import { DockerImages, type PullReporter } from "./docker-images.js";
import { containerLogs, execIn } from "./docker-logs.js";
import { appCreateOptions, PAUSE_IMAGE, sandboxCreateOptions } from "./docker-spec.js";
import { ipOn, sandboxFromInspect, sandboxFromList, statusFromInspect } from "./docker-status.js";
import type { HostNetfilter } from "./host-netfilter.js";
import { silentLogger, type Logger } from "./logger.js";
import {
  ImageNotPresentError,
  LABELS,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerStatus,
  type LogOptions,
  type PodNetwork,
  type PullPolicy,
  type RuntimeEvent,
  type RuntimeInfo,
  type Sandbox,
  type SandboxSpec,
} from "./runtime.js";

export interface DockerRuntimeOptions {
  /**
   * The cluster's id (libs/store clusterIdentity), in every container's LABELS.cluster and every
   * list's filter. Required to make, list or watch containers; without it only info, images, logs
   * and exec work (a runtime that could make containers no cluster owns would be a leak).
   */
  cluster?: string | undefined;
  /** Default: DOCKER_HOST when set, else /var/run/docker.sock. */
  socketPath?: string;
  /** The bridge network of pod sandboxes; created on first use. Default "navarch". */
  network?: string;
  /**
   * The IPv4 subnet a new network gets (a part for Docker's own allocation, the rest for fixed pod
   * IPs: docker-client podNetworkIpam). Absent: Docker picks one, and pods cannot have fixed IPs.
   */
  podSubnet?: string | undefined;
  logger?: Logger;
  /** json-file log rotation per container. Default 10m x 3 files. */
  logMaxSize?: string;
  logMaxFiles?: number;
  /** Grace for a sandbox's SIGTERM; navarch/pause exits at once. Default 2 s. */
  sandboxStopGraceSeconds?: number;
}

/** Inspects run at most this many at a time while listing, so a big node does not open hundreds of sockets. */
const LIST_INSPECT_CONCURRENCY = 16;

export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  readonly cluster: string | undefined;
  readonly network: string;
  private readonly podSubnet: string | undefined;
  private readonly logger: Logger;
  private readonly images: DockerImages;
  private readonly logMaxSize: string;
  private readonly logMaxFiles: number;
  private readonly sandboxGrace: number;
  private networkReady: Promise<string> | undefined;
  private hostCpus: Promise<number> | undefined;
  /**
   * Inspect results of listed containers by id, reused while Docker's listed state is unchanged:
   * a running container's start time and an exited one's exit are fixed until its state changes
   * (Navarch never restarts a container in place), so a resync inspects only what changed.
   */
  private readonly inspectCache = new Map<string, { listState: string; status: ContainerStatus }>();

  constructor(opts: DockerRuntimeOptions = {}) {
    this.docker = connect(opts.socketPath);
    if (opts.cluster !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.cluster)) throw new Error(`DockerRuntime: "${opts.cluster}" is not a cluster id`);
    this.cluster = opts.cluster;
    this.network = opts.network ?? "navarch";
    this.podSubnet = opts.podSubnet;
    this.logger = opts.logger ?? silentLogger;
    this.images = new DockerImages(this.docker, this.logger);
    this.logMaxSize = opts.logMaxSize ?? "10m";
    this.logMaxFiles = opts.logMaxFiles ?? 3;
    this.sandboxGrace = opts.sandboxStopGraceSeconds ?? 2;
  }

  async info(): Promise<RuntimeInfo> {
    let info: Record<string, unknown>;
    let version: Docker.DockerVersion;
    try {
      [info, version] = await Promise.all([this.docker.info() as Promise<Record<string, unknown>>, this.docker.version()]);
    } catch (err) {
      throw dockerError("Docker info", err);
    }
    return {
      name: "docker",
      version: version.Version,
      apiVersion: version.ApiVersion,
      os: String(info.OSType ?? "linux"),
      arch: goArch(String(info.Architecture ?? "")),
      kernelVersion: String(info.KernelVersion ?? ""),
      cpus: Number(info.NCPU ?? 0),
      memoryBytes: Number(info.MemTotal ?? 0),
      hostname: String(info.Name ?? ""),
    };
  }

  ensureImage(image: string, policy: PullPolicy, onPull?: PullReporter): Promise<string> {
    return this.images.ensure(image, policy, onPull);
  }

  async runSandbox(spec: SandboxSpec): Promise<Sandbox> {
    await this.ensureNetwork();
    const options = sandboxCreateOptions(spec, this.network, this.ownCluster());
    const name = options.name!;
    for (let attempt = 1; ; attempt++) {
      let container: Docker.Container;
      try {
        container = await this.docker.createContainer(options);
      } catch (err) {
        const status = statusOf(err);
        const message = (err as Error).message ?? "";
        if (status === 409 && attempt === 1) {
          // The name is taken: a retry after a lost response, or a dead sandbox of this pod.
          const existing = await this.inspectRaw(name);
          this.refuseForeign(existing, `create sandbox ${name}`, err);
          if (existing?.State.Running) {
            if (existing.Config.Labels?.[LABELS.podUid] === spec.pod.uid) return sandboxFromInspect(existing, this.network);
            throw new Error(`create sandbox ${name}: a running sandbox of another pod (uid ${existing.Config.Labels?.[LABELS.podUid]}) has this name`, { cause: err });
          }
          if (existing) await this.removeContainer(existing.Id);
          continue;
        }
        if (status === 404 && /network/i.test(message) && attempt === 1) {
          // Someone removed the network since we checked; make it again.
          this.networkReady = undefined;
          await this.ensureNetwork();
          continue;
        }
        if (status === 404 && /image/i.test(message)) {
          throw new ImageNotPresentError(`sandbox image ${PAUSE_IMAGE} is not present: run scripts/build-images.sh`, { cause: err });
        }
        throw dockerError(`create sandbox ${name}`, err);
      }
      try {
        await container.start();
        return sandboxFromInspect(await container.inspect(), this.network);
      } catch (err) {
        // Nothing half-made stays behind: a sandbox that cannot start is removed here.
        await this.removeContainer(container.id).catch((e: unknown) =>
          this.logger.warn({ id: container.id, err: (e as Error).message }, "could not remove a sandbox that failed to start"),
        );
        throw dockerError(`start sandbox ${name}`, err);
      }
    }
  }

  stopSandbox(id: string): Promise<void> {
    return this.stopContainer(id, this.sandboxGrace);
  }

  removeSandbox(id: string): Promise<void> {
    return this.removeContainer(id);
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    if (spec.network) await this.ensureNetwork();
    const options = appCreateOptions(spec, {
      hostCpus: await this.cpus(),
      logMaxSize: this.logMaxSize,
      logMaxFiles: this.logMaxFiles,
      network: this.network,
      cluster: this.ownCluster(),
    });
    const name = options.name!;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.docker.createContainer(options)).id;
      } catch (err) {
        const status = statusOf(err);
        if (status === 409 && attempt === 1) {
          // Same pod, container and attempt already exist: a retry after a lost response. A
          // stopped leftover is replaced; a running one is a real conflict the caller must see.
          const existing = await this.inspectRaw(name);
          this.refuseForeign(existing, `create container ${name}`, err);
          if (existing?.State.Running) {
            throw new Error(`create container ${name}: a running container ${existing.Id.slice(0, 12)} already has this name`, { cause: err });
          }
          if (existing) await this.removeContainer(existing.Id);
          continue;
        }
        if (status === 404 && spec.network && /network/i.test((err as Error).message ?? "") && attempt === 1) {
          // Someone removed the network since we checked; make it again.
          this.networkReady = undefined;
          await this.ensureNetwork();
          continue;
        }
        if (status === 404 && /no such image/i.test((err as Error).message ?? "")) {
          throw new ImageNotPresentError(`create container ${name}: image "${spec.image}" is not present (ensureImage first)`, { cause: err });
        }
        throw dockerError(`create container ${name}`, err, { notFound: "container" });
      }
    }
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusOf(err) === 304) return; // already running
      throw dockerError(`start container ${id.slice(0, 12)}`, err, { notFound: "container" });
    }
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      // The daemon sends the image's stop signal (SIGTERM), waits t seconds, then SIGKILLs, and
      // answers only once the container has stopped.
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.ceil(graceSeconds)) });
    } catch (err) {
      const status = statusOf(err);
      if (status === 304 || status === 404) return; // already stopped, or gone
      throw dockerError(`stop container ${id.slice(0, 12)}`, err);
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      // force: kill if still running; v: anonymous volumes (from an image's VOLUME) go with it.
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return;
      if (status === 409 && /already in progress/i.test((err as Error).message ?? "")) return;
      throw dockerError(`remove container ${id.slice(0, 12)}`, err);
    }
    this.inspectCache.delete(id);
  }

  async listContainers(node: string): Promise<ContainerStatus[]> {
    const listed = await this.list([`${LABELS.cluster}=${this.ownCluster()}`, `${LABELS.node}=${node}`]);
    const seen = new Set(listed.map((c) => c.Id));
    for (const id of this.inspectCache.keys()) if (!seen.has(id)) this.inspectCache.delete(id);
    return this.statuses(listed);
  }

  async listUnclusteredContainers(node: string): Promise<ContainerStatus[]> {
    // Docker's filters cannot ask for a label's absence: the node's label narrows the list on the
    // daemon's side, the missing cluster label is checked here.
    const listed = await this.list([`${LABELS.node}=${node}`]);
    return this.statuses(listed.filter((c) => c.Labels?.[LABELS.cluster] === undefined));
  }

  /** ContainerStatus of each listed container (inspects only what changed since the last list). */
  private async statuses(listed: Docker.ContainerInfo[]): Promise<ContainerStatus[]> {
    const statuses = await mapLimit(listed, LIST_INSPECT_CONCURRENCY, async (c) => {
      const cached = this.inspectCache.get(c.Id);
      if (cached && cached.listState === c.State) return cached.status;
      const info = await this.inspectRaw(c.Id);
      if (!info) return undefined; // removed between list and inspect
      const status = statusFromInspect(info);
      if (c.State === "running" || c.State === "exited") this.inspectCache.set(c.Id, { listState: c.State, status });
      return status;
    });
    return statuses.filter((s): s is ContainerStatus => s !== undefined);
  }

  async listSandboxes(node: string): Promise<Sandbox[]> {
    const listed = await this.list([`${LABELS.cluster}=${this.ownCluster()}`, `${LABELS.node}=${node}`, `${LABELS.role}=sandbox`]);
    return listed.map((c) => sandboxFromList(c, this.network));
  }

  async inspectContainer(id: string): Promise<ContainerStatus | undefined> {
    const info = await this.inspectRaw(id);
    return info ? statusFromInspect(info) : undefined;
  }

  events(signal: AbortSignal, node?: string): AsyncIterable<RuntimeEvent> {
    return dockerEvents(this.docker, this.logger, signal, this.ownCluster(), node);
  }

  logs(id: string, opts: LogOptions, signal: AbortSignal): AsyncIterable<Buffer> {
    return containerLogs(this.docker, id, opts, signal);
  }

  exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    return execIn(this.docker, id, command, timeoutMs);
  }

  hostNetfilter(owner: string): HostNetfilter {
    const labels = { [LABELS.cluster]: this.ownCluster() };
    return new DockerHostNetfilter(this.docker, owner, { name: this.network, ensure: () => this.ensureNetwork() }, this.logger, labels);
  }

  async podNetwork(): Promise<PodNetwork | undefined> {
    const id = await this.ensureNetwork();
    let info: { IPAM?: { Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] } };
    try {
      info = (await this.docker.getNetwork(id).inspect()) as typeof info;
    } catch (err) {
      throw dockerError(`inspect Docker network ${this.network}`, err);
    }
    const ipv4 = info.IPAM?.Config?.find((c) => c.Subnet?.includes("."));
    if (!ipv4?.Subnet) return undefined;
    // Docker only gives fixed IPs on a network with a configured subnet; an IP range inside it
    // (which needs one) is how such a network shows, and it leaves the rest for fixed IPs.
    const dynamicRange = ipv4.IPRange && ipv4.IPRange !== ipv4.Subnet ? ipv4.IPRange : undefined;
    if (!dynamicRange) return { name: this.network, subnet: ipv4.Subnet, gateway: ipv4.Gateway ?? "" };
    let attached: Docker.ContainerInfo[];
    try {
      attached = await this.docker.listContainers({ filters: { network: [this.network] } });
    } catch (err) {
      throw dockerError(`list the containers on Docker network ${this.network}`, err);
    }
    const inUse = attached.flatMap((c) => {
      const ip = ipOn(c.NetworkSettings?.Networks, this.network);
      // Another cluster's node of the same name is not this node: its addresses count as taken.
      const ours = this.cluster !== undefined && c.Labels?.[LABELS.cluster] === this.cluster;
      return ip ? [{ ip, node: ours ? (c.Labels?.[LABELS.node] ?? "") : "" }] : [];
    });
    return { name: this.network, subnet: ipv4.Subnet, gateway: ipv4.Gateway ?? "", dynamicRange, inUse };
  }

  /** The pod network's ID; created when missing. Memoized, and forgotten after a failure. */
  ensureNetwork(): Promise<string> {
    this.networkReady ??= ensureNetwork(this.docker, this.network, this.logger, this.podSubnet).catch((err: unknown) => {
      this.networkReady = undefined;
      throw err;
    });
    return this.networkReady;
  }

  /** The cluster id, or a clear error where a runtime without one would make or see any cluster's containers. */
  private ownCluster(): string {
    if (this.cluster === undefined) throw new Error("DockerRuntime: no cluster id given (options.cluster): it makes and lists only containers of one cluster");
    return this.cluster;
  }

  /** A container of this name that another cluster (or an older Navarch) made is never replaced or taken. */
  private refuseForeign(existing: Docker.ContainerInspectInfo | undefined, what: string, cause: unknown): void {
    const owner = existing?.Config.Labels?.[LABELS.cluster];
    if (existing && owner !== this.cluster) {
      throw new Error(`${what}: the name is taken by container ${existing.Id.slice(0, 12)} of ${owner ? `cluster ${owner}` : "no cluster (an older Navarch)"}`, { cause });
    }
  }

  private async list(labels: string[]): Promise<Docker.ContainerInfo[]> {
    try {
      return await this.docker.listContainers({ all: true, filters: { label: labels } });
    } catch (err) {
      throw dockerError("list containers", err);
    }
  }

  private async inspectRaw(idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(idOrName).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw dockerError(`inspect container ${idOrName}`, err);
    }
  }

  private cpus(): Promise<number> {
    this.hostCpus ??= this.info().then(
      (i) => i.cpus,
      () => {
        this.hostCpus = undefined;
        return 0;
      },
    );
    return this.hostCpus;
  }
}

/** Docker reports the kernel's machine name; Kubernetes (and Go) call them amd64, arm64, ... */
export function goArch(machine: string): string {
  const map: Record<string, string> = { x86_64: "amd64", aarch64: "arm64", armv7l: "arm", i686: "386", i386: "386", ppc64le: "ppc64le", s390x: "s390x" };
  return map[machine] ?? machine;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
