// Docker's event stream, narrowed on the daemon's side to one cluster's containers (and to one
// node's when asked), mapped to RuntimeEvents. The stream ends quietly when the daemon connection drops
// or the signal aborts; the agent then resyncs from the container list and subscribes again.

import type Docker from "dockerode";
import { dockerError } from "./docker-errors.js";
import { podFromLabels } from "./docker-status.js";
import { ndjson } from "./docker-streams.js";
import type { Logger } from "./logger.js";
import { LABELS, type RuntimeEvent, type RuntimeEventType } from "./runtime.js";

const ACTIONS: readonly RuntimeEventType[] = ["create", "start", "die", "oom", "destroy"];

interface DockerEventMessage {
  Type?: string;
  Action?: string;
  id?: string;
  time?: number;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** One daemon event as a RuntimeEvent, or undefined for anything that is not ours to report. */
export function mapEvent(raw: unknown): RuntimeEvent | undefined {
  const e = raw as DockerEventMessage;
  if (!e || e.Type !== "container") return undefined;
  const type = ACTIONS.find((a) => a === e.Action);
  const id = e.Actor?.ID ?? e.id;
  if (!type || !id) return undefined;
  const attrs = e.Actor?.Attributes ?? {};
  const at = e.timeNano ? new Date(Math.floor(e.timeNano / 1e6)) : new Date((e.time ?? Date.now() / 1000) * 1000);
  const event: RuntimeEvent = { type, containerId: id, at };
  if (attrs[LABELS.podUid] !== undefined) event.pod = podFromLabels(attrs);
  if (attrs[LABELS.container] !== undefined) event.containerName = attrs[LABELS.container];
  if (type === "die" && attrs.exitCode !== undefined && !Number.isNaN(Number(attrs.exitCode))) {
    event.exitCode = Number(attrs.exitCode);
  }
  return event;
}

export async function* dockerEvents(docker: Docker, logger: Logger, signal: AbortSignal, cluster: string, node?: string): AsyncGenerator<RuntimeEvent> {
  if (signal.aborted) return;
  let stream: NodeJS.ReadableStream & { destroy?: () => void };
  try {
    stream = await docker.getEvents({
      filters: {
        type: ["container"],
        event: [...ACTIONS],
        // Several label filters must all match: the cluster's containers; with a node, only its own.
        label: [`${LABELS.cluster}=${cluster}`, ...(node ? [`${LABELS.node}=${node}`] : [])],
      },
      abortSignal: signal,
    });
  } catch (err) {
    if (signal.aborted) return;
    throw dockerError("subscribe to Docker events", err);
  }
  // An abort between the request and now would leave the stream open; destroy it explicitly too.
  const onAbort = () => stream.destroy?.();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const messages = ndjson(stream as AsyncIterable<Buffer>, (line) => logger.warn({ line }, "unparsable Docker event skipped"));
    for await (const msg of messages) {
      const event = mapEvent(msg);
      if (event) yield event;
    }
    logger.info({}, "Docker event stream ended");
  } catch (err) {
    // A dropped connection (daemon restart) or our abort: end the iteration, the caller resyncs.
    if (!signal.aborted) logger.warn({ err: (err as Error).message }, "Docker event stream broke");
  } finally {
    signal.removeEventListener("abort", onAbort);
    stream.destroy?.();
  }
}
