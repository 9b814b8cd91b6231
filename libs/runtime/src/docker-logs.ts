// Container logs and exec. Both arrive as Docker's multiplexed stdout/stderr stream unless the
// container (or exec) has a TTY; both are demultiplexed into plain bytes here.

import type Docker from "dockerode";
import { setTimeout as sleep } from "node:timers/promises";
import { dockerError } from "./docker-errors.js";
import { demux } from "./docker-streams.js";
import { ExecTimeoutError, type LogOptions } from "./runtime.js";

export async function* containerLogs(docker: Docker, id: string, opts: LogOptions, signal: AbortSignal): AsyncGenerator<Buffer> {
  if (signal.aborted) return;
  const container = docker.getContainer(id);
  let tty: boolean;
  try {
    tty = (await container.inspect()).Config.Tty;
  } catch (err) {
    throw dockerError(`logs of container ${id}`, err, { notFound: "container" });
  }
  const query = {
    stdout: true,
    stderr: true,
    timestamps: opts.timestamps ?? false,
    // Docker's tail counts lines of stdout and stderr together, like kubectl logs --tail.
    ...(opts.tail !== undefined && opts.tail >= 0 ? { tail: opts.tail } : {}),
    ...(opts.sinceSeconds ? { since: Math.floor(Date.now() / 1000) - opts.sinceSeconds } : {}),
    abortSignal: signal,
  };
  let source: AsyncIterable<Buffer> | Buffer[];
  try {
    if (opts.follow) {
      source = (await container.logs({ ...query, follow: true })) as unknown as AsyncIterable<Buffer>;
    } else {
      // Without follow dockerode buffers the whole answer and hands back one Buffer.
      const all = await container.logs({ ...query, follow: false });
      source = [Buffer.isBuffer(all) ? all : Buffer.from(String(all))];
    }
  } catch (err) {
    if (signal.aborted) return;
    throw dockerError(`logs of container ${id}`, err, { notFound: "container" });
  }
  const stream = source as (AsyncIterable<Buffer> | Buffer[]) & { destroy?: () => void };
  const onAbort = () => stream.destroy?.();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    yield* demux(stream, tty);
  } catch (err) {
    // Aborted by the caller, or the container was removed while following: the logs just end.
    if (!signal.aborted && !/premature close|aborted/i.test((err as Error).message)) throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
    stream.destroy?.();
  }
}

/** Output kept from an exec; probes and `navctl exec` need far less, and memory stays bounded. */
export const MAX_EXEC_OUTPUT = 1 << 20;

export async function execIn(
  docker: Docker,
  id: string,
  command: string[],
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  const what = `exec ${JSON.stringify(command)} in container ${id}`;
  let exec: Docker.Exec;
  let stream: NodeJS.ReadWriteStream & { destroy?: (err?: Error) => void };
  try {
    exec = await docker.getContainer(id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true, Tty: false });
    stream = await exec.start({ hijack: true, stdin: false });
  } catch (err) {
    throw dockerError(what, err, { notFound: "container" });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Docker cannot kill an exec'd process: on timeout we stop waiting and say so (as the kubelet does).
  const timer = setTimeout(() => stream.destroy?.(new ExecTimeoutError(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    for await (const data of demux(stream as AsyncIterable<Buffer>, false)) {
      if (size < MAX_EXEC_OUTPUT) chunks.push(data.subarray(0, MAX_EXEC_OUTPUT - size));
      size += data.length;
    }
  } catch (err) {
    if (err instanceof ExecTimeoutError) throw err;
    throw dockerError(what, err);
  } finally {
    clearTimeout(timer);
  }
  // The output ends a moment before the daemon records the exit code; wait for it briefly.
  for (let i = 0; ; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) {
      return { exitCode: info.ExitCode, output: Buffer.concat(chunks).toString("utf8") };
    }
    if (i >= 100) throw new Error(`${what}: output ended but the daemon reports no exit code`);
    await sleep(10);
  }
}
