// The Docker Swarm side of the deployment benchmark: a one-node swarm on this engine
// (`docker swarm init --advertise-addr 127.0.0.1`), a replicated service of the local demo image
// (created through the API, which never resolves or pulls the image - the CLI needs
// --no-resolve-image for that), timed from the create call until every task is running; then a
// rolling update of it; then everything removed and the swarm left.
//
// An engine that is already in a swarm is not touched (someone else's): the Swarm figures are
// skipped with that reason. The docker_gwbridge network that `swarm init` creates is removed
// after leaving, unless it was there before.
import type Docker from "dockerode";
import { execFileSync } from "node:child_process";
import type { Clock } from "./docker.js";
import { sleep } from "./docker.js";

export const SWARM_LABEL = "dev.navarch.bench.swarm";
const GWBRIDGE = "docker_gwbridge";
const POLL_MS = 100;

export interface SwarmRun {
  wallMs: number;
}

export interface SwarmSession {
  /** Service name of the bench. */
  service: string;
  /** Whether this run initialized the swarm (and so must leave it). */
  initialized: boolean;
  gwbridgeBefore: boolean;
}

function dockerCli(args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

async function swarmState(docker: Docker): Promise<string> {
  const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string } };
  return info.Swarm?.LocalNodeState ?? "unknown";
}

async function networkExists(docker: Docker, name: string): Promise<boolean> {
  return (await docker.listNetworks({ filters: { name: [name] } })).some((n: { Name: string }) => n.Name === name);
}

/** Joins a one-node swarm of our own, or says why not. */
export async function openSwarm(docker: Docker, runId: string): Promise<SwarmSession | string> {
  const state = await swarmState(docker);
  if (state !== "inactive") return `this Docker engine is already in a swarm (state ${state}); the bench does not touch someone else's swarm`;
  const gwbridgeBefore = await networkExists(docker, GWBRIDGE);
  try {
    dockerCli(["swarm", "init", "--advertise-addr", "127.0.0.1"]);
  } catch (err) {
    return `docker swarm init failed: ${(err as Error).message.split("\n")[0]}`;
  }
  return { service: `navarch-bench-${runId}`, initialized: true, gwbridgeBefore };
}

function tasksRunning(tasks: { DesiredState?: string; Status?: { State?: string }; Spec?: { ContainerSpec?: { Image?: string } } }[], image: string): number {
  return tasks.filter((t) => t.DesiredState === "running" && t.Status?.State === "running" && t.Spec?.ContainerSpec?.Image === image).length;
}

/** Creates the service with n replicas of `image`; resolves when all n tasks run. */
export async function swarmCreate(docker: Docker, s: SwarmSession, runId: string, n: number, image: string, clock: Clock, timeoutMs: number): Promise<SwarmRun> {
  const t0 = clock();
  await docker.createService({
    Name: s.service,
    Labels: { [SWARM_LABEL]: runId },
    TaskTemplate: {
      ContainerSpec: { Image: image, Labels: { [SWARM_LABEL]: runId } },
      RestartPolicy: { Condition: "any" },
    },
    Mode: { Replicated: { Replicas: n } },
  });
  await until(clock, t0 + timeoutMs, `swarm service ${s.service}: ${n} tasks running`, async () =>
    tasksRunning(await docker.listTasks({ filters: JSON.stringify({ service: [s.service] }) }), image) >= n,
  );
  return { wallMs: clock() - t0 };
}

/**
 * A rolling update to `image`, `parallelism` tasks at a time, start-first (the new task starts
 * before the old one stops, like a surge); resolves when the update completed and n tasks of the
 * new image run.
 */
export async function swarmUpdate(
  docker: Docker,
  s: SwarmSession,
  n: number,
  image: string,
  parallelism: number,
  clock: Clock,
  timeoutMs: number,
): Promise<SwarmRun> {
  const svc = docker.getService(s.service);
  const info = (await svc.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> & { TaskTemplate: { ContainerSpec: Record<string, unknown> } } };
  const t0 = clock();
  await svc.update({
    version: info.Version.Index,
    ...info.Spec,
    TaskTemplate: { ...info.Spec.TaskTemplate, ContainerSpec: { ...info.Spec.TaskTemplate.ContainerSpec, Image: image } },
    UpdateConfig: { Parallelism: parallelism, Delay: 0, Order: "start-first", FailureAction: "pause" },
  });
  await until(clock, t0 + timeoutMs, `swarm service ${s.service}: update to ${image} complete`, async () => {
    const now = (await svc.inspect()) as { UpdateStatus?: { State?: string } };
    if (now.UpdateStatus?.State !== "completed") return false;
    return tasksRunning(await docker.listTasks({ filters: JSON.stringify({ service: [s.service], "desired-state": ["running"] }) }), image) >= n;
  });
  return { wallMs: clock() - t0 };
}

/** Removes the service, waits for its containers to go, leaves the swarm, removes docker_gwbridge if we made it. */
export async function closeSwarm(docker: Docker, s: SwarmSession, runId: string): Promise<void> {
  await docker
    .getService(s.service)
    .remove()
    .catch(() => undefined);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const left = await docker.listContainers({ all: true, filters: { label: [`${SWARM_LABEL}=${runId}`] } });
    if (left.length === 0) break;
    await sleep(200);
  }
  if (s.initialized) {
    try {
      dockerCli(["swarm", "leave", "--force"]);
    } catch {
      // already out of it
    }
    // Leaving detaches the ingress sandbox from docker_gwbridge a little later: retry a while.
    for (let i = 0; !s.gwbridgeBefore && i < 50 && (await networkExists(docker, GWBRIDGE)); i++) {
      await docker
        .getNetwork(GWBRIDGE)
        .remove()
        .catch(() => sleep(200));
    }
  }
}

async function until(clock: Clock, deadline: number, what: string, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check()) return;
    if (clock() > deadline) throw new Error(`${what}: not within the time allowed`);
    await sleep(POLL_MS);
  }
}
