// navctl rollout status|history|undo|pause|resume|restart deployment/NAME, as kubectl rollout.
//
// status follows the deployment with a watch and prints a line whenever what it waits for
// changes, until the rollout is done (exit 0), the controller reports ProgressDeadlineExceeded
// (exit 1 with the reason), or --timeout passes (exit 1).
import * as grpc from "@grpc/grpc-js";
import type { Deployment, KubeObject, PodTemplateSpec, ReplicaSet } from "@navarch/api";
import { ObjectMeta, PodTemplateSpec as PodTemplateCodec } from "@navarch/api";
import { ApiError } from "../connection.js";
import { CliError } from "../errors.js";
import { describePodTemplate } from "../printers/describe.js";
import { tabwrite } from "../printers/tabwriter.js";
import { kindRef, resourceRef } from "../resources.js";
import type { CommandContext } from "./context.js";
import { LAST_APPLIED_ANNOTATION } from "../merge.js";
import { DEPLOYMENT, modifyObject, parseTargets, POD_TEMPLATE_HASH, replicaSetsOf, requireKind, REVISION_ANNOTATION, revisionOf, type Target } from "./rollout-target.js";

export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";

/** Annotations a rollback leaves as the deployment has them (kubectl's annotationsToSkip). */
const KEPT_ON_ROLLBACK = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  "deployment.kubernetes.io/revision-history",
  "deployment.kubernetes.io/desired-replicas",
  "deployment.kubernetes.io/max-replicas",
  "deprecated.deployment.rollback.to",
]);

function oneDeployment(args: string[], verb: string): Target {
  const targets = parseTargets(args, `rollout ${verb}`);
  if (targets.length !== 1) throw new CliError(`rollout ${verb} takes one deployment`);
  requireKind(targets[0]!, [DEPLOYMENT], `rollout ${verb}`);
  return targets[0]!;
}

// ---- status ----

export interface RolloutState {
  message: string;
  done: boolean;
  /** Set when the rollout failed (the command exits non-zero with it). */
  error?: string;
}

/** What kubectl's DeploymentStatusViewer says about a deployment. */
export function rolloutState(d: Deployment): RolloutState {
  const name = d.metadata?.name ?? "";
  const s = d.status;
  if ((d.metadata?.generation ?? 0) > (s?.observedGeneration ?? 0)) {
    return { message: "Waiting for deployment spec update to be observed...", done: false };
  }
  const progressing = s?.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return { message: "", done: false, error: `deployment "${name}" exceeded its progress deadline` };
  }
  const replicas = d.spec?.replicas ?? 1;
  const updated = s?.updatedReplicas ?? 0;
  const total = s?.replicas ?? 0;
  const available = s?.availableReplicas ?? 0;
  const waiting = `Waiting for deployment "${name}" rollout to finish: `;
  if (updated < replicas) return { message: `${waiting}${updated} out of ${replicas} new replicas have been updated...`, done: false };
  if (total > updated) return { message: `${waiting}${total - updated} old replicas are pending termination...`, done: false };
  if (available < updated) return { message: `${waiting}${available} of ${updated} updated replicas are available...`, done: false };
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

export interface RolloutStatusOptions {
  /** Give up after this long (ms); 0 or absent: wait as long as it takes. */
  timeoutMs?: number | undefined;
  /** false: print the current state once and exit. */
  watch?: boolean | undefined;
}

