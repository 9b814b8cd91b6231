// Connecting to the Docker daemon and the one piece of shared state every pod needs on it: the
// user-defined bridge network that sandboxes join (pod IPs come from its subnet, and unlike the
// default bridge it gives containers DNS for each other's names).

import Docker from "dockerode";
import { dockerError, statusOf } from "./docker-errors.js";
import { dynamicRangeOf } from "./ipv4.js";
import type { Logger } from "./logger.js";

export const DEFAULT_SOCKET = "/var/run/docker.sock";
/** On the network, so `docker network ls --filter label=dev.navarch.managed` shows what Navarch made. */
export const MANAGED_LABEL = "dev.navarch.managed";

/**
 * An explicit socket path wins; else DOCKER_HOST (docker-modem reads it, with its TLS variables,
 * when given no address); else the standard socket.
 */
export function dockerOptions(socketPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  if (socketPath) return { socketPath };
  if (env.DOCKER_HOST) {
    const unix = /^unix:\/\/(.+)$/.exec(env.DOCKER_HOST);
    return unix ? { socketPath: unix[1]! } : {};
  }
  return { socketPath: DEFAULT_SOCKET };
}

export function connect(socketPath?: string): Docker {
  return new Docker(dockerOptions(socketPath));
}

/**
 * The IPAM config of a pod network with `subnet`: Docker hands out addresses on its own only from
 * the subnet's first sixteenth (sandboxes, containers joined by hand); the rest is carved into node
 * pod CIDRs for fixed pod IPs (Docker accepts a fixed IP only on a network with a configured subnet).
 */
export function podNetworkIpam(subnet: string): { Driver: string; Config: { Subnet: string; IPRange: string }[] } {
  return { Driver: "default", Config: [{ Subnet: subnet, IPRange: dynamicRangeOf(subnet) }] };
}

/**
 * Makes sure the bridge network exists; returns its ID. Safe against another agent creating it at
 * the same time. With `subnet` a new network gets it (podNetworkIpam); when Docker refuses the
 * subnet (it overlaps another network) the network is made without one, and its pods keep sandboxes.
 */
export async function ensureNetwork(docker: Docker, name: string, logger: Logger, subnet?: string): Promise<string> {
  const existing = await inspectNetwork(docker, name, logger);
  if (existing) return existing;
  // CheckDuplicate: without it Docker happily creates a second network of the same name.
  const base = { Name: name, Driver: "bridge", CheckDuplicate: true, Labels: { [MANAGED_LABEL]: "true" } };
  try {
    try {
      await docker.createNetwork(subnet ? { ...base, IPAM: podNetworkIpam(subnet) } : base);
      logger.info({ network: name, subnet }, "created Docker network");
    } catch (err) {
      if (!subnet || statusOf(err) === 409 || !/overlap|pool|subnet/i.test((err as Error).message ?? "")) throw err;
      logger.warn(
        { network: name, subnet, err: (err as Error).message },
        "the pod subnet is not usable on this Docker engine (set NAVARCH_POD_SUBNET to a free range): created the network without it; every pod gets a sandbox",
      );
      await docker.createNetwork(base);
    }
  } catch (err) {
    if (statusOf(err) !== 409) throw dockerError(`create Docker network ${name}`, err);
  }
  const id = await inspectNetwork(docker, name, logger);
  if (!id) throw new Error(`Docker network ${name} vanished right after it was created`);
  return id;
}

async function inspectNetwork(docker: Docker, name: string, logger: Logger): Promise<string | undefined> {
  try {
    const info = (await docker.getNetwork(name).inspect()) as { Id: string; Name: string };
    // Inspect also matches an ID prefix; only the exact name counts.
    return info.Name === name ? info.Id : undefined;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    if (/ambiguous|matches found/i.test((err as Error).message ?? "")) return keepOneNetwork(docker, name, logger);
    throw dockerError(`inspect Docker network ${name}`, err);
  }
}

/**
 * Two agents that create the network at the same moment can both succeed (CheckDuplicate is only
 * best effort in the daemon; seen with two clusters' agents starting together on one engine), and
 * then the name is ambiguous to every later call. Every agent keeps the same one - the oldest, ties
 * broken by ID - and removes the others (one with containers on it already stays, and says so).
 */
async function keepOneNetwork(docker: Docker, name: string, logger: Logger): Promise<string | undefined> {
  let all: Docker.NetworkInspectInfo[];
  try {
    // The name filter matches substrings: only the exact name counts.
    all = (await docker.listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name);
  } catch (err) {
    throw dockerError(`list Docker networks named ${name}`, err);
  }
  all.sort((x, y) => Date.parse(x.Created) - Date.parse(y.Created) || x.Id.localeCompare(y.Id));
  const [keep, ...extra] = all;
  for (const n of extra) {
    try {
      await docker.getNetwork(n.Id).remove();
      logger.warn({ network: name, removed: n.Id.slice(0, 12), kept: keep!.Id.slice(0, 12) }, "removed a second Docker network of the same name (made at the same moment by another agent)");
    } catch (err) {
      if (statusOf(err) !== 404) logger.warn({ network: name, id: n.Id.slice(0, 12), err: (err as Error).message }, "a second Docker network of the same name could not be removed");
    }
  }
  return keep?.Id;
}
