// For tests of the logs protocol only (serve.integration.test.ts here and the gateway's
// logs.integration.test.ts): a stand-in ContainerRuntime whose containers are a list and whose
// logs() yields what the test gives it. NATS stays real in those tests; what is stood in for is
// only the runtime's log reading. Everything else of the runtime interface throws.
import type { ContainerRuntime, ContainerState, ContainerStatus, LogOptions, PodRef } from "@navarch/runtime";
import {
  LOGS_END_HEADER,
  LOGS_ERROR_HEADER,
  logsAliveSubject,
  logsCancelSubject,
  nodeLogsSubject,
  type LogsReply,
  type LogsRequest,
} from "@navarch/store";
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";

export type LogSource = (opts: LogOptions, signal: AbortSignal) => AsyncIterable<Buffer>;

/** A log that is all there at once. */
export function fixedLog(chunks: (string | Buffer)[]): LogSource {
  return async function* () {
    for (const c of chunks) yield typeof c === "string" ? Buffer.from(c) : c;
  };
}

/**
 * A live log: what is pushed so far, then (when followed) every push until end() or until the
 * reader's signal aborts, which `aborted` records.
 */
export class LiveLog {
  private readonly lines: Buffer[] = [];
  private ended = false;
  private readonly waiters = new Set<() => void>();
  aborted = false;
  readers = 0;

  push(text: string | Buffer): void {
    this.lines.push(typeof text === "string" ? Buffer.from(text) : text);
    this.wakeAll();
  }

  end(): void {
    this.ended = true;
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }

  readonly source: LogSource = (opts, signal) => {
    const self = this;
    return (async function* () {
      self.readers++;
      let i = 0;
      const onAbort = () => {
        self.aborted = true;
        self.wakeAll();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        for (;;) {
          while (i < self.lines.length) yield self.lines[i++]!;
          if (!opts.follow || self.ended || signal.aborted) return;
          await new Promise<void>((resolve) => {
            const w = () => {
              self.waiters.delete(w);
              resolve();
            };
            self.waiters.add(w);
          });
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        self.readers--;
      }
    })();
  };
}

export interface LogsCall {
  id: string;
  opts: LogOptions;
  signal: AbortSignal;
}

export class StandInRuntime implements ContainerRuntime {
  readonly containers: ContainerStatus[] = [];
  readonly sources = new Map<string, LogSource>();
  readonly calls: LogsCall[] = [];
  private seq = 0;

  /** Adds an app container of `pod` and returns its id. */
  add(pod: PodRef, name: string, source: LogSource, opts: { attempt?: number; state?: ContainerState } = {}): string {
    const id = `c${++this.seq}-${name}`;
    this.containers.push({
      id,
      pod,
      name,
      role: "app",
      attempt: opts.attempt ?? 0,
      image: "navarch/test",
      imageID: "sha256:test",
      state: opts.state ?? "running",
      exitCode: 0,
      oomKilled: false,
      error: "",
      createdAt: new Date(Date.now() + this.seq),
    });
    this.sources.set(id, source);
    return id;
  }

  async listContainers(node: string): Promise<ContainerStatus[]> {
    return this.containers.filter((c) => c.pod.node === node);
  }

  logs(id: string, opts: LogOptions, signal: AbortSignal): AsyncIterable<Buffer> {
    this.calls.push({ id, opts, signal });
    const source = this.sources.get(id);
    if (!source) throw new Error(`no such container: ${id}`);
    return source(opts, signal);
  }

  private unsupported(): never {
    throw new Error("not part of the logs stand-in runtime");
  }

  info = () => this.unsupported();
  ensureImage = () => this.unsupported();
  runSandbox = () => this.unsupported();
  stopSandbox = () => this.unsupported();
  removeSandbox = () => this.unsupported();
  createContainer = () => this.unsupported();
  startContainer = () => this.unsupported();
  stopContainer = () => this.unsupported();
  removeContainer = () => this.unsupported();
  listSandboxes = () => this.unsupported();
  inspectContainer = () => this.unsupported();
  events = () => this.unsupported();
  exec = () => this.unsupported();
}

/** The gateway's part of the protocol, by hand: subscribe the inbox, ask, collect, acknowledge, cancel. */
export class LogsTestClient {
  readonly replyTo = createInbox();
  readonly messages: Msg[] = [];
  reply: LogsReply | undefined;
  private readonly sub: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly node: string,
  ) {
    this.sub = nc.subscribe(this.replyTo, { callback: (_err, msg) => void this.messages.push(msg) });
  }

  async ask(req: Partial<LogsRequest>): Promise<LogsReply> {
    const body = { namespace: "default", name: "p", uid: "", container: "app", follow: false, previous: false, timestamps: false, replyTo: this.replyTo, ...req };
    const res = await this.nc.request(nodeLogsSubject(this.node), JSON.stringify(body), { timeout: 2_000 });
    this.reply = res.json<LogsReply>();
    return this.reply;
  }

  get ended(): boolean {
    return this.messages.some((m) => m.headers?.get(LOGS_END_HEADER) === "1");
  }

  get endError(): string {
    return this.messages.find((m) => m.headers?.get(LOGS_END_HEADER) === "1")?.headers?.get(LOGS_ERROR_HEADER) ?? "";
  }

  /** The data messages (heartbeats included). */
  get data(): Msg[] {
    return this.messages.filter((m) => m.headers?.get(LOGS_END_HEADER) !== "1");
  }

  get bytes(): Buffer {
    return Buffer.concat(this.data.map((m) => m.data));
  }

  ack(n = this.bytes.length): void {
    this.nc.publish(logsAliveSubject(this.replyTo), String(n));
  }

  cancel(): void {
    this.nc.publish(logsCancelSubject(this.replyTo), "");
  }

  close(): void {
    this.sub.unsubscribe();
  }
}
