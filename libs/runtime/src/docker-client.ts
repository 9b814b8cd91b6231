// Connecting to the Docker daemon and the one piece of shared state every pod needs on it: the
// user-defined bridge network that sandboxes join (pod IPs come from its subnet, and unlike the
// default bridge it gives containers DNS for each other's names).

import Docker from "dockerode";
import { dockerError, statusOf } from "./docker-errors.js";
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

/** Makes sure the bridge network exists; returns its ID. Safe against another agent creating it at the same time. */
export async function ensureNetwork(docker: Docker, name: string, logger: Logger): Promise<string> {
  const existing = await inspectNetwork(docker, name);
  if (existing) return existing;
  try {
    // CheckDuplicate: without it Docker happily creates a second network of the same name.
    await docker.createNetwork({ Name: name, Driver: "bridge", CheckDuplicate: true, Labels: { [MANAGED_LABEL]: "true" } });
    logger.info({ network: name }, "created Docker network");
  } catch (err) {
    if (statusOf(err) !== 409) throw dockerError(`create Docker network ${name}`, err);
  }
  const id = await inspectNetwork(docker, name);
  if (!id) throw new Error(`Docker network ${name} vanished right after it was created`);
  return id;
}

async function inspectNetwork(docker: Docker, name: string): Promise<string | undefined> {
  try {
    const info = (await docker.getNetwork(name).inspect()) as { Id: string; Name: string };
    // Inspect also matches an ID prefix; only the exact name counts.
    return info.Name === name ? info.Id : undefined;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw dockerError(`inspect Docker network ${name}`, err);
  }
}