export async function runRolloutStatus(ctx: CommandContext, args: string[], opts: RolloutStatusOptions): Promise<void> {
  const t = oneDeployment(args, "status");
  const conn = ctx.connection();
  const namespace = ctx.settings().namespace;
  let last = "";
  /** Prints the state's line when it changed; true when the wait is over. */
  const show = (d: Deployment): boolean => {
    const st = rolloutState(d);
    if (st.error) throw new CliError(st.error);
    if (st.message !== last) ctx.io.out(`${st.message}\n`);
    last = st.message;
    return st.done;
  };
  const first = (await conn.get(t.info, namespace, t.name)) as Deployment;
  if (show(first) || opts.watch === false) return;

  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Infinity;
  let stream: grpc.ClientReadableStream<{ type: string; object?: KubeObject }> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    stream?.cancel();
  };
  process.once("SIGINT", onSigint);
  try {
    while (!interrupted) {
      if (Date.now() >= deadline) throw new CliError("timed out waiting for the condition");
      // A watch without a resourceVersion starts with the current object, so nothing between the
      // get and the watch is missed.
      stream = conn.watch(t.info, { namespace, fieldSelector: `metadata.name=${t.name}` });
      const outcome = await new Promise<"done" | "again" | "timeout" | Error>((resolve) => {
        if (deadline !== Infinity) timer = setTimeout(() => resolve("timeout"), deadline - Date.now());
        stream!.on("data", (ev: { type: string; object?: KubeObject }) => {
          try {
            if (ev.type === "DELETED") resolve(new CliError(`deployment "${t.name}" was deleted`));
            else if (ev.object && ev.type !== "BOOKMARK" && show(ev.object as Deployment)) resolve("done");
          } catch (err) {
            resolve(err as Error);
          }
        });
        stream!.on("error", (err: grpc.ServiceError) => {
          if (interrupted || err.code === grpc.status.CANCELLED) resolve("done");
          else if (err.code === grpc.status.UNAVAILABLE) resolve("again");
          else resolve(new ApiError(err.details || err.message, err.code, err.details ?? ""));
        });
        stream!.on("end", () => resolve("again"));
      });
      clearTimeout(timer);
      stream.cancel();
      if (outcome === "done") return;
      if (outcome === "timeout") throw new CliError("timed out waiting for the condition");
      if (outcome instanceof Error) throw outcome;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

// ---- history ----

export async function runRolloutHistory(ctx: CommandContext, args: string[], opts: { revision?: number | undefined }): Promise<void> {
  const t = oneDeployment(args, "history");
  const d = (await ctx.connection().get(t.info, ctx.settings().namespace, t.name)) as Deployment;
  const sets = (await replicaSetsOf(ctx, d)).filter((rs) => revisionOf(rs) > 0);
  const ref = `${kindRef(t.info)}/${t.name}`;
  if (opts.revision !== undefined && opts.revision > 0) {
    const rs = sets.find((r) => revisionOf(r) === opts.revision);
    if (!rs) throw new CliError(`unable to find the specified revision`);
    ctx.io.out(`${ref} with revision #${opts.revision}\n${describePodTemplate(rs.spec?.template)}`);
    return;
  }
  // kubectl lays this table out with text/tabwriter, padding 2 (not get's 3).
  const rows = sets.map((rs) => `${revisionOf(rs)}\t${rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] || "<none>"}`);
  ctx.io.out(`${ref} \n${tabwrite(["REVISION\tCHANGE-CAUSE", ...rows])}\n`);
}

// ---- undo ----

/** The template without the pod-template-hash label, as canonical JSON (key order ignored). */
function templateKey(t: PodTemplateSpec | undefined): string {
  const json = PodTemplateCodec.toJSON(PodTemplateCodec.fromPartial(t ?? {})) as { metadata?: { labels?: Record<string, string> } };
  if (json.metadata?.labels) {
    delete json.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(json.metadata.labels).length === 0) delete json.metadata.labels;
  }
  const canonical = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(canonical).join(",")}]`
      : v && typeof v === "object"
        ? `{${Object.keys(v as object)
            .sort()
            .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
            .join(",")}}`
        : JSON.stringify(v);
  return canonical(json);
}

/** kubectl's choice of replica set: the given revision, or the one before the newest. */
export function revisionToRollBackTo(sets: readonly ReplicaSet[], toRevision: number, name: string): ReplicaSet {
  if (toRevision > 0) {
    const rs = sets.find((r) => revisionOf(r) === toRevision);
    if (!rs) throw new CliError(`unable to find specified revision ${toRevision} in history`);
    return rs;
  }
  const ordered = sets.filter((r) => revisionOf(r) > 0).sort((a, b) => revisionOf(b) - revisionOf(a));
  if (ordered.length < 2) throw new CliError(`no rollout history found for deployment "${name}"`);
  return ordered[1]!;
}

export async function runRolloutUndo(ctx: CommandContext, args: string[], opts: { toRevision?: number | undefined }): Promise<void> {
  const t = oneDeployment(args, "undo");
  const ref = `${kindRef(t.info)}/${t.name}`;
  let skipped: number | undefined;
  await modifyObjectAsync(ctx, t, async (d) => {
    if (d.spec?.paused) {
      throw new CliError(`you cannot rollback a paused deployment; resume it first with 'navctl rollout resume ${ref}' and try again`);
    }
    const rs = revisionToRollBackTo(await replicaSetsOf(ctx, d), opts.toRevision ?? 0, t.name);
    if (templateKey(rs.spec?.template) === templateKey(d.spec?.template)) {
      skipped = revisionOf(rs);
      return false;
    }
    const template = structuredClone(rs.spec!.template!);
    delete template.metadata!.labels[POD_TEMPLATE_HASH];
    d.spec!.template = template;
    // The deployment takes the replica set's annotations (change-cause ...), keeping its own bookkeeping ones.
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (KEPT_ON_ROLLBACK.has(k)) annotations[k] = v;
    for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) if (!KEPT_ON_ROLLBACK.has(k)) annotations[k] = v;
    d.metadata!.annotations = annotations;
    return true;
  });
  ctx.io.out(skipped !== undefined ? `${ref} skipped rollback (current template already matches revision ${skipped})\n` : `${ref} rolled back\n`);
}

/** modifyObject with a change that needs to read other objects first. */
async function modifyObjectAsync(ctx: CommandContext, t: Target, change: (d: Deployment) => Promise<boolean>): Promise<void> {
  for (let i = 0; ; i++) {
    const current = (await ctx.connection().get(t.info, ctx.settings().namespace, t.name)) as Deployment;
    const next = structuredClone(current);
    if (!(await change(next))) return;
    try {
      await ctx.connection().update(t.info, next);
      return;
    } catch (err) {
      if (err instanceof ApiError && err.code === grpc.status.ABORTED && i < 4) continue;
      throw err;
    }
  }
}

// ---- pause, resume, restart ----

export async function runRolloutPause(ctx: CommandContext, args: string[]): Promise<void> {
  const t = oneDeployment(args, "pause");
  await modifyObject<Deployment>(ctx, t.info, t.name, (d) => {
    if (d.spec?.paused) throw new CliError(`${resourceRef(t.info)} "${t.name}" is already paused`);
    d.spec!.paused = true;
    return true;
  });
  ctx.io.out(`${kindRef(t.info)}/${t.name} paused\n`);
}

export async function runRolloutResume(ctx: CommandContext, args: string[]): Promise<void> {
  const t = oneDeployment(args, "resume");
  await modifyObject<Deployment>(ctx, t.info, t.name, (d) => {
    if (!d.spec?.paused) throw new CliError(`${resourceRef(t.info)} "${t.name}" is not paused`);
    d.spec!.paused = false;
    return true;
  });
  ctx.io.out(`${kindRef(t.info)}/${t.name} resumed\n`);
}

/** A new template annotation starts a rollout that replaces every pod, as kubectl rollout restart. */
export async function runRolloutRestart(ctx: CommandContext, args: string[], now: () => Date = () => new Date()): Promise<void> {
  const t = oneDeployment(args, "restart");
  await modifyObject<Deployment>(ctx, t.info, t.name, (d) => {
    if (d.spec?.paused) throw new CliError(`${resourceRef(t.info)} "${t.name}" can't restart paused deployment (run rollout resume first)`);
    const meta = (d.spec!.template!.metadata ??= ObjectMeta.fromPartial({}));
    meta.annotations = { ...(meta.annotations ?? {}), [RESTARTED_AT_ANNOTATION]: now().toISOString().replace(/\.\d{3}Z$/, "Z") };
    return true;
  });
  ctx.io.out(`${kindRef(t.info)}/${t.name} restarted\n`);
}
