// navctl api-resources, version, whoami: the DiscoveryService.
import fs from "node:fs";
import type { APIResource, GetVersionResponse, WhoAmIResponse } from "@navarch/api";
import { GetVersionRequest, ListAPIResourcesRequest, WhoAmIRequest } from "@navarch/api";
import { CliError } from "../errors.js";
import { formatJson, formatYaml, sortKeys } from "../printers/output.js";
import { TableWriter } from "../printers/table.js";
import type { CommandContext } from "./context.js";

export function clientVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ? `v${pkg.version}` : "unknown";
  } catch {
    return "unknown";
  }
}

export interface ApiResourcesOptions {
  output?: string | undefined;
  namespaced?: string | undefined;
  noHeaders?: boolean | undefined;
}

function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export function apiResourcesTable(resources: APIResource[], opts: ApiResourcesOptions): string {
  const wide = opts.output === "wide";
  let list = [...resources];
  if (opts.namespaced !== undefined) {
    const want = opts.namespaced === "true";
    list = list.filter((r) => r.namespaced === want);
  }
  list.sort((a, b) => {
    const ga = groupOfApiVersion(a.apiVersion);
    const gb = groupOfApiVersion(b.apiVersion);
    if (ga !== gb) return ga < gb ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  if (opts.output === "name") {
    return list.map((r) => (groupOfApiVersion(r.apiVersion) ? `${r.name}.${groupOfApiVersion(r.apiVersion)}` : r.name) + "\n").join("");
  }
  const header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", ...(wide ? ["VERBS"] : [])];
  const rows = list.map((r) => [
    r.name,
    r.shortNames.join(","),
    r.apiVersion,
    String(r.namespaced),
    r.kind,
    ...(wide ? [`[${r.verbs.join(" ")}]`] : []),
  ]);
  return new TableWriter().render(opts.noHeaders ? undefined : header, rows);
}

export async function runApiResources(ctx: CommandContext, opts: ApiResourcesOptions): Promise<void> {
  if (opts.output !== undefined && !["wide", "name"].includes(opts.output)) {
    throw new CliError(`--output ${opts.output} is not available; use wide or name`);
  }
  if (opts.namespaced !== undefined && !["true", "false"].includes(opts.namespaced)) {
    throw new CliError(`invalid argument "${opts.namespaced}" for "--namespaced" flag: expected true or false`);
  }
  const conn = ctx.connection();
  const res = await conn.call<{ resources: APIResource[] }>(conn.discovery(), "listApiResources", ListAPIResourcesRequest.fromPartial({}));
  ctx.io.out(apiResourcesTable(res.resources ?? [], opts));
}

export async function runVersion(ctx: CommandContext, opts: { client?: boolean | undefined; output?: string | undefined }): Promise<void> {
  const client = { version: clientVersion(), platform: `${process.platform}/${process.arch}`, nodeVersion: process.version };
  let server: GetVersionResponse | undefined;
  let error: unknown;
  if (!opts.client) {
    const conn = ctx.connection();
    try {
      server = await conn.call<GetVersionResponse>(conn.discovery(), "getVersion", GetVersionRequest.fromPartial({}));
    } catch (err) {
      error = err;
    }
  }
  if (opts.output === "json" || opts.output === "yaml") {
    const doc = sortKeys({ clientVersion: client, ...(server ? { serverVersion: server } : {}) });
    ctx.io.out(opts.output === "json" ? formatJson(doc) : formatYaml(doc));
  } else if (opts.output !== undefined && opts.output !== "") {
    throw new CliError(`--output must be 'yaml' or 'json'`);
  } else {
    ctx.io.out(`Client Version: ${client.version}\n`);
    if (server) {
      ctx.io.out(`Server Version: ${server.version}\n`);
      if (server.natsServerVersion) ctx.io.out(`NATS Server Version: ${server.natsServerVersion}\n`);
      if (server.clusterId) ctx.io.out(`Cluster ID: ${server.clusterId}\n`);
    }
  }
  if (error) throw error;
}

export async function runWhoAmI(ctx: CommandContext, opts: { output?: string | undefined }): Promise<void> {
  const conn = ctx.connection();
  const me = await conn.call<WhoAmIResponse>(conn.discovery(), "whoAmI", WhoAmIRequest.fromPartial({}));
  if (opts.output === "json" || opts.output === "yaml") {
    const doc = { username: me.username, groups: me.groups ?? [] };
    ctx.io.out(opts.output === "json" ? formatJson(doc) : formatYaml(doc));
    return;
  }
  ctx.io.out(
    new TableWriter().render(
      ["ATTRIBUTE", "VALUE"],
      [
        ["Username", me.username],
        ["Groups", `[${(me.groups ?? []).join(" ")}]`],
      ],
    ),
  );
}
