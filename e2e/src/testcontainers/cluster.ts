// The e2e cluster fixture on testcontainers: a whole Navarch cluster in containers on this
// machine's Docker engine, so a suite can stop, restart or cut off one node.
//
//   private network navarch-e2e-<pid>-<random>
//     nats           navarch/nats-server:dev   alias "nats"; 4222 published on 127.0.0.1
//     control plane  navarch/control-plane:dev NAVARCH_NATS_URL=nats://nats:4222; 7443 on 127.0.0.1
//                                              and the ingress 8080 on 127.0.0.1; also on the pod
//                                              network, where the ingress reaches pod IPs
//     node-1..N      navarch/node-agent:dev    NAVARCH_NODE_NAME=node-i, the host's Docker socket
//                                              mounted: each is a distinct node driving the host's
//                                              Docker, so its pods run as sibling containers
//   pod network navarch-e2e-<pid>-<random>-pods  the pods of this cluster (NAVARCH_POD_NETWORK)
//
// Clusters on one host share its netfilter, where each node's service proxy writes a table: so
// each cluster also gets its own pod network (the proxy matches pod traffic by its bridge), and a
// "service slot" i of 27: cluster IPs from 10.(100+i).0.0/16 and node ports 30000+100i..+99
// (NAVARCH_SERVICE_CLUSTER_IP_RANGE / NAVARCH_SERVICE_NODE_PORT_RANGE; controlPlaneEnv may override).
//
// Images are built by scripts/build-navarch-images.sh (run once per process; it is idempotent) and
// never pulled. There is no reaper (its image cannot be pulled here): cluster.stop() removes the
// containers, the pods' containers (label navarch.cluster=<the Navarch cluster id, which the
// fixture reads from the cluster's NATS before any agent runs>) and the network; register
// `after(stopAllClusters)` in every test file. A process 'exit' hook removes what a crashed test
// left, and startCluster() removes what killed test processes left (see leftovers.ts).
//
// testcontainers publishes ports on 0.0.0.0 and has no option for the host IP; NavarchContainer
// sets the Docker port binding's HostIp to 127.0.0.1 itself, so nothing listens beyond loopback.
import * as grpc from "@grpc/grpc-js";
import { KINDS, ListRequest, type Node } from "@navarch/api";
import { readClientConfig, writeClientConfig } from "@navarch/config";
import { clusterIdentity, connectNats } from "@navarch/store";
import {
  GenericContainer,
  ImageName,
  Network,
  Wait,
  getContainerRuntimeClient,
  type StartedNetwork,
  type StartedTestContainer,
} from "testcontainers";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { GRPC_CLIENT_OPTIONS, run, sleep, type RunResult } from "../cluster.js";
import { ensureNavarchImages, IMAGES, NEVER_PULL, ROOT } from "./images.js";
import {
  LABEL_CLUSTER,
  LABEL_FIXTURE,
  LABEL_NAVARCH_CLUSTER,
  LABEL_NODE,
  LABEL_PID,
  LABEL_ROLE,
  NETWORK_PREFIX,
  POD_NODE_LABEL,
  removeCluster,
  removeOrphans,
  track,
  untrack,
  type Dockerode,
  type TrackedCluster,
} from "./leftovers.js";

// No reaper (testcontainers' Ryuk): its image cannot be pulled here. We remove what we start.
process.env.TESTCONTAINERS_RYUK_DISABLED = "true";

const NAVCTL = path.join(ROOT, "cli", "dist", "main.js");
const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 10_000;
const LOG_TAIL_CHARS = 200_000;
const ERROR_TAIL_CHARS = 4_000;

export interface ClusterOptions {
  /** Node agents to start (node-1..node-N). Default 2; 0 gives NATS and the control plane only. */
  nodes?: number;
  /** Extra labels of every node (NAVARCH_NODE_LABELS), or per node. */
  nodeLabels?: Record<string, string> | ((name: string, index: number) => Record<string, string>);
  /** Extra environment of every Navarch container (control plane and node agents). */
  env?: Record<string, string>;
  /** Extra environment of the control plane only. */
  controlPlaneEnv?: Record<string, string>;
  /** Extra environment of the node agents only, or per node. */
  nodeEnv?: Record<string, string> | ((name: string, index: number) => Record<string, string>);
  /** Node names are <prefix>1..<prefix>N. Default "node-". */
  nodeNamePrefix?: string;
  /** For each container to be ready and for the nodes to register. Default 60 s. */
  startupTimeoutMs?: number;
}

