// navctl apply -f FILE|DIR|- : create what is missing, update what differs, report what is equal.
import * as grpc from "@grpc/grpc-js";
import type { KindInfo, KubeObject } from "@navarch/api";
import { ApiError } from "../connection.js";
import { CliError } from "../errors.js";
import { decodeManifests, readManifestTexts, type DecodedManifest } from "../manifests.js";
import { planApply } from "../merge.js";
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
    throw new CliError(
      `the namespace from the provided object "${meta.namespace}" does not match the namespace "${settings.namespace}". You must pass '--namespace=${meta.namespace}' to perform this operation.`,
    );
  }
  if (!meta.namespace) meta.namespace = settings.namespace;
}

export async function applyObject(ctx: CommandContext, info: KindInfo, object: KubeObject): Promise<ApplyResult> {
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
        await conn.create(info, object);
        return "created";
      }
      const plan = planApply(info, live, object);
      if (plan.unchanged) return "unchanged";
      await conn.update(info, plan.object);
      return "configured";
    } catch (err) {
      // Someone wrote in between (stale resourceVersion, or created it first): look again.
      const retriable = err instanceof ApiError && (err.code === grpc.status.ABORTED || err.code === grpc.status.ALREADY_EXISTS);
      if (!retriable || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

export async function runApply(ctx: CommandContext, opts: ApplyOptions): Promise<void> {
  const texts = await readManifestTexts(opts.filename, { stdin: opts.stdin, recursive: opts.recursive });
  const { objects, errors } = decodeManifests(texts);
  for (const e of errors) reportError(ctx, e);
  if (objects.length === 0 && errors.length === 0) throw new CliError("no objects passed to apply");
  for (const m of objects) {
    try {
      placeObject(ctx, m);
      const result = await applyObject(ctx, m.info, m.object);
      ctx.io.out(`${objectRef(m.info, m.object.metadata!.name)} ${result}\n`);
    } catch (err) {
      const msg = (err as Error).message;
      // A connection or auth problem fails every object alike: say it once.
      if (err instanceof ApiError && [grpc.status.UNAVAILABLE, grpc.status.UNAUTHENTICATED].includes(err.code)) throw err;
      reportError(ctx, msg);
    }
  }
}
