// navctl logs POD [-c CONTAINER] [-f] [-p] [--tail N] [--since 5m] [--timestamps]: the bytes of a
// container's log as the node that runs the pod streams them (LogService.StreamLogs; the gateway
// relays them from the node agent over NATS). Output goes to stdout unchanged and as it arrives;
// a slow stdout slows the stream down (the gRPC stream pauses) instead of piling up in memory.
// Ctrl-C ends a follow quietly (exit 0).
import * as grpc from "@grpc/grpc-js";
import { KINDS, LogServiceClient, PodLogsRequest, type PodLogsChunk } from "@navarch/api";
import { grpcErrorMessage } from "../connection.js";
import { CliError } from "../errors.js";
import { resolveKinds } from "../resources.js";
import type { CommandContext } from "./context.js";

export interface LogsOptions {
  container?: string | undefined;
  follow?: boolean | undefined;
  previous?: boolean | undefined;
  /** Lines from the end; -1 or undefined: all. */
  tail?: number | undefined;
  /** Only output of the last this many seconds; undefined or 0: all. */
  sinceSeconds?: number | undefined;
  timestamps?: boolean | undefined;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as kubectl's --since takes it (Go syntax: "5s", "2m", "1h", "1h30m", "1.5h",
 * "500ms"), in whole seconds rounded up; "0" is 0 (no limit).
 */
export function parseSince(text: string): number {
  const s = text.trim();
  if (s === "0") return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let i = 0;
  while (i < s.length) {
    part.lastIndex = i;
    const m = part.exec(s);
    if (!m) throw new CliError(`invalid duration "${text}": expected a duration such as 5s, 2m or 1h`);
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    i = part.lastIndex;
  }
  if (s.length === 0) throw new CliError(`invalid duration "${text}": expected a duration such as 5s, 2m or 1h`);
  return Math.ceil(ms / 1000);
}

/** --tail: an integer, -1 for the whole log. */
export function parseTail(text: string): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < -1) {
    throw new CliError(`invalid --tail "${text}": expected a number of lines, or -1 for all`);
  }
  return n;
}

/** "web", "pod/web", "pods/web", "po/web" -> "web"; other kinds are refused. */
export function podNameOf(arg: string): string {
  const slash = arg.indexOf("/");
  if (slash < 0) return arg;
  const kind = arg.slice(0, slash);
  const name = arg.slice(slash + 1);
  const kinds = resolveKinds(kind);
  if (kinds.length !== 1 || kinds[0] !== (KINDS.Pod as unknown)) {
    throw new CliError(`cannot get logs of ${arg}: name a pod (POD or pod/POD)`);
  }
  if (!name) throw new CliError(`a pod name is required after "${kind}/"`);
  return name;
}

export function logsRequest(namespace: string, pod: string, opts: LogsOptions): PodLogsRequest {
  return PodLogsRequest.fromPartial({
    namespace,
    name: podNameOf(pod),
    container: opts.container ?? "",
    follow: Boolean(opts.follow),
    previous: Boolean(opts.previous),
    tailLines: opts.tail !== undefined && opts.tail >= 0 ? opts.tail : undefined,
    sinceSeconds: opts.sinceSeconds ? opts.sinceSeconds : undefined,
    timestamps: Boolean(opts.timestamps),
  });
}

/** The one-line message of a failed StreamLogs call. */
export function logsErrorMessage(err: { code?: number; details?: string; message?: string }, server: string): string {
  const details = (err.details ?? err.message ?? "").split("\n")[0]!.trim();
  switch (err.code) {
    case grpc.status.INVALID_ARGUMENT:
      // "container: a container name must be specified for pod x, ..." reads better without the field.
      return details.replace(/^container: /, "") || "invalid argument";
    case grpc.status.UNAVAILABLE:
      // The API server answered, and it is the pod's node that could not be reached.
      if (/^(node |the log stream from node |the node agent |the container runtime |asking node )/.test(details)) return details;
      return grpcErrorMessage(err, { server });
    default:
      return grpcErrorMessage(err, { server });
  }
}

function isLoopback(server: string): boolean {
  const host = server.replace(/^dns:\/\/\/?/, "").replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

export async function runLogs(
  ctx: CommandContext,
  pod: string,
  opts: LogsOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const settings = ctx.settings();
  const req = logsRequest(settings.namespace, pod, opts);
  const metadata = ctx.connection().metadata();
  // grpc-js honours http_proxy; a cluster on this machine must not be reached through it.
  const client = new LogServiceClient(
    settings.server,
    grpc.credentials.createInsecure(),
    isLoopback(settings.server) ? { "grpc.enable_http_proxy": 0 } : {},
  );
  let interrupted = false;
  let call: grpc.ClientReadableStream<PodLogsChunk> | undefined;
  const onSigint = () => {
    interrupted = true;
    call?.cancel();
  };
  process.once("SIGINT", onSigint);
  try {
    await new Promise<void>((resolve, reject) => {
      call = client.streamLogs(req, metadata);
      const c = call;
      c.on("data", (chunk: PodLogsChunk) => {
        if (chunk.data.length === 0) return;
        if (!out.write(chunk.data)) {
          c.pause();
          out.once("drain", () => c.resume());
        }
      });
      c.on("error", (err: grpc.ServiceError) => {
        if (interrupted || err.code === grpc.status.CANCELLED) resolve();
        else reject(new CliError(logsErrorMessage(err, settings.server)));
      });
      c.on("end", () => resolve());
    });
  } finally {
    process.removeListener("SIGINT", onSigint);
    client.close();
  }
}
