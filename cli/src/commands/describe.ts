// navctl describe KIND [NAME...]: details of objects and the events about them.
import * as grpc from "@grpc/grpc-js";
import { KINDS, type Deployment, type DaemonSet, type Endpoints, type Event, type Ingress, type KindInfo, type KubeObject, type Pod, type Service } from "@navarch/api";
import { ApiError } from "../connection.js";
import { selectorText } from "../printers/columns.js";
import { describeObject } from "../printers/describe.js";
import { ingressServiceNames, type IngressBackends } from "../printers/ingress.js";
import { reportError, type CommandContext } from "./context.js";
import { noResourcesMessage, parseResourceArgs } from "./get.js";
import { replicaSetsOf } from "./rollout-target.js";

export interface DescribeOptions {
  selector?: string | undefined;
  allNamespaces?: boolean | undefined;
  showEvents?: boolean | undefined;
}

const EVENT_KIND = KINDS.Event as unknown as KindInfo;
const ENDPOINTS_KIND = KINDS.Endpoints as unknown as KindInfo;
const POD_KIND = KINDS.Pod as unknown as KindInfo;

/** A daemon set's pods: those its selector matches that it controls (kubectl's Pods Status). */
async function daemonSetPods(ctx: CommandContext, ds: DaemonSet): Promise<Pod[] | undefined> {
  const selector = selectorText(ds.spec?.selector);
  if (selector === "<none>") return [];
  const list = await ctx.connection().list(POD_KIND, { namespace: ds.metadata?.namespace ?? "", labelSelector: selector }).catch(() => undefined);
  return (list?.items as Pod[] | undefined)?.filter((p) => p.metadata?.ownerReferences?.some((o) => o.controller && o.uid === ds.metadata?.uid));
}

/** The Services and Endpoints an Ingress's backends name (kubectl's describe shows their addresses). */
async function ingressBackends(ctx: CommandContext, ing: Ingress): Promise<IngressBackends> {
  const ns = ing.metadata?.namespace ?? "";
  const conn = ctx.connection();
  const known: IngressBackends = { services: new Map(), endpoints: new Map() };
  const fetch = (kind: KindInfo, name: string) => conn.get(kind, ns, name).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  for (const name of ingressServiceNames(ing)) {
    known.services.set(name, (await fetch(KINDS.Service as unknown as KindInfo, name)) as Service | Error);
    known.endpoints.set(name, (await fetch(ENDPOINTS_KIND, name)) as Endpoints | Error);
  }
  return known;
}

/** Whether `ev` is about `obj` (the server filters events by namespace only, so match here). */
export function isEventFor(ev: Event, info: KindInfo, obj: KubeObject): boolean {
  const ref = ev.involvedObject;
  if (!ref || ref.kind !== info.kind || ref.name !== obj.metadata?.name) return false;
  if (info.namespaced && (ref.namespace || ev.metadata?.namespace) !== obj.metadata?.namespace) return false;
  if (ref.uid && obj.metadata?.uid && ref.uid !== obj.metadata.uid) return false;
  return true;
}

/** Lists events per namespace once, even when several objects are described. */
class EventCache {
  private readonly byNamespace = new Map<string, Promise<Event[] | undefined>>();
  constructor(private readonly ctx: CommandContext) {}

  async about(info: KindInfo, obj: KubeObject): Promise<Event[] | undefined> {
    // Events about cluster-scoped objects may be recorded in any namespace.
    const ns = info.namespaced ? (obj.metadata?.namespace ?? "") : "";
    let p = this.byNamespace.get(ns);
    if (!p) {
      p = this.ctx
        .connection()
        .list(EVENT_KIND, { namespace: ns })
        .then((r) => r.items as Event[])
        .catch((err) => {
          // Describing still works without events; auth and connection errors surface elsewhere.
          if (err instanceof ApiError && err.code !== grpc.status.UNAVAILABLE) return undefined;
          throw err;
        });
      this.byNamespace.set(ns, p);
    }
    const events = await p;
    return events?.filter((e) => isEventFor(e, info, obj));
  }
}

async function findObjects(ctx: CommandContext, info: KindInfo, name: string): Promise<KubeObject[]> {
  const conn = ctx.connection();
  try {
    return [await conn.get(info, ctx.settings().namespace, name)];
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== grpc.status.NOT_FOUND) throw err;
    // As kubectl: no exact match describes every object whose name starts with the argument.
    const all = await conn.list(info, { namespace: ctx.settings().namespace });
    const matches = all.items.filter((o) => (o.metadata?.name ?? "").startsWith(name));
    if (matches.length === 0) throw err;
    return matches;
  }
}

export async function runDescribe(ctx: CommandContext, args: string[], opts: DescribeOptions): Promise<void> {
  const specs = parseResourceArgs(args, "describe");
  const conn = ctx.connection();
  const events = new EventCache(ctx);
  let printedAny = false;
  for (const spec of specs) {
    const objects: KubeObject[] = [];
    if (spec.names.length === 0) {
      const res = await conn.list(spec.info, {
        namespace: opts.allNamespaces ? "" : ctx.settings().namespace,
        labelSelector: opts.selector,
      });
      objects.push(...res.items);
    } else {
      for (const name of spec.names) {
        try {
          objects.push(...(await findObjects(ctx, spec.info, name)));
        } catch (err) {
          if (err instanceof ApiError && err.code === grpc.status.NOT_FOUND) reportError(ctx, err.message);
          else throw err;
        }
      }
    }
    for (const obj of objects) {
      const evs = opts.showEvents === false ? undefined : await events.about(spec.info, obj);
      let endpoints: Endpoints | undefined;
      if (spec.info.kind === "Service") {
        endpoints = (await conn.get(ENDPOINTS_KIND, obj.metadata?.namespace ?? "", obj.metadata?.name ?? "").catch(() => undefined)) as Endpoints | undefined;
      }
      const replicaSets = spec.info.kind === "Deployment" ? await replicaSetsOf(ctx, obj as Deployment).catch(() => undefined) : undefined;
      // A replica set's pods are found the same way (selector, then its controller reference).
      const pods = spec.info.kind === "DaemonSet" || spec.info.kind === "ReplicaSet" ? await daemonSetPods(ctx, obj as DaemonSet) : undefined;
      const backends = spec.info.kind === "Ingress" ? await ingressBackends(ctx, obj as Ingress) : undefined;
      ctx.io.out((printedAny ? "\n\n" : "") + describeObject(spec.info, obj, { events: evs, endpoints, pods, replicaSets, ingressBackends: backends }));
      printedAny = true;
    }
  }
  if (!printedAny && !ctx.failed) ctx.io.err(noResourcesMessage(ctx, specs.map((s) => s.info), opts));
}
