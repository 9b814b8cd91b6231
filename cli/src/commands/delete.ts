// navctl delete KIND NAME... | KIND/NAME | -f FILE | KIND -l SELECTOR | KIND --all
import * as grpc from "@grpc/grpc-js";
import type { KindInfo, KubeObject } from "@navarch/api";
import { ApiError } from "../connection.js";
import { CliError } from "../errors.js";
import { decodeManifests, readManifestTexts } from "../manifests.js";
import { kindRef, resourceRef } from "../resources.js";
import { placeObject } from "./apply.js";
import { reportError, type CommandContext } from "./context.js";
import { parseResourceArgs } from "./get.js";

export interface DeleteOptions {
  filename?: string[] | undefined;
  recursive?: boolean | undefined;
  selector?: string | undefined;
  all?: boolean | undefined;
  allNamespaces?: boolean | undefined;
  cascade?: string | undefined;
  gracePeriod?: number | undefined;
  now?: boolean | undefined;
  ignoreNotFound?: boolean | undefined;
  wait?: boolean | undefined;
  /** How long --wait waits, in ms; 0 or absent waits as long as it takes (as kubectl). */
  timeoutMs?: number | undefined;
  stdin?: NodeJS.ReadableStream | undefined;
}

interface Target {
  info: KindInfo;
  namespace: string;
  name: string;
}

/** --cascade to the API's propagationPolicy (kubectl also takes the old true/false). */
export function propagationPolicy(cascade: string | undefined): string {
  switch ((cascade ?? "background").toLowerCase()) {
    case "background":
    case "true":
      return "Background";
    case "foreground":
      return "Foreground";
    case "orphan":
    case "false":
      return "Orphan";
    default:
      throw new CliError(`invalid cascade value (${cascade}). Must be "background", "foreground", or "orphan".`);
  }
}

async function targetsFromFiles(ctx: CommandContext, opts: DeleteOptions): Promise<Target[]> {
  const texts = await readManifestTexts(opts.filename!, { stdin: opts.stdin, recursive: opts.recursive });
  const { objects, errors } = decodeManifests(texts);
  for (const e of errors) reportError(ctx, e);
  return objects.map((m) => {
    placeObject(ctx, m);
    return { info: m.info, namespace: m.object.metadata!.namespace, name: m.object.metadata!.name };
  });
}

async function targetsFromArgs(ctx: CommandContext, args: string[], opts: DeleteOptions): Promise<Target[]> {
  const specs = parseResourceArgs(args, "delete");
  const namespace = ctx.settings().namespace;
  const out: Target[] = [];
  for (const spec of specs) {
    if (spec.names.length > 0) {
      if (opts.selector) throw new CliError("name cannot be provided when a selector is specified");
      if (opts.all) throw new CliError("name cannot be provided when --all is specified");
      out.push(...spec.names.map((name) => ({ info: spec.info, namespace, name })));
      continue;
    }
    if (!opts.selector && !opts.all) throw new CliError("resource(s) were provided, but no name was specified");
    const list = await ctx.connection().list(spec.info, {
      namespace: opts.allNamespaces ? "" : namespace,
      labelSelector: opts.selector,
    });
    for (const o of list.items) out.push({ info: spec.info, namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "" });
  }
  return out;
}

/** Waits until a deleted object is gone (finalizers done, pods terminated), as kubectl --wait. */
async function waitGone(ctx: CommandContext, t: Target, uid: string, deadline: number): Promise<void> {
  for (;;) {
    if (deadline > 0 && Date.now() > deadline) {
      throw new CliError(`timed out waiting for the deletion of ${resourceRef(t.info)}/${t.name}`);
    }
    await new Promise((r) => setTimeout(r, 500));
    try {
      const o = await ctx.connection().get(t.info, t.namespace, t.name);
      if (o.metadata?.uid !== uid) return;
    } catch (err) {
      if (err instanceof ApiError && err.code === grpc.status.NOT_FOUND) return;
      throw err;
    }
  }
}

export async function runDelete(ctx: CommandContext, args: string[], opts: DeleteOptions): Promise<void> {
  const fromFiles = (opts.filename?.length ?? 0) > 0;
  if (fromFiles && args.length > 0) {
    throw new CliError("when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well");
  }
  if (!fromFiles && args.length === 0) {
    throw new CliError("You must provide one or more resources by argument or filename (e.g. '-f rsrc.yaml', '<resource> <name>', '<resource> -l <selector>', '<resource> --all')");
  }
  const policy = propagationPolicy(opts.cascade);
  const grace = opts.now ? 1 : opts.gracePeriod !== undefined && opts.gracePeriod >= 0 ? opts.gracePeriod : undefined;
  const targets = fromFiles ? await targetsFromFiles(ctx, opts) : await targetsFromArgs(ctx, args, opts);
  if (targets.length === 0 && !fromFiles) {
    ctx.io.err("No resources found\n");
    return;
  }
  const pending: { target: Target; uid: string }[] = [];
  for (const t of targets) {
    let res: KubeObject;
    try {
      res = await ctx.connection().delete(t.info, {
        namespace: t.namespace,
        name: t.name,
        propagationPolicy: policy,
        ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === grpc.status.NOT_FOUND) {
        if (!opts.ignoreNotFound) reportError(ctx, err.message);
        continue;
      }
      if (err instanceof ApiError && [grpc.status.UNAVAILABLE, grpc.status.UNAUTHENTICATED].includes(err.code)) throw err;
      reportError(ctx, (err as Error).message);
      continue;
    }
    ctx.io.out(`${kindRef(t.info)} "${t.name}" deleted\n`);
    if (res?.metadata?.deletionTimestamp && res.metadata.uid) pending.push({ target: t, uid: res.metadata.uid });
  }
  if (opts.wait !== false) {
    const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : 0;
    for (const p of pending) await waitGone(ctx, p.target, p.uid, deadline);
  }
}
