// Everything a cluster fixture starts carries labels, so it can be found and removed again: by
// stop(), by the process 'exit' hook when a test file ends without stopping its clusters, and by
// the next startCluster() when a test process was killed outright (its pid is gone).
//
//   navarch.e2e.fixture=testcontainers   every container the fixture starts
//   navarch.e2e.cluster=<id>             which cluster it belongs to
//   navarch.e2e.pid=<pid>                the test process that started it
//   navarch.e2e.node=<node name>         on node-agent containers (NOT navarch.node: that label
//                                        marks pod containers, which an agent garbage-collects)
//   navarch.e2e.navarch-cluster=<uuid>   on the control plane and node agents: the Navarch cluster
//                                        id (navarch-cluster/id in the cluster's NATS)
// Pod containers (and the agents' netfilter helpers) are found by the node agents' own label
// navarch.cluster=<Navarch cluster id> - per cluster, so two clusters with nodes of the same name
// never remove each other's; the private network is named navarch-e2e-<pid>-<random>, the pods'
// network the same plus "-pods". Each node's service proxy leaves an nftables table navarch-<node>
// in the host's netfilter and a helper container labelled navarch.netfilter.owner=<node> when its
// agent did not stop cleanly.
import type { ContainerRuntimeClient } from "testcontainers";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { GUARD_LOCAL_TABLE, GUARD_PROHIBIT_TABLE, GUARD_RULE_PRIORITY } from "@navarch/runtime";

/** dockerode, as testcontainers exposes it (client.container.dockerode). */
export type Dockerode = ContainerRuntimeClient["container"]["dockerode"];

export const LABEL_FIXTURE = "navarch.e2e.fixture";
export const LABEL_CLUSTER = "navarch.e2e.cluster";
export const LABEL_PID = "navarch.e2e.pid";
export const LABEL_ROLE = "navarch.e2e.role";
export const LABEL_NODE = "navarch.e2e.node";
/** The label the node agent puts on the containers of its pods. */
export const POD_NODE_LABEL = "navarch.node";
/** The Navarch cluster id on every container a node agent makes (libs/runtime LABELS.cluster). */
export const POD_CLUSTER_LABEL = "navarch.cluster";
/** On the fixture's control plane and agents: the Navarch cluster id, for removeOrphans. */
export const LABEL_NAVARCH_CLUSTER = "navarch.e2e.navarch-cluster";
export const NETWORK_PREFIX = "navarch-e2e-";
/** On the node agent's netfilter helper (libs/runtime docker-netfilter.ts). */
export const NETFILTER_OWNER_LABEL = "navarch.netfilter.owner";

/** A node's service proxy table (services/node-agent service-proxy/reconcile.ts tableName). */
export function proxyTable(node: string): string {
  return `navarch-${node.replaceAll(".", "_").replace(/[^a-zA-Z0-9_-]/g, "-")}`;
}

export interface TrackedCluster {
  id: string;
  /** Known once the network exists. */
  networkName?: string;
  /** The pods' network (NAVARCH_POD_NETWORK of the nodes). */
  podNetworkName?: string;
  nodeNames: string[];
  /** The Navarch cluster id its agents label pod containers with; known once its NATS runs (no agent runs before). */
  navarchCluster?: string;
  /** A temp dir of the fixture's (the client config), removed with the cluster by the exit hook. */
  home?: string;
  /** The cluster's service CIDR: its agents' guard (ADR 18) goes with it, once no pod of it is left. */
  serviceRange?: string;
}

const live = new Map<string, TrackedCluster>();
let hooked = false;

/** Remembers a cluster until untrack(); the exit hook removes whatever is still tracked. */
export function track(cluster: TrackedCluster): void {
  live.set(cluster.id, cluster);
  if (hooked) return;
  hooked = true;
  process.on("exit", removeAllSync);
  // A test process stopped by Ctrl-C or by the runner: clean up, then end as the signal would.
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(signal, () => {
      removeAllSync();
      process.exit(code);
    });
  }
}

export function untrack(id: string): void {
  live.delete(id);
}

export function trackedClusters(): TrackedCluster[] {
  return [...live.values()];
}

