// navctl scale deployment/NAME --replicas N (also replicaset): sets spec.replicas, compare-and-swap
// on the revision read, as kubectl scale. --current-replicas makes it conditional.
import type { Deployment, ReplicaSet } from "@navarch/api";
import { CliError } from "../errors.js";
import { kindRef } from "../resources.js";
import type { CommandContext } from "./context.js";
import { DEPLOYMENT, modifyObject, parseTargets, REPLICA_SET, requireKind } from "./rollout-target.js";

export interface ScaleOptions {
  replicas: number;
  /** Only scale when spec.replicas is this now (-1: any). */
  currentReplicas?: number | undefined;
}

export async function runScale(ctx: CommandContext, args: string[], opts: ScaleOptions): Promise<void> {
  if (!Number.isInteger(opts.replicas) || opts.replicas < 0) throw new CliError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
  const targets = parseTargets(args, "scale");
  for (const t of targets) requireKind(t, [DEPLOYMENT, REPLICA_SET], "scale");
  for (const t of targets) {
    await modifyObject<Deployment | ReplicaSet>(ctx, t.info, t.name, (obj) => {
      const now = obj.spec?.replicas ?? 1;
      if (opts.currentReplicas !== undefined && opts.currentReplicas >= 0 && now !== opts.currentReplicas) {
        throw new CliError(`Expected replicas to be ${opts.currentReplicas}, was ${now}`);
      }
      obj.spec!.replicas = opts.replicas;
      return true;
    });
    ctx.io.out(`${kindRef(t.info)}/${t.name} scaled\n`);
  }
}
