// navctl apply -f FILE|DIR|- : create what is missing, update what differs, report what is equal.
import * as grpc from "@grpc/grpc-js";
import type { KindInfo, KubeObject } from "@navarch/api";
import { ApiError } from "../connection.js";
import { CliError, messageOf } from "../errors.js";
import { decodeManifests, readManifestTexts, type DecodedManifest } from "../manifests.js";
import { planApply, planCreate } from "../merge.js";
import { objectRef } from "../resources.js";
import { reportError, type CommandContext } from "./context.js";

export interface ApplyOptions {
  filename: string[];
  recursive?: boolean | undefined;
  stdin?: NodeJS.ReadableStream | undefined;
}

/** How many times a lost compare-and-swap is retried from fresh state. */
const CONFLICT_RETRIES = 3;

export type ApplyResult = "created" | "configured" | "unchanged";

/**
 * Sets the namespace of a decoded object: the manifest's, else the default one. With -n given, a
 * manifest naming another namespace is refused, as kubectl does.
 */
export function placeObject(ctx: CommandContext, m: DecodedManifest): void {
  const settings = ctx.settings();
  const meta = (m.object.metadata ??= {} as NonNullable<KubeObject["metadata"]>);
  if (!m.info.namespaced) {
    meta.namespace = "";
    return;
  }
  if (meta.namespace && settings.namespaceExplicit && meta.namespace !== settings.namespace) {
    throw new NamespaceMismatchError(
      `the namespace from the provided object "${meta.namespace}" does not match the namespace "${settings.namespace}". You must pass '--namespace=${meta.namespace}' to perform this operation.`,
    );
  }
  if (!meta.namespace) meta.namespace = settings.namespace;
}

export interface ApplyOutcome {
  result: ApplyResult;
  /** Something the user should know although the object was applied. */
  warning?: string | undefined;
}

export async function applyObject(ctx: CommandContext, info: KindInfo, object: KubeObject): Promise<ApplyOutcome> {
  const conn = ctx.connection();
  const name = object.metadata!.name;
  const namespace = object.metadata!.namespace;
  for (let attempt = 0; ; attempt++) {
    let live: KubeObject | undefined;
    try {
      live = await conn.get(info, namespace, name);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== grpc.status.NOT_FOUND) throw err;
    }
    try {
      if (!live) {
        const create = planCreate(info, object);
        await conn.create(info, create.object);
        return { result: "created", warning: create.warning };
      }
      const plan = planApply(info, live, object);
      if (plan.unchanged) return { result: "unchanged", warning: plan.warning };
      await conn.update(info, plan.object);
      return { result: "configured", warning: plan.warning };
    } catch (err) {
      // Someone wrote in between (stale resourceVersion, or created it first): look again.
      const retriable = err instanceof ApiError && (err.code === grpc.status.ABORTED || err.code === grpc.status.ALREADY_EXISTS);
      if (!retriable || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

/**
 * The lines that report one object's failure, each `<file>: <Kind>/<name>: <field path>: <problem>`
 * (the field path where one field is at fault), so an error in a folder of manifests can be found.
 */
/** -n names another namespace than the manifest: refused before any call. */
class NamespaceMismatchError extends CliError {}

export function applyErrorLines(m: DecodedManifest, err: unknown): string[] {
  const where = `${m.source}: ${m.info.kind}/${m.object.metadata?.name ?? "<no name>"}`;
  if (!(err instanceof ApiError)) {
    const msg = messageOf(err);
    // The one refusal made here before any call: -n against the manifest's namespace.
    return [err instanceof NamespaceMismatchError ? `${where}: metadata.namespace: ${msg}` : `${where}: ${msg}`];
  }
  switch (err.code) {
    case grpc.status.INVALID_ARGUMENT:
      // The gateway joins one "<path>: <problem>" per field with "; ": one line each.
      return splitFieldErrors(err.message).map((e) => `${where}: ${e}`);
    case grpc.status.NOT_FOUND:
    case grpc.status.FAILED_PRECONDITION:
      // A missing or terminating namespace: the manifest's metadata.namespace is what to fix.
      return [/^namespaces? "|in namespace /.test(err.details) ? `${where}: metadata.namespace: ${err.message}` : `${where}: ${err.message}`];
    case grpc.status.ABORTED:
      return [`${where}: metadata.resourceVersion: ${err.message}`];
    default:
      return [`${where}: ${err.message}`];
  }
}

/** "a.b: x; c[0].d: y" -> ["a.b: x", "c[0].d: y"]; a message with no field path stays whole. */
export function splitFieldErrors(details: string): string[] {
  return details.split(/; (?=[A-Za-z$][\w.\[\]"/-]*: )/);
}

export async function runApply(ctx: CommandContext, opts: ApplyOptions): Promise<void> {
  const texts = await readManifestTexts(opts.filename, { stdin: opts.stdin, recursive: opts.recursive });
  const { objects, errors } = decodeManifests(texts);
  for (const e of errors) reportError(ctx, e);
  if (objects.length === 0 && errors.length === 0) throw new CliError("no objects passed to apply");
  // Like kubectl: every object is tried, each failure is reported, and the exit code is 1 if any failed.
  for (const m of objects) {
    try {
      placeObject(ctx, m);
      const { result, warning } = await applyObject(ctx, m.info, m.object);
      if (warning) ctx.io.err(`Warning: ${m.source}: ${m.info.kind}/${m.object.metadata!.name}: ${warning}\n`);
      ctx.io.out(`${objectRef(m.info, m.object.metadata!.name)} ${result}\n`);
    } catch (err) {
      // A connection or auth problem fails every object alike: say it once.
      if (err instanceof ApiError && [grpc.status.UNAVAILABLE, grpc.status.UNAUTHENTICATED].includes(err.code)) throw err;
      for (const line of applyErrorLines(m, err)) reportError(ctx, line);
    }
  }
}