/** Removes one cluster's containers, its pods' containers and its network (async, via the Docker API). */
export async function removeCluster(docker: Dockerode, cluster: TrackedCluster): Promise<void> {
  const errors: string[] = [];
  const removeAll = async (label: string, keep: (c: { Labels: Record<string, string> }) => boolean = () => false) => {
    const found = (await docker.listContainers({ all: true, filters: { label: [label] } })).filter((c) => !keep(c));
    await Promise.all(
      found.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch((e: Error & { statusCode?: number }) => {
            if (e.statusCode !== 404 && !/already in progress/.test(e.message)) errors.push(`container ${c.Id.slice(0, 12)}: ${e.message}`);
          }),
      ),
    );
  };
  // The agents first, so none of them starts a pod container while those are removed.
  await removeAll(`${LABEL_CLUSTER}=${cluster.id}`);
  const own = cluster.navarchCluster;
  // The tables while the helpers still run (their nft does it), then the pods and helpers: all of
  // this cluster's, none of another's (a node of the same name elsewhere keeps its own).
  for (const node of cluster.nodeNames) await removeProxyTable(docker, node, own).catch((e: Error) => errors.push(`nftables table ${proxyTable(node)}: ${e.message}`));
  if (own) await removeAll(`${POD_CLUSTER_LABEL}=${own}`);
  // A helper made before cluster ids (no navarch.cluster) is nobody's to keep: it would be reused
  // by the next agent of that node name and never swept by cluster again.
  for (const node of cluster.nodeNames) await removeAll(`${NETFILTER_OWNER_LABEL}=${node}`, (c) => c.Labels[POD_CLUSTER_LABEL] !== undefined);
  for (const network of [cluster.networkName, cluster.podNetworkName]) {
    if (network) await removeNetwork(docker, network).catch((e: Error) => errors.push(`network ${network}: ${e.message}`));
  }
  // The host keeps a service range's guard after its agents stop (ADR 18); no pod of this cluster is
  // left to send to the range now, and each test cluster's range is its own.
  if (cluster.serviceRange) removeServiceRangeGuard(cluster.serviceRange);
  if (errors.length) throw new Error(`could not remove everything of cluster ${cluster.id}:\n${errors.join("\n")}`);
}

/** The guard's two rules and two routes of one range; each may be gone already (or never made). */
function removeServiceRangeGuard(range: string): void {
  const commands = [
    ["rule", "del", "pref", String(GUARD_RULE_PRIORITY), "to", range],
    ["rule", "del", "pref", String(GUARD_RULE_PRIORITY + 1), "to", range],
    ["route", "del", "local", range, "table", String(GUARD_LOCAL_TABLE)],
    ["route", "del", "prohibit", range, "table", String(GUARD_PROHIBIT_TABLE)],
  ];
  for (const args of commands) {
    try {
      execFileSync("ip", args, { stdio: "ignore" });
    } catch {
      // not there: nothing to remove
    }
  }
}

/**
 * Removes a network of the cluster's own. A request an agent sent just before it was killed can
 * still create a pod container after the sweep above (dockerd finishes it): whatever is attached to
 * the network then is the cluster's too, so it goes, and the removal is tried again (a few times).
 */
