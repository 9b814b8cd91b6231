// The Docker side of the pod benchmark: the engine's event stream (every container event on the
// machine, with the daemon's nanosecond timestamps), the raw Docker baseline (`docker run -d`
// through the API), and removal of everything the bench started.
//
// Containers the bench starts itself carry RAW_LABEL=<run id>; the node agent's carry
// navarch.node=<the bench's node>. Nothing else on the engine is ever touched (other clusters and
// tests may be using it at the same time).
import Docker from "dockerode";
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** The node agent's container labels (libs/runtime/src/runtime.ts LABELS). */
export const LABELS = {
  node: "navarch.node",
  pod: "navarch.pod.name",
  role: "navarch.container.role",
  attempt: "navarch.container.attempt",
} as const;
/** On every container of the raw baseline: the bench run's id. */
export const RAW_LABEL = "dev.navarch.bench";
/** "sandbox" or "app": sandboxes are removed after the containers in their namespace. */
const RAW_ROLE_LABEL = "dev.navarch.bench.role";
export const DEMO_IMAGE = "navarch/demo:1";
export const PAUSE_IMAGE = "navarch/pause:1";
/** The bridge network of pod sandboxes (libs/runtime); raw containers join it too. */
export const NETWORK = "navarch";

/** Wall-clock milliseconds with sub-ms resolution, comparable with Docker's and NATS' timestamps. */
export type Clock = () => number;

export function wallClock(): Clock {
  const anchor = Date.now() - performance.now();
  return () => anchor + performance.now();
}

export function connectDocker(): Docker {
  const host = process.env.DOCKER_HOST;
  const unix = host ? /^unix:\/\/(.+)$/.exec(host) : null;
  if (host && !unix) return new Docker(); // tcp: docker-modem reads DOCKER_HOST and its TLS variables
  return new Docker({ socketPath: unix?.[1] ?? "/var/run/docker.sock" });
}

export interface EngineInfo {
  version: string;
  cgroup: string;
  driver: string;
  containersRunning: number;
}

