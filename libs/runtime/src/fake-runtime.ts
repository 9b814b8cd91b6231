// ContainerRuntime in memory, for simulated (hollow) nodes - like kubemark's and kwok's fake
// kubelets - and for tests of the runtime's users. Nothing runs: a sandbox gets a made-up IP, a
// container is "running" the moment it is started, and stays so until its script says otherwise
// (exit code, crash, OOM kill) or someone stops it. It keeps Docker's observable behaviour where
// the node agent relies on it:
//   - idempotent creation by name (a running duplicate is an error, a dead one is replaced);
//   - a failed start leaves the container "created" with its error (exit code 128);
//   - events in Docker's order: create, start; oom, die (with the exit code); destroy;
//   - stop: SIGTERM, then SIGKILL (exit 137) after the grace when the script ignores SIGTERM;
//   - the runtime can be made unreachable (every call throws RuntimeUnavailableError and event
//     streams end), as when dockerd restarts, so the agent resyncs.
//
// Memory matters more than fidelity: one hollow-nodes process holds 150,000 pods. A container is
// one small record (times as numbers, the pod reference shared with its sandbox), a long-running
// container has no timer, and logs are kept only when a script gives some.
import { createHash, randomBytes } from "node:crypto";
import { PAUSE_IMAGE, SANDBOX_CONTAINER_NAME } from "./docker-spec.js";
import {
  ContainerNotFoundError,
  ImageNotPresentError,
  ImagePullError,
  RuntimeUnavailableError,
  ExecTimeoutError,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type ContainerStatus,
  type LogOptions,
  type NetworkProbe,
  type PodNetwork,
  type PodRef,
  type PullPolicy,
  type RuntimeEvent,
  type RuntimeEventType,
  type RuntimeInfo,
  type Sandbox,
  type SandboxSpec,
} from "./runtime.js";

/** What a started container does; every field is optional (default: runs until stopped). */
export interface ContainerScript {
  /** Exits by itself this long after it started (0: at once). Undefined: runs until stopped. */
  exitAfterMs?: number;
  /** Its exit code when it exits by itself (default 0). */
  exitCode?: number;
  /** It exits because the kernel killed it for its memory (exit code 137, oomKilled). */
  oom?: boolean;
  /** Starting it fails with this message (like an exec format error); it stays "created". */
  startError?: string;
  /** Ignores SIGTERM: a stop takes the whole grace period and ends with SIGKILL (137). */
  ignoresSigterm?: boolean;
  /** Exit code after SIGTERM when it does not ignore it (default 143: killed by the signal). */
  sigtermExitCode?: number;
  /** What its log holds (one chunk, written when it starts). */
  logs?: string;
  /** Answers execs (probes); default exit code 0 and no output. */
  exec?: (command: string[]) => { exitCode: number; output: string };
  /** Answers HTTP and TCP probes (its pod IP is made up: nothing is dialed); default success. */
  probe?: (probe: NetworkProbe) => { ok: boolean; output: string };
}

export interface FakeRuntimeOptions {
  /** What a container does, from its spec; default: runs until stopped. */
  script?: (spec: ContainerSpec) => ContainerScript | undefined;
  /**
   * Images present on the node: "all" (the default: every image is always there) or a list; with
   * a list, a pull succeeds for images `pullable` accepts and fails otherwise.
   */
  images?: "all" | Iterable<string>;
  pullable?: (image: string) => boolean;
  /** How long a successful pull takes (default 0). */
  pullMs?: number;
  /** Makes runSandbox fail for a pod with this message (sandbox errors). */
  sandboxError?: (spec: SandboxSpec) => string | undefined;
  /** Pod IPs; the default hands out unique 10.x.y.z addresses across every FakeRuntime of the process. */
  allocateIp?: () => string;
  /** What info() says about the machine. */
  cpus?: number;
  memoryBytes?: number;
  hostname?: string;
}

/** Exit code of a container killed by SIGKILL (also an OOM kill), as Docker reports it. */
const SIGKILL_EXIT = 137;
const SIGTERM_EXIT = 143;
/** Docker's exit code for a container whose start failed. */
const START_FAILED_EXIT = 128;

