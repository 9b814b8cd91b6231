// navctl drain NODE: cordon the node, then evict every pod on it and wait until they are gone, as
// kubectl drain does. Eviction is a graceful delete (the node agent stops the containers within
// the pod's grace period, or --grace-period, and then deletes the Pod); the pods' controllers
// create replacements, which the scheduler puts on other nodes since this one is cordoned.
//
// Refused, as kubectl refuses, before anything is evicted (the node stays cordoned):
//   - pods that no controller owns (they would not come back) unless --force;
//   - DaemonSet pods (their controller would put them right back) unless --ignore-daemonsets,
//     which leaves them running;
//   - pods with emptyDir volumes (their data goes) unless --delete-emptydir-data.
// Pods that already finished are deleted without these checks.
import * as grpc from "@grpc/grpc-js";
import { KINDS, type KindInfo, type Pod } from "@navarch/api";
import { ApiError } from "../connection.js";
import { CliError } from "../errors.js";
import { cordonMessage, nodeNameOf, setUnschedulable } from "./cordon.js";
import type { CommandContext } from "./context.js";

const POD = KINDS.Pod as unknown as KindInfo;
const POLL_MS = 500;

export interface DrainOptions {
  force?: boolean | undefined;
  ignoreDaemonsets?: boolean | undefined;
  deleteEmptydirData?: boolean | undefined;
  /** Seconds each pod gets to terminate; negative: the pod's own. */
  gracePeriod?: number | undefined;
  /** Give up waiting after this long (ms); 0 or absent: no limit (kubectl's default). */
  timeoutMs?: number | undefined;
}

export interface DrainPlan {
  evict: Pod[];
  /** DaemonSet pods left running (--ignore-daemonsets). */
  ignored: Pod[];
  /** Why the drain cannot go on; empty when it can. */
  errors: string[];
  warnings: string[];
}

const ref = (p: Pod) => `${p.metadata!.namespace}/${p.metadata!.name}`;
const finished = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
const controllerOf = (p: Pod) => (p.metadata?.ownerReferences ?? []).find((o) => o.controller === true);

/** What to evict, what to leave, what stops the drain - kubectl's pod filters, pure. */
export function planDrain(pods: Pod[], opts: DrainOptions): DrainPlan {
  const plan: DrainPlan = { evict: [], ignored: [], errors: [], warnings: [] };
  const unmanaged: Pod[] = [];
  const daemons: Pod[] = [];
  const local: Pod[] = [];
  for (const pod of pods) {
    if (finished(pod)) {
      plan.evict.push(pod);
      continue;
    }
    const owner = controllerOf(pod);
    if (owner?.kind === "DaemonSet") {
      daemons.push(pod);
      continue;
    }
    if (!owner) unmanaged.push(pod);
    if ((pod.spec?.volumes ?? []).some((v) => v.emptyDir)) local.push(pod);
    plan.evict.push(pod);
  }
  const list = (ps: Pod[]) => ps.map(ref).join(", ");
  if (daemons.length > 0) {
    if (opts.ignoreDaemonsets) {
      plan.ignored = daemons;
      plan.warnings.push(`ignoring DaemonSet-managed Pods: ${list(daemons)}`);
    } else {
      plan.errors.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${list(daemons)}`);
    }
  }
  if (unmanaged.length > 0) {
    if (opts.force) plan.warnings.push(`deleting Pods that declare no controller: ${list(unmanaged)}`);
    else plan.errors.push(`cannot delete Pods that declare no controller (use --force to override): ${list(unmanaged)}`);
  }
  if (local.length > 0) {
    if (opts.deleteEmptydirData) plan.warnings.push(`deleting Pods with local storage: ${list(local)}`);
    else plan.errors.push(`cannot delete Pods with local storage (use --delete-emptydir-data to override): ${list(local)}`);
  }
  return plan;
}

/** "60s", "1m30s": how kubectl prints a timeout. */
export function formatTimeout(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
}

async function podsOn(ctx: CommandContext, node: string): Promise<Pod[]> {
  const { items } = await ctx.connection().list(POD, { namespace: "", fieldSelector: `spec.nodeName=${node}` });
  // The server filters; checking again costs nothing and keeps us right with any server.
  return (items as Pod[]).filter((p) => p.spec?.nodeName === node);
}

export async function runDrain(ctx: CommandContext, arg: string, opts: DrainOptions): Promise<void> {
  const node = nodeNameOf(arg);
  const changed = await setUnschedulable(ctx, node, true);
  ctx.io.out(cordonMessage(node, true, changed));

  const plan = planDrain(await podsOn(ctx, node), opts);
  for (const w of plan.warnings) ctx.io.err(`Warning: ${w}\n`);
  if (plan.errors.length > 0) {
    throw new CliError(`unable to drain node "${node}" due to error: ${plan.errors.join("; ")}`);
  }

  const deadline = opts.timeoutMs && opts.timeoutMs > 0 ? Date.now() + opts.timeoutMs : 0;
  const grace = opts.gracePeriod !== undefined && opts.gracePeriod >= 0 ? opts.gracePeriod : undefined;
  const pending = new Map<string, Pod>();
  for (const pod of plan.evict) {
    const meta = pod.metadata!;
    ctx.io.out(`evicting pod ${ref(pod)}\n`);
    try {
      await ctx.connection().delete(POD, {
        namespace: meta.namespace,
        name: meta.name,
        preconditions: { uid: meta.uid, resourceVersion: "" },
        ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      });
    } catch (err) {
      // Gone already, or replaced by another pod of that name: nothing of this one to wait for.
      if (err instanceof ApiError && (err.code === grpc.status.NOT_FOUND || err.code === grpc.status.ABORTED)) {
        ctx.io.out(`pod/${meta.name} evicted\n`);
        continue;
      }
      throw new CliError(`unable to drain node "${node}": error when evicting pod ${ref(pod)}: ${(err as Error).message}`);
    }
    pending.set(meta.uid, pod);
  }

  while (pending.size > 0) {
    if (deadline > 0 && Date.now() >= deadline) {
      const left = [...pending.values()].map(ref).join(", ");
      throw new CliError(`unable to drain node "${node}": global timeout reached: ${formatTimeout(opts.timeoutMs!)} (pods still terminating: ${left})`);
    }
    await new Promise((r) => setTimeout(r, deadline > 0 ? Math.min(POLL_MS, Math.max(1, deadline - Date.now())) : POLL_MS));
    const still = new Set((await podsOn(ctx, node)).map((p) => p.metadata!.uid));
    for (const [uid, pod] of pending) {
      if (still.has(uid)) continue;
      pending.delete(uid);
      ctx.io.out(`pod/${pod.metadata!.name} evicted\n`);
    }
  }
  ctx.io.out(`node/${node} drained\n`);
}
