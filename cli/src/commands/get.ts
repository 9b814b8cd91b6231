// navctl get KIND[,KIND] [NAME...] | KIND/NAME... with -o, -l, --field-selector, -A, -w.
import * as grpc from "@grpc/grpc-js";
import type { KindInfo, KubeObject } from "@navarch/api";
import { ApiError } from "../connection.js";
import { CliError } from "../errors.js";
import { tableHeaders, tableRow, type RowOptions } from "../printers/columns.js";
import { formatJson, formatName, formatYaml, manifestOf, parseOutputFormat, type OutputFormat, type Printed } from "../printers/output.js";
import { TableWriter } from "../printers/table.js";
import { kindRef, resolveKinds } from "../resources.js";
import { reportError, type CommandContext } from "./context.js";
import { watchKind } from "./watch.js";

export interface GetOptions {
  output?: string | undefined;
  selector?: string | undefined;
  fieldSelector?: string | undefined;
  allNamespaces?: boolean | undefined;
  watch?: boolean | undefined;
  watchOnly?: boolean | undefined;
  showLabels?: boolean | undefined;
  noHeaders?: boolean | undefined;
  chunkSize?: number | undefined;
  ignoreNotFound?: boolean | undefined;
}

export interface GetRequestSpec {
  info: KindInfo;
  /** Empty: list every object of the kind. */
  names: string[];
}

export const NO_KIND_MESSAGE =
  'You must specify the type of resource to get. Use "navctl api-resources" for a complete list of supported resources.';

/** `cm`, `cm,secret x y` or `cm/x secret/y` to what to fetch. */
export function parseResourceArgs(args: string[], verb = "get"): GetRequestSpec[] {
  if (args.length === 0) throw new CliError(NO_KIND_MESSAGE.replace("to get", `to ${verb}`));
  if (args.some((a) => a.includes("/"))) {
    const out: GetRequestSpec[] = [];
    for (const a of args) {
      const slash = a.indexOf("/");
      if (slash <= 0 || slash === a.length - 1) {
        throw new CliError(`there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'navctl ${verb} resource/<resource_name>' instead of 'navctl ${verb} resource resource/<resource_name>')`);
      }
      const kinds = resolveKinds(a.slice(0, slash));
      if (kinds.length !== 1) throw new CliError(`"${a}" must name one resource type`);
      const info = kinds[0]!;
      let spec = out.find((s) => s.info === info);
      if (!spec) out.push((spec = { info, names: [] }));
      spec.names.push(a.slice(slash + 1));
    }
    return out;
  }
  const kinds = resolveKinds(args[0]!);
  return kinds.map((info) => ({ info, names: args.slice(1) }));
}

interface Fetched {
  info: KindInfo;
  objects: KubeObject[];
  resourceVersion: string;
}

async function fetchAll(ctx: CommandContext, specs: GetRequestSpec[], opts: GetOptions): Promise<Fetched[]> {
  const conn = ctx.connection();
  const namespace = opts.allNamespaces ? "" : ctx.settings().namespace;
  const out: Fetched[] = [];
  for (const spec of specs) {
    if (spec.names.length === 0) {
      const res = await conn.list(spec.info, {
        namespace,
        labelSelector: opts.selector,
        fieldSelector: opts.fieldSelector,
        chunkSize: opts.chunkSize,
      });
      out.push({ info: spec.info, objects: res.items, resourceVersion: res.resourceVersion });
      continue;
    }
    const objects: KubeObject[] = [];
    for (const name of spec.names) {
      try {
        objects.push(await conn.get(spec.info, ctx.settings().namespace, name));
      } catch (err) {
        if (err instanceof ApiError && err.code === grpc.status.NOT_FOUND) {
          if (!opts.ignoreNotFound) reportError(ctx, err.message);
          continue;
        }
        throw err;
      }
    }
    out.push({ info: spec.info, objects, resourceVersion: "" });
  }
  return out;
}

export function rowOptions(info: KindInfo, opts: GetOptions, format: OutputFormat, withKind: boolean): RowOptions {
  return {
    wide: format === "wide",
    withNamespace: Boolean(opts.allNamespaces) && info.namespaced,
    namePrefix: withKind ? `${kindRef(info)}/` : undefined,
    showLabels: opts.showLabels,
  };
}

export function noResourcesMessage(ctx: CommandContext, infos: KindInfo[], opts: GetOptions): string {
  if (!opts.allNamespaces && infos.some((i) => i.namespaced)) {
    return `No resources found in ${ctx.settings().namespace} namespace.\n`;
  }
  return "No resources found\n";
}

export async function runGet(ctx: CommandContext, args: string[], opts: GetOptions): Promise<void> {
  const format = parseOutputFormat(opts.output);
  const specs = parseResourceArgs(args);
  const named = specs.some((s) => s.names.length > 0);
  if (named && opts.selector) throw new CliError("name cannot be provided when a selector is specified");
  if (named && opts.allNamespaces) throw new CliError("a resource cannot be retrieved by name across all namespaces");
  if (opts.watch || opts.watchOnly) {
    if (specs.length !== 1) {
      throw new CliError(`watch is only supported on individual resources and resource collections, but ${specs.length} resource types were given`);
    }
    if (specs[0]!.names.length > 1) throw new CliError("watch is only supported on individual resources and resource collections");
    await watchKind(ctx, specs[0]!.info, specs[0]!.names[0], { ...opts, format });
    return;
  }
  const fetched = await fetchAll(ctx, specs, opts);
  const printed: Printed[] = fetched.flatMap((f) => f.objects.map((object) => ({ info: f.info, object })));
  const single = specs.length === 1 && specs[0]!.names.length === 1;
  switch (format) {
    case "json":
      if (printed.length > 0 || !single) ctx.io.out(formatJson(manifestOf(printed, single)));
      return;
    case "yaml":
      if (printed.length > 0 || !single) ctx.io.out(formatYaml(manifestOf(printed, single)));
      return;
    case "name":
      for (const p of printed) ctx.io.out(formatName(p));
      break;
    default: {
      // As kubectl: NAME is "kind/name" when objects of several kinds are printed, or for "all".
      const withKind =
        fetched.filter((f) => f.objects.length > 0).length > 1 || args[0]!.split(",").some((a) => a.toLowerCase() === "all");
      let first = true;
      const now = Date.now();
      for (const f of fetched) {
        if (f.objects.length === 0) continue;
        const ro = rowOptions(f.info, opts, format, withKind);
        const rows = f.objects.map((o) => tableRow(f.info, o, ro, now));
        const header = opts.noHeaders ? undefined : tableHeaders(f.info, ro);
        ctx.io.out((first ? "" : "\n") + new TableWriter().render(header, rows));
        first = false;
      }
    }
  }
  if (printed.length === 0 && !named) ctx.io.err(noResourcesMessage(ctx, specs.map((s) => s.info), opts));
}