interface Record_ {
  id: string;
  pod: PodRef;
  name: string;
  role: "sandbox" | "app";
  attempt: number;
  image: string;
  state: ContainerState;
  exitCode: number;
  oomKilled: boolean;
  error: string;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  /** The sandbox's pod IP (or an app container's own, when it has no sandbox); the app container's sandbox id. */
  ip?: string | undefined;
  sandboxId?: string | undefined;
  script?: ContainerScript | undefined;
  /** Pending self-exit or SIGKILL after a grace period. */
  timer?: ReturnType<typeof setTimeout> | undefined;
  /** Waiters for the container to stop (stopContainer, followed logs). */
  onExit?: (() => void)[] | undefined;
}

interface Subscriber {
  node: string | undefined;
  push(event: RuntimeEvent): void;
  end(): void;
}

let nextIp = 0;
/** 10.0.0.0/8 minus network and broadcast-looking addresses: 16 million unique pod IPs per process. */
function defaultIp(): string {
  let n: number;
  do n = ++nextIp % 0x1000000;
  while ((n & 0xff) === 0 || (n & 0xff) === 0xff);
  return `10.${n >> 16}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** Image IDs are the same for the same name everywhere (and computed once per name). */
const imageIds = new Map<string, string>();
function imageIdOf(image: string): string {
  let id = imageIds.get(image);
  if (!id) imageIds.set(image, (id = `sha256:${createHash("sha256").update(image).digest("hex")}`));
  return id;
}

export class FakeRuntime implements ContainerRuntime {
  private readonly containers = new Map<string, Record_>();
  /** Docker's container names: `<uid>` for a sandbox, `<uid>/<container>/<attempt>` for an app. */
  private readonly byName = new Map<string, string>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly present: Set<string> | undefined;
  private readonly idPrefix = randomBytes(4).toString("hex");
  private nextId = 0;
  private available = true;
  private runningApps = 0;
  /** Calls made, by method (tests; the hollow nodes report them). */
  readonly calls = new Map<string, number>();

  constructor(private readonly opts: FakeRuntimeOptions = {}) {
    this.present = opts.images === undefined || opts.images === "all" ? undefined : new Set(opts.images);
  }

  /** Makes the runtime unreachable (every call throws, event streams end) or reachable again. */
  setAvailable(available: boolean): void {
    this.available = available;
    if (!available) for (const s of [...this.subscribers]) s.end();
  }

  /** Containers (sandboxes and apps) held now. */
  get size(): number {
    return this.containers.size;
  }

  /** App containers running now. */
  get running(): number {
    return this.runningApps;
  }

  /** Makes a running container exit now with `exitCode` (a crash), as if its process ended. */
  exit(id: string, exitCode: number): void {
    const c = this.containers.get(id);
    if (c?.state === "running") this.finish(c, exitCode, false);
  }

  /** Makes a running container be killed for its memory now. */
  oomKill(id: string): void {
    const c = this.containers.get(id);
    if (c?.state === "running") this.finish(c, SIGKILL_EXIT, true);
  }

  async info(): Promise<RuntimeInfo> {
    this.enter("info");
    return {
      name: "fake",
      version: "1.0.0",
      apiVersion: "1.0",
      os: "linux",
      arch: "amd64",
      kernelVersion: "fake",
      cpus: this.opts.cpus ?? 4,
      memoryBytes: this.opts.memoryBytes ?? 16 * 1024 ** 3,
      hostname: this.opts.hostname ?? "hollow",
    };
  }

  async ensureImage(image: string, policy: PullPolicy, onPull?: (phase: "pulling" | "pulled", detail: string) => void): Promise<string> {
    this.enter("ensureImage");
    const here = !this.present || this.present.has(image);
    if (here && policy !== "Always") return imageIdOf(image);
    if (policy === "Never") throw new ImageNotPresentError(`image "${image}" is not present on the node and its pull policy is Never`);
    onPull?.("pulling", `Pulling image "${image}"`);
    if (this.opts.pullMs) await new Promise((r) => setTimeout(r, this.opts.pullMs));
    if (!here && !this.opts.pullable?.(image)) throw new ImagePullError(`pull access denied for ${image}, repository does not exist`);
    this.present?.add(image);
    onPull?.("pulled", `Successfully pulled image "${image}"`);
    return imageIdOf(image);
  }

  async runSandbox(spec: SandboxSpec): Promise<Sandbox> {
    this.enter("runSandbox");
    const existingId = this.byName.get(spec.pod.uid);
    const existing = existingId ? this.containers.get(existingId) : undefined;
    if (existing?.state === "running") return sandboxOf(existing);
    if (existing) this.remove(existing);
    const failure = this.opts.sandboxError?.(spec);
    if (failure) throw new Error(`start sandbox of ${spec.pod.namespace}/${spec.pod.name}: ${failure}`);
    const now = Date.now();
    const c: Record_ = {
      ...this.newRecord(spec.pod, SANDBOX_CONTAINER_NAME, "sandbox", 0, PAUSE_IMAGE, now),
      ip: (this.opts.allocateIp ?? defaultIp)(),
    };
    this.add(c, spec.pod.uid);
    c.state = "running";
    c.startedAt = now;
    this.emit("start", c);
    return sandboxOf(c);
  }

  stopSandbox(id: string): Promise<void> {
    return this.stopContainer(id, 0);
  }

  removeSandbox(id: string): Promise<void> {
    return this.removeContainer(id);
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    this.enter("createContainer");
    // A pod's only container may hold the pod's network itself (spec.network): no sandbox then.
    const sandbox = spec.network ? undefined : this.containers.get(spec.sandboxId);
    if (!spec.network && (!sandbox || sandbox.role !== "sandbox")) throw new ContainerNotFoundError(`create container ${spec.name}: no such sandbox ${spec.sandboxId}`);
    const name = `${spec.pod.uid}/${spec.name}/${spec.attempt}`;
    const existingId = this.byName.get(name);
    const existing = existingId ? this.containers.get(existingId) : undefined;
    if (existing?.state === "running") throw new Error(`create container ${name}: a running container ${existing.id.slice(0, 12)} already has this name`);
    if (existing) this.remove(existing);
    if (this.present && !this.present.has(spec.image)) throw new ImageNotPresentError(`create container ${name}: image "${spec.image}" is not present (ensureImage first)`);
    // The sandbox's pod reference is shared: one object per pod, not one per container.
    const c: Record_ = sandbox
      ? { ...this.newRecord(sandbox.pod, spec.name, "app", spec.attempt, spec.image, Date.now()), sandboxId: sandbox.id }
      : { ...this.newRecord(spec.pod, spec.name, "app", spec.attempt, spec.image, Date.now()), ip: spec.network!.ip };
    const script = this.opts.script?.(spec);
    if (script) c.script = script;
    this.add(c, name);
    return c.id;
  }

  async startContainer(id: string): Promise<void> {
    this.enter("startContainer");
    const c = this.find(id, "start container");
    if (c.state === "running") return;
    const sandbox = c.sandboxId ? this.containers.get(c.sandboxId) : undefined;
    const startError =
      c.script?.startError ??
      (c.role === "app" && c.sandboxId && sandbox?.state !== "running" ? `joining network namespace of container ${c.sandboxId}: it is not running` : undefined);
    if (startError) {
      c.error = startError;
      c.exitCode = START_FAILED_EXIT;
      throw new Error(`start container ${id.slice(0, 12)}: ${startError}`);
    }
    c.state = "running";
    this.runningApps++;
    c.startedAt = Date.now();
    c.finishedAt = 0;
    c.exitCode = 0;
    c.error = "";
    this.emit("start", c);
    const s = c.script;
    if (s?.oom || s?.exitAfterMs !== undefined) {
      const exit = () => this.finish(c, s.oom ? SIGKILL_EXIT : (s.exitCode ?? 0), !!s.oom);
      c.timer = setTimeout(exit, s.exitAfterMs ?? 0);
    }
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    this.enter("stopContainer");
    const c = this.containers.get(id);
    if (!c || c.state !== "running") return;
    const s = c.script;
    if (!s?.ignoresSigterm || graceSeconds <= 0) {
      this.finish(c, s?.ignoresSigterm ? SIGKILL_EXIT : c.role === "sandbox" ? 0 : (s?.sigtermExitCode ?? SIGTERM_EXIT), false);
      return;
    }
    const stopped = this.stopped(c);
    if (c.timer) clearTimeout(c.timer);
    c.timer = setTimeout(() => this.finish(c, SIGKILL_EXIT, false), graceSeconds * 1000);
    await stopped;
  }

  async removeContainer(id: string): Promise<void> {
    this.enter("removeContainer");
    const c = this.containers.get(id);
    if (c) this.remove(c);
  }

  async listContainers(node: string): Promise<ContainerStatus[]> {
    this.enter("listContainers");
    const out: ContainerStatus[] = [];
    for (const c of this.containers.values()) if (c.pod.node === node) out.push(statusOf(c));
    return out;
  }

  async listSandboxes(node: string): Promise<Sandbox[]> {
    this.enter("listSandboxes");
    const out: Sandbox[] = [];
    for (const c of this.containers.values()) if (c.role === "sandbox" && c.pod.node === node) out.push(sandboxOf(c));
    return out;
  }

  async inspectContainer(id: string): Promise<ContainerStatus | undefined> {
    this.enter("inspectContainer");
    const c = this.containers.get(id);
    return c ? statusOf(c) : undefined;
  }

  async *events(signal: AbortSignal, node?: string): AsyncIterable<RuntimeEvent> {
    this.enter("events");
    if (signal.aborted) return;
    const queue: RuntimeEvent[] = [];
    let head = 0;
    let ended = false;
    let wake: (() => void) | undefined;
    const sub: Subscriber = {
      node,
      push: (e) => {
        queue.push(e);
        wake?.();
      },
      end: () => {
        ended = true;
        wake?.();
      },
    };
    this.subscribers.add(sub);
    const onAbort = () => sub.end();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (head < queue.length) {
          const e = queue[head++]!;
          if (head > 1024 && head * 2 > queue.length) queue.splice(0, head), (head = 0);
          yield e;
          continue;
        }
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      this.subscribers.delete(sub);
      signal.removeEventListener("abort", onAbort);
    }
  }

  async *logs(id: string, opts: LogOptions, signal: AbortSignal): AsyncIterable<Buffer> {
    this.enter("logs");
    const c = this.find(id, "logs of container");
    const text = c.script?.logs ?? "";
    const at = c.startedAt;
    const since = opts.sinceSeconds ? Date.now() - opts.sinceSeconds * 1000 : 0;
    if (text && at > 0 && at >= since) {
      let lines = text.split(/(?<=\n)/);
      if (opts.tail !== undefined && opts.tail >= 0) lines = opts.tail === 0 ? [] : lines.slice(-opts.tail);
      const stamp = opts.timestamps ? `${new Date(at).toISOString()} ` : "";
      if (lines.length > 0) yield Buffer.from(lines.map((l) => stamp + l).join(""));
    }
    // Following ends when the container stops (or the caller goes away), as Docker's does.
    if (opts.follow && c.state === "running" && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const stopped = this.stopped(c);
        void stopped.then(resolve);
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    this.enter("exec");
    const c = this.find(id, "exec in container");
    if (c.state !== "running") throw new Error(`exec ${JSON.stringify(command)} in container ${id}: container ${id} is not running`);
    if (timeoutMs <= 0) throw new ExecTimeoutError(`exec ${JSON.stringify(command)} in container ${id} timed out after ${timeoutMs} ms`);
    return c.script?.exec?.(command) ?? { exitCode: 0, output: "" };
  }

  async simulatedNetworkProbe(id: string, probe: NetworkProbe): Promise<{ ok: boolean; output: string }> {
    this.enter("probe");
    const c = this.find(id, "probe container");
    if (c.state !== "running") return { ok: false, output: `${probe.type} probe of container ${id}: connection refused (not running)` };
    return c.script?.probe?.(probe) ?? { ok: true, output: "" };
  }

  /** Made-up pod IPs are no network anyone could serve: hollow nodes run no cluster DNS. */
  async podNetwork(): Promise<PodNetwork | undefined> {
    return undefined;
  }

  private enter(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    if (!this.available) throw new RuntimeUnavailableError(`${method}: the fake runtime is unavailable`);
  }

  private newRecord(pod: PodRef, name: string, role: "sandbox" | "app", attempt: number, image: string, now: number): Record_ {
    const id = this.idPrefix + (++this.nextId).toString(16).padStart(56, "0");
    return { id, pod, name, role, attempt, image, state: "created", exitCode: 0, oomKilled: false, error: "", createdAt: now, startedAt: 0, finishedAt: 0 };
  }

  private add(c: Record_, name: string): void {
    this.containers.set(c.id, c);
    this.byName.set(name, c.id);
    this.emit("create", c);
  }

  private remove(c: Record_): void {
    if (c.state === "running") this.finish(c, SIGKILL_EXIT, false);
    if (c.timer) clearTimeout(c.timer);
    this.containers.delete(c.id);
    const name = c.role === "sandbox" ? c.pod.uid : `${c.pod.uid}/${c.name}/${c.attempt}`;
    if (this.byName.get(name) === c.id) this.byName.delete(name);
    this.emit("destroy", c);
  }

  private find(id: string, what: string): Record_ {
    const c = this.containers.get(id);
    if (!c) throw new ContainerNotFoundError(`${what} ${id}: no such container`);
    return c;
  }

  /** The container stopped (by itself, by a signal, or killed): state, events, waiters. */
  private finish(c: Record_, exitCode: number, oom: boolean): void {
    if (c.state !== "running") return;
    if (c.timer) clearTimeout(c.timer);
    c.timer = undefined;
    c.state = "exited";
    if (c.role === "app") this.runningApps--;
    c.exitCode = exitCode;
    c.oomKilled = oom;
    c.finishedAt = Date.now();
    if (oom) this.emit("oom", c);
    this.emit("die", c, exitCode);
    const waiters = c.onExit;
    c.onExit = undefined;
    for (const w of waiters ?? []) w();
    // A sandbox that stops takes its pod's network with it: Docker stops nothing else, but the
    // app containers lose their namespace; the agent finds out through its resync, as with Docker.
  }

  private stopped(c: Record_): Promise<void> {
    if (c.state !== "running") return Promise.resolve();
    return new Promise((resolve) => (c.onExit ??= []).push(resolve));
  }

  private emit(type: RuntimeEventType, c: Record_, exitCode?: number): void {
    if (this.subscribers.size === 0) return;
    const event: RuntimeEvent = { type, containerId: c.id, pod: c.pod, containerName: c.name, at: new Date() };
    if (exitCode !== undefined) event.exitCode = exitCode;
    for (const s of this.subscribers) if (s.node === undefined || s.node === c.pod.node) s.push(event);
  }
}

function statusOf(c: Record_): ContainerStatus {
  return {
    id: c.id,
    pod: c.pod,
    name: c.name,
    role: c.role,
    attempt: c.attempt,
    image: c.image,
    imageID: imageIdOf(c.image),
    state: c.state,
    exitCode: c.exitCode,
    oomKilled: c.oomKilled,
    error: c.error,
    createdAt: new Date(c.createdAt),
    startedAt: c.startedAt ? new Date(c.startedAt) : undefined,
    finishedAt: c.finishedAt ? new Date(c.finishedAt) : undefined,
    ...(c.role === "app" && c.ip ? { podIP: c.ip } : {}),
  };
}

function sandboxOf(c: Record_): Sandbox {
  return { id: c.id, pod: c.pod, ip: c.state === "running" ? (c.ip ?? "") : "", state: c.state === "running" ? "ready" : "notready", createdAt: new Date(c.createdAt) };
}