async function removeNetwork(docker: Dockerode, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await docker.getNetwork(name).remove();
      return;
    } catch (err) {
      const e = err as Error & { statusCode?: number };
      if (e.statusCode === 404) return;
      if (!/active endpoints/.test(e.message)) throw e;
    }
    const info = (await docker.getNetwork(name).inspect()) as { Containers?: Record<string, unknown> };
    if (attempt >= 5) {
      // dockerd can keep an endpoint of a container killed while it was being connected, with no
      // container left to remove (it goes with a dockerd restart): nothing of ours runs, so say so
      // and go on; the next startCluster's sweep tries again.
      if (Object.keys(info.Containers ?? {}).length === 0) {
        console.warn(`# network ${name} kept a stale endpoint of a removed container (a dockerd restart clears it)`);
        return;
      }
      throw new Error(`network ${name} still has containers attached: ${Object.keys(info.Containers ?? {}).join(", ")}`);
    }
    await Promise.all(
      Object.keys(info.Containers ?? {}).map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

/**
 * Deletes a node's service proxy table from the host's netfilter, with nft in the node's helper
 * container when it still runs (the test process may have no nft of its own), else with the host's.
 */
async function removeProxyTable(docker: Dockerode, node: string, navarchCluster: string | undefined): Promise<void> {
  const table = proxyTable(node);
  const ofCluster = navarchCluster ? [`${POD_CLUSTER_LABEL}=${navarchCluster}`] : [];
  const helpers = await docker.listContainers({ all: false, filters: { label: [`${NETFILTER_OWNER_LABEL}=${node}`, ...ofCluster] } });
  const script = `table ip ${table}\ndelete table ip ${table}\n`;
  for (const h of helpers) {
    const exec = await docker.getContainer(h.Id).exec({ Cmd: ["sh", "-c", `printf '${script}' | nft -f -`], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    await new Promise<void>((resolve) => {
      stream.on("end", () => resolve());
      stream.on("error", () => resolve());
      stream.resume();
    });
    if ((await exec.inspect()).ExitCode === 0) return;
  }
  hostNft(script);
}

/** nft on the host, best effort (absent, or not root: the helper's way is the main one). */
function hostNft(script: string): void {
  for (const nft of ["/usr/sbin/nft", "/sbin/nft"]) {
    try {
      execFileSync(nft, ["-f", "-"], { input: script, stdio: ["pipe", "ignore", "ignore"], timeout: 30_000 });
      return;
    } catch {
      // next, or give up
    }
  }
}

/** The last resort on process exit: synchronous, with the docker CLI. */
export function removeAllSync(): void {
  for (const cluster of live.values()) {
    const ids = new Set<string>();
    // Pods and netfilter helpers by this cluster's Navarch id only.
    for (const filter of [`${LABEL_CLUSTER}=${cluster.id}`, ...(cluster.navarchCluster ? [`${POD_CLUSTER_LABEL}=${cluster.navarchCluster}`] : [])]) {
      for (const id of dockerSync(["ps", "-aq", "--filter", `label=${filter}`]).split(/\s+/)) if (id) ids.add(id);
    }
    if (ids.size) dockerSync(["rm", "-f", "-v", ...ids]);
    for (const node of cluster.nodeNames) {
      const table = proxyTable(node);
      hostNft(`table ip ${table}\ndelete table ip ${table}\n`);
    }
    for (const network of [cluster.networkName, cluster.podNetworkName]) if (network) dockerSync(["network", "rm", network]);
    if (cluster.home) rmSync(cluster.home, { recursive: true, force: true });
  }
  live.clear();
}

function dockerSync(args: string[]): string {
  try {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 });
  } catch {
    return "";
  }
}

/**
 * Removes what test processes that no longer exist left behind (killed with SIGKILL, so no hook
 * ran): their containers, their pods' containers (by their Navarch cluster id), the proxy tables of
 * their nodes (unless a live fixture runs a node of that name) and their networks.
 */
export async function removeOrphans(docker: Dockerode): Promise<string[]> {
  const removed: string[] = [];
  const fixtures = await docker.listContainers({ all: true, filters: { label: [`${LABEL_FIXTURE}=testcontainers`] } });
  const orphans = new Map<string, TrackedCluster>();
  const liveNodes = new Set<string>();
  for (const c of fixtures) {
    const pid = Number(c.Labels[LABEL_PID]);
    const node = c.Labels[LABEL_NODE];
    if (pidAlive(pid)) {
      if (node) liveNodes.add(node);
      continue;
    }
    const id = c.Labels[LABEL_CLUSTER] ?? "";
    const t = orphans.get(id) ?? { id, nodeNames: [] };
    if (node) t.nodeNames.push(node);
    t.navarchCluster ??= c.Labels[LABEL_NAVARCH_CLUSTER];
    orphans.set(id, t);
  }
  for (const t of orphans.values()) {
    t.nodeNames = t.nodeNames.filter((n) => !liveNodes.has(n));
    await removeCluster(docker, t).catch(() => undefined);
    removed.push(`cluster ${t.id}`);
  }
  const networks = await docker.listNetworks();
  for (const n of networks) {
    const m = new RegExp(`^${NETWORK_PREFIX}(\\d+)-`).exec(n.Name);
    if (!m || pidAlive(Number(m[1]))) continue;
    await docker
      .getNetwork(n.Id)
      .remove()
      .then(() => removed.push(`network ${n.Name}`))
      .catch(() => undefined);
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
