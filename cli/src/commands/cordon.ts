// navctl cordon NODE / navctl uncordon NODE: mark a node (un)schedulable, as kubectl does - one
// field, spec.unschedulable, written with the API's compare-and-swap Update; a conflict (the node
// agent or the node lifecycle controller wrote the Node meanwhile) reads it again and retries.
import * as grpc from "@grpc/grpc-js";
import { KINDS, type KindInfo, type Node } from "@navarch/api";
import { ApiError } from "../connection.js";
import { CliError } from "../errors.js";
import type { CommandContext } from "./context.js";

const NODE = KINDS.Node as unknown as KindInfo;
const ATTEMPTS = 10;

/** "NODE" or "node/NODE" (also "nodes/NODE", "no/NODE"), as kubectl takes it. */
export function nodeNameOf(arg: string): string {
  const slash = arg.indexOf("/");
  if (slash < 0) return arg;
  const kind = arg.slice(0, slash).toLowerCase();
  if (!["node", "nodes", "no"].includes(kind)) throw new CliError(`${arg} is not a node: give a node name or node/NAME`);
  const name = arg.slice(slash + 1);
  if (!name) throw new CliError("a node name is required");
  return name;
}

/**
 * Sets spec.unschedulable; returns whether anything changed. Retries from a fresh read when the
 * Node changed between our read and our write (ABORTED).
 */
export async function setUnschedulable(ctx: CommandContext, name: string, unschedulable: boolean): Promise<boolean> {
  const conn = ctx.connection();
  for (let attempt = 1; ; attempt++) {
    const node = (await conn.get(NODE, "", name)) as Node;
    if ((node.spec?.unschedulable ?? false) === unschedulable) return false;
    const next: Node = { ...node, spec: { ...KINDS.Node.codec.fromPartial({ spec: {} }).spec!, ...node.spec, unschedulable } };
    try {
      await conn.update(NODE, next);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === grpc.status.ABORTED && attempt < ATTEMPTS) continue;
      throw err;
    }
  }
}

/** The line kubectl prints: "node/n1 cordoned", "node/n1 already uncordoned". */
export function cordonMessage(name: string, cordon: boolean, changed: boolean): string {
  return `node/${name} ${changed ? "" : "already "}${cordon ? "cordoned" : "uncordoned"}\n`;
}

export async function runCordon(ctx: CommandContext, arg: string, cordon: boolean): Promise<void> {
  const name = nodeNameOf(arg);
  const changed = await setUnschedulable(ctx, name, cordon);
  ctx.io.out(cordonMessage(name, cordon, changed));
}