export interface ClusterNode {
  /** The Node's name (NAVARCH_NODE_NAME). */
  readonly name: string;
  /** The node agent's container. */
  readonly container: StartedTestContainer;
  /** `docker stop`: SIGTERM, then SIGKILL after timeoutMs (default 10 s). The container is kept. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /** SIGKILL, like a machine losing power. The container is kept. */
  kill(): Promise<void>;
  /** Starts the stopped agent container again (same container, same name: it adopts its pods). */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(opts?: { timeoutMs?: number }): Promise<void>;
  /** Cuts the agent off the private network (it loses NATS, keeps the host's Docker). */
  disconnect(): Promise<void>;
  /** Connects it to the private network again. */
  reconnect(): Promise<void>;
  /** Whether the agent's container is running. */
  running(): Promise<boolean>;
  /** The agent's output so far (stdout and stderr). */
  logs(): string;
}

export interface Cluster {
  /** Names this cluster's containers and network (navarch-e2e-<id>-...). */
  readonly id: string;
  /** The Navarch cluster id (navarch-cluster/id in its NATS): its pod containers' navarch.cluster label. */
  readonly navarchCluster: string;
  /** The gRPC API on the host, "127.0.0.1:<port>". */
  readonly apiAddr: string;
  /** The admin token the control plane wrote to /data/config. */
  readonly token: string;
  /** NATS for the host, "nats://127.0.0.1:<port>". */
  readonly natsUrl: string;
  /** The ingress controller's HTTP port on the host, "127.0.0.1:<port>". */
  readonly ingressAddr: string;
  /** The Docker network of this cluster's pods. */
  readonly podNetwork: string;
  /** Where this cluster's Service cluster IPs and node ports come from. */
  readonly serviceClusterIPRange: string;
  readonly serviceNodePortRange: string;
  /** A NAVARCH_HOME whose config points at this cluster (navctl() uses it). */
  readonly home: string;
  readonly network: StartedNetwork;
  readonly nats: StartedTestContainer;
  readonly controlPlane: StartedTestContainer;
  readonly nodes: readonly ClusterNode[];
  /** How long startCluster() took, in ms. */
  readonly startupMs: number;
  /** `authorization: Bearer <token>` for gRPC calls. */
  metadata(): grpc.Metadata;
  /** Runs navctl (cli/dist/main.js) on the host against this cluster. */
  navctl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  node(name: string): ClusterNode;
  /**
   * Starts one more node agent (default name: the next <prefix>N) and resolves once its Node has
   * registered; it goes with the cluster on stop().
   */
  addNode(name?: string): Promise<ClusterNode>;
  /** Output of "nats", "control-plane" or a node's agent so far. */
  logs(which: string): string;
  /** Removes every container, pod container and the network; idempotent. */
  stop(): Promise<void>;
}

const clusters = new Set<Cluster>();

/** Stops every cluster this process started and has not stopped. Register with `after`. */
export async function stopAllClusters(): Promise<void> {
  const errors: unknown[] = [];
  for (const c of [...clusters]) await c.stop().catch((e: unknown) => errors.push(e));
  if (errors.length) throw errors[0];
}

/** A container of the fixture: never pulled, labelled for cleanup, output kept. */
class NavarchContainer extends GenericContainer {
  constructor(image: string, clusterId: string, role: string, logs: LogTail) {
    super(image);
    this.withPullPolicy(NEVER_PULL)
      .withLabels({
        [LABEL_FIXTURE]: "testcontainers",
        [LABEL_CLUSTER]: clusterId,
        [LABEL_PID]: String(process.pid),
        [LABEL_ROLE]: role,
      })
      .withLogConsumer((stream) => logs.follow(stream));
  }

  /**
   * Joins only the given network, under an extra DNS alias. (testcontainers' withNetworkAliases
   * creates the container on the default bridge and connects it to the network afterwards, so it
   * would sit on both.)
   */
  withNetworkAndAlias(network: StartedNetwork, alias: string): this {
    this.withNetwork(network);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [network.getName()]: { Aliases: [alias] } } };
    return this;
  }

  /** Publishes container ports on a free port of 127.0.0.1 (not 0.0.0.0, testcontainers' only choice). */
  withLoopbackPorts(...ports: number[]): this {
    this.withExposedPorts(...ports);
    const bindings = (this.hostConfig.PortBindings ??= {}) as Record<string, Array<{ HostIp: string; HostPort: string }>>;
    for (const p of ports) bindings[`${p}/tcp`] = [{ HostIp: "127.0.0.1", HostPort: "0" }];
    return this;
  }
}