/** `docker info`, or why it failed (the pod benchmark is skipped then). */
export async function engineInfo(docker: Docker, timeoutMs = 5_000): Promise<EngineInfo | string> {
  try {
    const info = (await Promise.race([
      docker.info(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ])) as Record<string, unknown>;
    return {
      version: String(info.ServerVersion ?? "?"),
      cgroup: `cgroup v${String(info.CgroupVersion ?? "?")}`,
      driver: String(info.Driver ?? "?"),
      containersRunning: Number(info.ContainersRunning ?? 0),
    };
  } catch (err) {
    return `docker info failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

export interface DockerEvent {
  action: string;
  id: string;
  /** Epoch ms, from the daemon's timeNano. */
  at: number;
  labels: Record<string, string>;
}

/**
 * Every container event of the engine while the bench runs (not only ours: the others tell
 * whether someone else used Docker during a phase). Waiters are checked on every event.
 */
export class DockerEvents {
  readonly all: DockerEvent[] = [];
  private waiters = new Set<{ pred: (e: DockerEvent) => boolean; resolve: (e: DockerEvent) => void }>();
  private closed = false;

  private constructor(private readonly stream: NodeJS.ReadableStream & { destroy(): void }) {
    let buf = "";
    stream.on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) this.onLine(line);
      }
    });
    stream.on("error", () => undefined); // ends with close(); a broken stream shows as missing events
  }

  static async open(docker: Docker): Promise<DockerEvents> {
    const stream = (await docker.getEvents({
      filters: { type: ["container"], event: ["create", "start", "kill", "die", "destroy"] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    return new DockerEvents(stream);
  }

  private onLine(line: string): void {
    let m: { Type?: string; Action?: string; id?: string; time?: number; timeNano?: number; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    if (m.Type !== "container" || !m.Action) return;
    const e: DockerEvent = {
      action: m.Action,
      id: m.Actor?.ID ?? m.id ?? "",
      at: m.timeNano ? m.timeNano / 1e6 : (m.time ?? 0) * 1000,
      labels: m.Actor?.Attributes ?? {},
    };
    this.all.push(e);
    for (const w of this.waiters) {
      if (w.pred(e)) {
        this.waiters.delete(w);
        w.resolve(e);
      }
    }
  }

  /** The first event (already seen or to come) matching pred; rejects after timeoutMs. */
  waitFor(pred: (e: DockerEvent) => boolean, timeoutMs: number, what: string): Promise<DockerEvent> {
    const seen = this.all.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (e: DockerEvent) => {
          clearTimeout(t);
          resolve(e);
        },
      };
      const t = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`no Docker event within ${timeoutMs} ms: ${what}`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.destroy();
  }
}

export interface RawRun {
  n: number;
  layout: RawLayout;
  concurrency: number;
  /** First create call to the last container seen running, ms. */
  wallMs: number;
  /** Per container: its create call to State.Running, ms. */
  each: number[];
  /** [start, running] of every container, epoch ms. */
  windows: [number, number][];
}

/** What one raw "pod" is: a lone demo container, or Navarch's layout without the agent. */
export type RawLayout = "lone" | "pair";

/**
 * `docker run -d` of `n` demo containers on the navarch network, `concurrency` at a time: create,
 * start, then inspect until State.Running. With layout "pair", each is Navarch's layout made by
 * hand instead: a pause container on the network, then the demo container in its network
 * namespace (NetworkMode container:<pause>), as libs/runtime does it. Containers stay (removeRaw
 * takes them away).
 */
export async function rawRun(
  docker: Docker,
  clock: Clock,
  runId: string,
  tag: string,
  n: number,
  concurrency: number,
  layout: RawLayout = "lone",
  signal?: AbortSignal,
): Promise<RawRun> {
  const each: number[] = new Array<number>(n);
  const windows: [number, number][] = new Array<[number, number]>(n);
  let next = 0;
  const run = async (name: string, image: string, networkMode: string, role: string) => {
    const c = await docker.createContainer({
      name,
      Image: image,
      Env: [`POD_NAME=${name}`],
      Labels: { [RAW_LABEL]: runId, [RAW_ROLE_LABEL]: role },
      HostConfig: { NetworkMode: networkMode, RestartPolicy: { Name: "no" } },
    });
    await c.start();
    for (let tries = 0; ; tries++) {
      const st = await c.inspect();
      if (st.State.Running) return c.id;
      if (st.State.Status === "exited" || st.State.Status === "dead") throw new Error(`raw container ${name} ${st.State.Status}: ${st.State.Error}`);
      if (tries > 1_000) throw new Error(`raw container ${name} not running after ${tries} inspects`);
      await sleep(5);
    }
  };
  const t0 = clock();
  let failure: unknown;
  const worker = async () => {
    while (next < n && failure === undefined) {
      if (signal?.aborted) throw new Error("aborted");
      const i = next++;
      const name = `navarch-bench-${runId}-${tag}-${i}`;
      const s = clock();
      if (layout === "pair") {
        const sandbox = await run(`${name}-sandbox`, PAUSE_IMAGE, NETWORK, "sandbox");
        await run(`${name}-app`, DEMO_IMAGE, `container:${sandbox}`, "app");
      } else {
        await run(name, DEMO_IMAGE, NETWORK, "app");
      }
      const e = clock();
      each[i] = e - s;
      windows[i] = [s, e];
    }
  };
  // Every worker ends before this returns (a failure stops the others from starting more), so
  // nothing is still being created when the caller removes the containers.
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, () =>
      worker().catch((err: unknown) => {
        failure ??= err;
        throw err;
      }),
    ),
  );
  if (results.some((r) => r.status === "rejected")) throw failure;
  return { n, layout, concurrency, wallMs: clock() - t0, each, windows };
}

/**
 * Force-removes the containers carrying label `filter` (key=value), 8 at a time, the ones that
 * hold a network namespace (sandboxes) last; returns how many there were.
 */
async function removeLabelled(docker: Docker, filter: string): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [filter] } });
  const isSandbox = (c: Docker.ContainerInfo) => c.Labels[LABELS.role] === "sandbox" || c.Labels[RAW_ROLE_LABEL] === "sandbox";
  for (const batch of [list.filter((c) => !isSandbox(c)), list.filter(isSandbox)]) {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < batch.length) {
          const c = batch[next++]!;
          await docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch((err: { statusCode?: number }) => {
              if (err.statusCode !== 404 && err.statusCode !== 409) throw err; // gone, or already being removed
            });
        }
      }),
    );
  }
  return list.length;
}

export function removeRaw(docker: Docker, runId: string): Promise<number> {
  return removeLabelled(docker, `${RAW_LABEL}=${runId}`);
}

export function removeNodeContainers(docker: Docker, node: string): Promise<number> {
  return removeLabelled(docker, `${LABELS.node}=${node}`);
}

/** How many containers (any state) carry navarch.node=<node>. */
export async function nodeContainerCount(docker: Docker, node: string): Promise<number> {
  return (await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${node}`] } })).length;
}

/** The running app container of a pod on the node. */
export async function appContainerOf(docker: Docker, node: string, pod: string): Promise<string | undefined> {
  const list = await docker.listContainers({
    filters: { label: [`${LABELS.node}=${node}`, `${LABELS.pod}=${pod}`, `${LABELS.role}=app`], status: ["running"] },
  });
  return list[0]?.Id;
}

/** Pids of the engine's processes by name (dockerd, containerd; shims come and go with containers). */
export function enginePids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
      if (comm === "dockerd" || comm === "containerd") pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
