// navctl get -w: the current table (unless --watch-only), then one row per change until Ctrl-C.
// List-then-watch from the list's resourceVersion, so no change between the two is missed; a
// broken stream resumes from the last version seen, an expired one (OUT_OF_RANGE: too old a
// resourceVersion, or cut off for reading too slowly) lists again, and a watch refused by a
// limit (RESOURCE_EXHAUSTED with retry-after-ms) is retried after the hint, a bounded number of times.
import * as grpc from "@grpc/grpc-js";
import type { KindInfo, KubeObject } from "@navarch/api";
import { MAX_LIMIT_RETRIES, retryAfterMs, toApiError, type ApiError } from "../connection.js";
import { tableHeaders, tableRow } from "../printers/columns.js";
import { formatJson, formatName, formatYaml, manifestOf, type OutputFormat } from "../printers/output.js";
import { TableWriter } from "../printers/table.js";
import type { CommandContext } from "./context.js";
import { noResourcesMessage, rowOptions, type GetOptions } from "./get.js";

/** How long a watch keeps trying to reconnect to an unreachable server before giving up. */
const RECONNECT_GIVE_UP_MS = 60_000;

type StreamEnd = { kind: "interrupted" } | { kind: "ended" } | { kind: "error"; error: ApiError; retryAfterMs: number | undefined };

export async function watchKind(
  ctx: CommandContext,
  info: KindInfo,
  name: string | undefined,
  opts: GetOptions & { format: OutputFormat },
): Promise<void> {
  const conn = ctx.connection();
  const settings = ctx.settings();
  const namespace = opts.allNamespaces ? "" : settings.namespace;
  const fieldSelector = [opts.fieldSelector, name ? `metadata.name=${name}` : ""].filter(Boolean).join(",");
  const listOpts = { namespace, labelSelector: opts.selector, fieldSelector, chunkSize: opts.chunkSize };
  const writer = new TableWriter();
  const ro = rowOptions(info, opts, opts.format, false);
  let headerDone = Boolean(opts.noHeaders);

  const print = (objects: KubeObject[]) => {
    if (objects.length === 0) return;
    switch (opts.format) {
      case "json":
        for (const o of objects) ctx.io.out(formatJson(manifestOf([{ info, object: o }], true)));
        return;
      case "yaml":
        for (const o of objects) ctx.io.out(`---\n${formatYaml(manifestOf([{ info, object: o }], true))}`);
        return;
      case "name":
        for (const o of objects) ctx.io.out(formatName({ info, object: o }));
        return;
      default: {
        const now = Date.now();
        ctx.io.out(writer.render(headerDone ? undefined : tableHeaders(info, ro), objects.map((o) => tableRow(info, o, ro, now))));
        headerDone = true;
      }
    }
  };

  let resourceVersion: string;
  if (opts.watchOnly) {
    const page = await conn.listPage(info, listOpts, "", 1);
    resourceVersion = page.metadata?.resourceVersion ?? "";
  } else {
    const list = await conn.list(info, listOpts);
    if (list.items.length === 0 && opts.format !== "json" && opts.format !== "yaml") {
      ctx.io.err(noResourcesMessage(ctx, [info], opts));
    }
    print(list.items);
    resourceVersion = list.resourceVersion;
  }

  let interrupted = false;
  let current: grpc.ClientReadableStream<unknown> | undefined;
  const onSigint = () => {
    interrupted = true;
    current?.cancel();
  };
  process.once("SIGINT", onSigint);
  try {
    let unreachableSince = 0;
    let refusals = 0;
    while (!interrupted) {
      const stream = conn.watch(info, { ...listOpts, resourceVersion, allowWatchBookmarks: true });
      current = stream;
      const end = await new Promise<StreamEnd>((resolve) => {
        stream.on("data", (ev: { type: string; object?: KubeObject }) => {
          unreachableSince = 0;
          refusals = 0;
          const rv = ev.object?.metadata?.resourceVersion;
          if (rv) resourceVersion = rv;
          if (ev.type !== "BOOKMARK" && ev.object) print([ev.object]);
        });
        stream.on("error", (err: grpc.ServiceError) => {
          if (interrupted || err.code === grpc.status.CANCELLED) resolve({ kind: "interrupted" });
          else resolve({ kind: "error", error: toApiError(err, { server: settings.server, info }), retryAfterMs: retryAfterMs(err) });
        });
        stream.on("end", () => resolve(interrupted ? { kind: "interrupted" } : { kind: "ended" }));
      });
      if (end.kind === "interrupted") return;
      if (end.kind === "ended") continue; // the server closed the stream: resume where we were
      const code = end.error.code;
      if (end.retryAfterMs !== undefined && refusals < MAX_LIMIT_RETRIES) {
        // Refused by a limit before anything was done: the same watch again, after the hint.
        refusals++;
        await new Promise((r) => setTimeout(r, end.retryAfterMs));
        continue;
      }
      if (code === grpc.status.OUT_OF_RANGE) {
        // Too old to resume: start over from a fresh list (showing the current state again).
        const list = await conn.list(info, listOpts);
        print(list.items);
        resourceVersion = list.resourceVersion;
        continue;
      }
      if (code === grpc.status.UNAVAILABLE) {
        unreachableSince ||= Date.now();
        if (Date.now() - unreachableSince > RECONNECT_GIVE_UP_MS) throw end.error;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      throw end.error;
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}