/** The last LOG_TAIL_CHARS of a container's output. */
class LogTail {
  private text = "";
  follow(stream: NodeJS.ReadableStream): void {
    stream.on("data", (chunk: string | Buffer) => {
      this.text = (this.text + chunk.toString()).slice(-LOG_TAIL_CHARS);
    });
    stream.on("error", () => undefined);
  }
  toString(): string {
    return this.text;
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const t0 = performance.now();
  const nodeCount = opts.nodes ?? 2;
  const prefix = opts.nodeNamePrefix ?? "node-";
  const names = Array.from({ length: nodeCount }, (_, i) => `${prefix}${i + 1}`);
  const timeoutMs = opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;

  await ensureNavarchImages();
  const runtime = await getContainerRuntimeClient();
  const docker = runtime.container.dockerode;
  await removeOrphans(docker);
  for (const image of nodeCount > 0 ? [IMAGES.nats, IMAGES.controlPlane, IMAGES.nodeAgent] : [IMAGES.nats, IMAGES.controlPlane]) {
    if (!(await runtime.image.exists(ImageName.fromString(image)))) {
      throw new Error(
        `image ${image} does not exist` +
          (image === IMAGES.nodeAgent
            ? " (scripts/build-navarch-images.sh builds it once services/node-agent/dist/main.js exists: run `npm run build`)"
            : " (run `npm run build && bash scripts/build-navarch-images.sh`)"),
      );
    }
  }
  await assertNodeNamesFree(docker, names);

  const id = `${process.pid}-${randomBytes(3).toString("hex")}`;
  const networkName = `${NETWORK_PREFIX}${id}`;
  const podNetwork = `${networkName}-pods`;
  const slot = await pickServiceSlot(docker);
  const serviceRanges = { NAVARCH_SERVICE_CLUSTER_IP_RANGE: `10.${100 + slot}.0.0/16`, NAVARCH_SERVICE_NODE_PORT_RANGE: `${30000 + slot * 100}-${30000 + slot * 100 + 99}` };
  const home = mkdtempSync(path.join(tmpdir(), "navarch-e2e-tc-"));
  const serviceRange = opts.controlPlaneEnv?.NAVARCH_SERVICE_CLUSTER_IP_RANGE ?? serviceRanges.NAVARCH_SERVICE_CLUSTER_IP_RANGE;
  const tracked: TrackedCluster = { id, nodeNames: names, home, serviceRange };
  track(tracked);
  const tails = new Map<string, LogTail>();
  const tail = (name: string) => {
    let t = tails.get(name);
    if (!t) tails.set(name, (t = new LogTail()));
    return t;
  };

  try {
    tracked.networkName = networkName;
    const network = await new Network({ nextUuid: () => networkName }).start();
    tracked.podNetworkName = podNetwork;
    await createPodNetwork(docker, podNetwork, id, slot);

    const nats = await new NavarchContainer(IMAGES.nats, id, "nats", tail("nats"))
      .withName(`${networkName}-nats`)
      .withNetworkAndAlias(network, "nats")
      .withCommand(["-n", `nats-${id}`])
      .withLoopbackPorts(4222)
      .withWaitStrategy(Wait.forLogMessage("Server is ready"))
      .withStartupTimeout(timeoutMs)
      .start();
    const natsUrl = `nats://127.0.0.1:${nats.getMappedPort(4222)}`;
    // Made here, before any agent runs (they read the same one), so the cleanup knows it.
    const navarchCluster = await navarchClusterId(natsUrl);
    tracked.navarchCluster = navarchCluster;

    const controlPlane = await new NavarchContainer(IMAGES.controlPlane, id, "control-plane", tail("control-plane"))
      .withName(`${networkName}-control-plane`)
      .withLabels({ [SERVICE_SLOT_LABEL]: String(slot), [LABEL_NAVARCH_CLUSTER]: navarchCluster })
      .withNetwork(network)
      .withEnvironment({ ...serviceRanges, NAVARCH_INGRESS_ADDR: "0.0.0.0:8080", ...opts.env, ...opts.controlPlaneEnv, NAVARCH_NATS_URL: "nats://nats:4222", NAVARCH_NODE_AGENT: "false" })
      .withLoopbackPorts(7443, 8080)
      .withWaitStrategy(Wait.forLogMessage(/Navarch is ready: api=/))
      .withStartupTimeout(timeoutMs)
      .start();
    const apiAddr = `127.0.0.1:${controlPlane.getMappedPort(7443)}`;
    const ingressAddr = `127.0.0.1:${controlPlane.getMappedPort(8080)}`;
    await docker.getNetwork(podNetwork).connect({ Container: controlPlane.getId() });

    // The client config the control plane wrote, pointed at the published port.
    const configPath = path.join(home, "config");
    writeFileSync(configPath, await readFileFromContainer(controlPlane, "/data/config"));
    const { token } = readClientConfig(configPath);
    writeClientConfig({ server: apiAddr, token }, configPath);

    const socket = dockerSocketPath();
    const startNode = async (name: string, i: number): Promise<ClusterNode> => {
      const labels = typeof opts.nodeLabels === "function" ? opts.nodeLabels(name, i) : (opts.nodeLabels ?? {});
      const nodeEnv = typeof opts.nodeEnv === "function" ? opts.nodeEnv(name, i) : (opts.nodeEnv ?? {});
      const logs = tail(name);
      const container = await new NavarchContainer(IMAGES.nodeAgent, id, "node-agent", logs)
        .withLabels({ [LABEL_NODE]: name, [LABEL_NAVARCH_CLUSTER]: navarchCluster })
        .withName(`${networkName}-${name}`)
        .withHostname(name)
        .withNetwork(network)
        .withBindMounts([{ source: socket, target: "/var/run/docker.sock" }])
        .withEnvironment({
          NAVARCH_POD_NETWORK: podNetwork,
          // The agent keeps this range on the host (docs/adr/0016): the control plane's one.
          NAVARCH_SERVICE_CLUSTER_IP_RANGE: serviceRange,
          ...opts.env,
          ...nodeEnv,
          NAVARCH_NATS_URL: "nats://nats:4222",
          NAVARCH_NODE_NAME: name,
          NAVARCH_NODE_LABELS: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(","),
          NAVARCH_NODE_ADDRESS: "127.0.0.1",
          NAVARCH_DOCKER_SOCKET: "/var/run/docker.sock",
        })
        .withStartupTimeout(timeoutMs)
        .start();
      // On the pods' network too, as a node's kubelet is: HTTP and TCP probes reach pod IPs.
      await docker.getNetwork(podNetwork).connect({ Container: container.getId() });
      return clusterNode(docker, name, container, networkName, logs);
    };
    const nodes: ClusterNode[] = await Promise.all(names.map(startNode));

    const cluster: Cluster = {
      id,
      navarchCluster,
      apiAddr,
      token,
      natsUrl,
      ingressAddr,
      podNetwork,
      serviceClusterIPRange: serviceRange,
      serviceNodePortRange: serviceRanges.NAVARCH_SERVICE_NODE_PORT_RANGE,
      home,
      network,
      nats,
      controlPlane,
      nodes,
      startupMs: 0,
      metadata() {
        const md = new grpc.Metadata();
        md.set("authorization", `Bearer ${token}`);
        return md;
      },
      navctl(args, o = {}) {
        return run(process.execPath, [NAVCTL, ...args], {
          env: { NAVARCH_HOME: home, NAVARCH_SERVER: apiAddr, NAVARCH_TOKEN: token },
          input: o.input,
          timeoutMs: o.timeoutMs,
        });
      },
      node(name) {
        const n = nodes.find((x) => x.name === name);
        if (!n) throw new Error(`no node ${name} in this cluster (it has ${names.join(", ") || "none"})`);
        return n;
      },
      async addNode(name = `${prefix}${nodes.length + 1}`) {
        if (names.includes(name)) throw new Error(`node ${name} is already in this cluster`);
        await assertNodeNamesFree(docker, [name]);
        names.push(name); // tracked.nodeNames: its pod containers are removed with the cluster
        const node = await startNode(name, names.length - 1);
        nodes.push(node);
        await waitForNodes(cluster, timeoutMs);
        return node;
      },
      logs(which) {
        return tails.get(which)?.toString() ?? "";
      },
      stop: once(async () => {
        clusters.delete(cluster);
        try {
          await removeCluster(docker, tracked);
        } finally {
          untrack(id);
          rmSync(home, { recursive: true, force: true });
        }
      }),
    };
    clusters.add(cluster);
    await waitForNodes(cluster, timeoutMs);
    (cluster as { startupMs: number }).startupMs = Math.round(performance.now() - t0);
    return cluster;
  } catch (err) {
    await removeCluster(docker, tracked).catch(() => undefined);
    untrack(id);
    rmSync(home, { recursive: true, force: true });
    for (const c of clusters) if (c.id === id) clusters.delete(c);
    const out = [...tails].map(([name, t]) => `\n--- ${name} (last output) ---\n${t.toString().slice(-ERROR_TAIL_CHARS)}`).join("");
    throw new Error(`startCluster failed: ${(err as Error).message}${out}`, { cause: err });
  }
}

function clusterNode(docker: Dockerode, name: string, container: StartedTestContainer, networkName: string, logs: LogTail): ClusterNode {
  const c = docker.getContainer(container.getId());
  const node: ClusterNode = {
    name,
    container,
    async stop({ timeoutMs = 10_000 } = {}) {
      await c.stop({ t: Math.ceil(timeoutMs / 1000) }).catch(unless(304)); // 304: already stopped
    },
    async kill() {
      await c.kill({ signal: "SIGKILL" }).catch(unless(409)); // 409: not running
    },
    async start() {
      const since = Math.floor(Date.now() / 1000);
      await c.start().catch(unless(304)); // 304: already running
      // The log stream testcontainers opened ended with the stop; follow the new run.
      logs.follow(await container.logs({ since }));
    },
    async restart(opts) {
      await node.stop(opts);
      await node.start();
    },
    async disconnect() {
      await docker.getNetwork(networkName).disconnect({ Container: container.getId(), Force: true });
    },
    async reconnect() {
      await docker.getNetwork(networkName).connect({ Container: container.getId() });
    },
    async running() {
      return (await c.inspect()).State.Running;
    },
    logs: () => logs.toString(),
  };
  return node;
}

const SERVICE_SLOT_LABEL = "navarch.e2e.service-slot";
const SERVICE_SLOTS = 27; // 27 blocks of 100 node ports fit in 30000-32767

/** A service slot no live cluster of this host uses (any, when all are taken). */
/**
 * The cluster's pod network, with a subnet of its own as the node agent would make it (a range for
 * Docker's own allocation, the rest for the nodes' pod CIDRs: single-container pods get fixed IPs
 * without a sandbox): 10.(200+slot).0.0/16, or the next /16 up when another cluster started at
 * the same time holds that one.
 */
async function createPodNetwork(docker: Dockerode, name: string, clusterId: string, slot: number): Promise<void> {
  for (let k = 0; ; k++) {
    const octet = 200 + ((slot + k) % SERVICE_SLOTS);
    try {
      await docker.createNetwork({
        Name: name,
        Driver: "bridge",
        CheckDuplicate: true,
        // As libs/runtime podNetworkIpam makes it: Docker allocates from the first sixteenth.
        IPAM: { Driver: "default", Config: [{ Subnet: `10.${octet}.0.0/16`, IPRange: `10.${octet}.0.0/20` }] },
        Labels: { "dev.navarch.managed": "true", [LABEL_CLUSTER]: clusterId },
      });
      return;
    } catch (err) {
      if (k + 1 >= SERVICE_SLOTS || !/overlap/i.test((err as Error).message ?? "")) throw err;
    }
  }
}

async function pickServiceSlot(docker: Dockerode): Promise<number> {
  const live = await docker.listContainers({ all: true, filters: { label: [`${LABEL_FIXTURE}=testcontainers`, SERVICE_SLOT_LABEL] } });
  const used = new Set(live.map((c) => Number(c.Labels[SERVICE_SLOT_LABEL])));
  const free = Array.from({ length: SERVICE_SLOTS }, (_, i) => i).filter((i) => !used.has(i));
  const pool = free.length ? free : Array.from({ length: SERVICE_SLOTS }, (_, i) => i);
  return pool[Math.floor(Math.random() * pool.length)]!;
}

/** Resolves once every node agent has registered its Node; fails early when an agent exits. */
async function waitForNodes(cluster: Cluster, timeoutMs: number): Promise<void> {
  if (cluster.nodes.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = (await listNodes(cluster).catch(() => [] as Node[])).map((n) => n.metadata!.name);
    if (cluster.nodes.every((n) => seen.includes(n.name))) return;
    for (const n of cluster.nodes) {
      if (!(await n.running())) throw new Error(`the node agent of ${n.name} exited before its Node registered`);
    }
    await sleep(100);
  }
  const missing = cluster.nodes.filter((n) => !seen.includes(n.name)).map((n) => n.name);
  throw new Error(`Node(s) ${missing.join(", ")} did not register within ${timeoutMs} ms`);
}

/** Every Node object of the cluster, through the gRPC API. */
export async function listNodes(cluster: Pick<Cluster, "apiAddr" | "metadata">): Promise<Node[]> {
  const client = new KINDS.Node.client(cluster.apiAddr, grpc.credentials.createInsecure(), GRPC_CLIENT_OPTIONS);
  try {
    return await new Promise<Node[]>((resolve, reject) => {
      (client as unknown as Record<string, Function>).list!.call(
        client,
        ListRequest.fromPartial({ namespace: "" }),
        cluster.metadata(),
        { deadline: Date.now() + CALL_TIMEOUT_MS },
        (err: grpc.ServiceError | null, res: { items: Node[] }) => (err ? reject(err) : resolve(res.items)),
      );
    });
  } finally {
    client.close();
  }
}

/** A node name must not be driven by two live agents of this machine's Docker at once. */
async function assertNodeNamesFree(docker: Dockerode, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const agents = await docker.listContainers({ all: false, filters: { label: [`${LABEL_FIXTURE}=testcontainers`, LABEL_NODE] } });
  const clash = agents.filter((a) => names.includes(a.Labels[LABEL_NODE] ?? ""));
  if (clash.length) {
    throw new Error(
      `node name(s) ${clash.map((a) => a.Labels[LABEL_NODE]).join(", ")} are in use by another cluster fixture ` +
        `(${clash.map((a) => a.Names[0]).join(", ")}): both agents would manage the same pod containers. ` +
        "Stop that cluster or pass nodeNamePrefix.",
    );
  }
  // Running pod containers of these names that no fixture started: another Navarch node of that
  // name (e.g. another test's agent) uses this Docker. Its pods are safe from ours (another
  // cluster id), but both service proxies would write the same nftables table navarch-<node>.
  for (const name of names) {
    const pods = await docker.listContainers({ all: false, filters: { label: [`${POD_NODE_LABEL}=${name}`] } });
    if (pods.length) {
      throw new Error(
        `${pods.length} running container(s) labelled ${POD_NODE_LABEL}=${name} exist (${pods.map((p) => p.Names[0]).join(", ")}): ` +
          `another node named ${name} runs on this Docker engine (its service proxy table navarch-${name} would clash with ours). Stop it, remove them, or pass nodeNamePrefix.`,
      );
    }
  }
}

/** The cluster's id from its NATS, made now when the cluster is new (libs/store clusterIdentity). */
async function navarchClusterId(url: string): Promise<string> {
  const nc = await connectNats({ url, name: "e2e-fixture" });
  try {
    return (await clusterIdentity(nc)).id;
  } finally {
    await nc.close();
  }
}

/** The host's Docker socket, to mount into node agents. */
function dockerSocketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return "/var/run/docker.sock";
}

/** One regular file out of a container, via the archive API (the images have no shell or cat). */
async function readFileFromContainer(container: StartedTestContainer, file: string): Promise<Buffer> {
  const stream = await container.copyArchiveFromContainer(file);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const tar = Buffer.concat(chunks);
  // ustar: 512-byte headers, size in octal at 124..136, type at 156; data padded to 512 bytes.
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(header.subarray(124, 136).toString("latin1").replace(/\0.*$/, "").trim() || "0", 8);
    const type = String.fromCharCode(header[156]!);
    if (type === "0" || type === "\0") return Buffer.from(tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${file} in container ${container.getName()} is not a regular file`);
}

function unless(statusCode: number): (e: Error & { statusCode?: number }) => void {
  return (e) => {
    if (e.statusCode !== statusCode) throw e;
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
