// What scale, set image and rollout share: naming their targets ("deployment/web" or
// "deployment web"), changing an object read-modify-write (the update names the revision read;
// a conflict reads again and reapplies the change, as kubectl's patches effectively do), and a
// deployment's replica sets with their revisions.
import * as grpc from "@grpc/grpc-js";
import { KINDS, type Deployment, type KindInfo, type KubeObject, type ReplicaSet } from "@navarch/api";
import { ApiError } from "../connection.js";
import { CliError } from "../errors.js";
import { resolveKinds } from "../resources.js";
import type { CommandContext } from "./context.js";

export interface Target {
  info: KindInfo;
  name: string;
}

export const DEPLOYMENT = KINDS.Deployment as unknown as KindInfo;
export const REPLICA_SET = KINDS.ReplicaSet as unknown as KindInfo;
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const POD_TEMPLATE_HASH = "pod-template-hash";

/** "deployment/web" (several allowed) or "deployment web [other...]". */
export function parseTargets(args: string[], verb: string): Target[] {
  if (args.length === 0) throw new CliError(`you must specify the type of resource to ${verb} and its name, e.g. 'navctl ${verb} deployment/web'`);
  if (args[0]!.includes("/")) {
    return args.map((a) => {
      const slash = a.indexOf("/");
      if (slash <= 0 || slash === a.length - 1) throw new CliError(`expected TYPE/NAME, got "${a}"`);
      return { info: oneKind(a.slice(0, slash)), name: a.slice(slash + 1) };
    });
  }
  if (args.length < 2) throw new CliError(`you must specify the name of the resource to ${verb}, e.g. 'navctl ${verb} ${args[0]} NAME'`);
  const info = oneKind(args[0]!);
  return args.slice(1).map((name) => ({ info, name }));
}

function oneKind(text: string): KindInfo {
  const kinds = resolveKinds(text);
  if (kinds.length !== 1) throw new CliError(`"${text}" must name one resource type`);
  return kinds[0]!;
}

/** Refuses kinds the verb does not support, as kubectl words it. */
export function requireKind(t: Target, allowed: KindInfo[], verb: string): void {
  if (!allowed.includes(t.info)) {
    throw new CliError(`${verb} is not supported for ${t.info.plural} (supported: ${allowed.map((k) => k.plural).join(", ")})`);
  }
}

/**
 * Reads the object, applies `change` to a copy and updates it with the revision read. A conflict
 * (someone wrote in between) starts over from a fresh read. `change` returns false to write
 * nothing, or throws to refuse.
 */
export async function modifyObject<T extends KubeObject>(
  ctx: CommandContext,
  info: KindInfo,
  name: string,
  change: (obj: T) => boolean,
  attempts = 5,
): Promise<{ object: T; changed: boolean }> {
  const conn = ctx.connection();
  const namespace = ctx.settings().namespace;
  for (let i = 0; ; i++) {
    const current = (await conn.get(info, namespace, name)) as T;
    const next = structuredClone(current);
    if (!change(next)) return { object: current, changed: false };
    try {
      return { object: (await conn.update(info, next)) as T, changed: true };
    } catch (err) {
      if (err instanceof ApiError && err.code === grpc.status.ABORTED && i + 1 < attempts) continue;
      throw err;
    }
  }
}

export function revisionOf(obj: KubeObject): number {
  const n = Number(obj.metadata?.annotations?.[REVISION_ANNOTATION] ?? "");
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The replica sets the deployment controls (its uid in their controller ownerReference), oldest revision first. */
export async function replicaSetsOf(ctx: CommandContext, d: Deployment): Promise<ReplicaSet[]> {
  const all = await ctx.connection().list(REPLICA_SET, { namespace: d.metadata?.namespace ?? ctx.settings().namespace });
  return (all.items as ReplicaSet[])
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === d.metadata?.uid))
    .sort((a, b) => revisionOf(a) - revisionOf(b));
}
