// How navctl names kinds on the command line and in output, as kubectl does: "configmap/x" for
// core kinds, "deployment.apps/web" for kinds of a named API group.
import { KINDS, resolveKind, type KindInfo, type KubeObject } from "@navarch/api";
import { CliError } from "./errors.js";

/** The API group of a kind: "" for core (v1), "apps" for apps/v1. */
export function groupOf(info: KindInfo): string {
  const slash = info.apiVersion.indexOf("/");
  return slash < 0 ? "" : info.apiVersion.slice(0, slash);
}

/** "configmap" or "deployment.apps": the prefix of `navctl get -o name` and apply output. */
export function kindRef(info: KindInfo): string {
  const group = groupOf(info);
  return group ? `${info.singular}.${group}` : info.singular;
}

/** "configmaps" or "deployments.apps": the resource as kubectl names it in messages. */
export function resourceRef(info: KindInfo): string {
  const group = groupOf(info);
  return group ? `${info.plural}.${group}` : info.plural;
}

/** "configmap/x". */
export function objectRef(info: KindInfo, name: string): string {
  return `${kindRef(info)}/${name}`;
}

/** The kinds `navctl get all` shows, as kubectl's "all" category. */
const ALL_CATEGORY: KindInfo[] = [KINDS.Pod, KINDS.Service, KINDS.DaemonSet, KINDS.Deployment, KINDS.ReplicaSet, KINDS.Job] as unknown as KindInfo[];

/**
 * Resolves what a user typed ("cm", "configmaps", "ConfigMap", "deployments.apps", "all") to
 * kinds, or fails as kubectl does.
 */
export function resolveKinds(text: string): KindInfo[] {
  const out: KindInfo[] = [];
  for (const raw of text.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (name.toLowerCase() === "all") {
      for (const k of ALL_CATEGORY) if (!out.includes(k)) out.push(k);
      continue;
    }
    const info = resolveOne(name);
    if (!out.includes(info)) out.push(info);
  }
  if (out.length === 0) throw new CliError(`the server doesn't have a resource type "${text}"`);
  return out;
}

function resolveOne(name: string): KindInfo {
  // "deployments.apps", "deployment.apps", "leases.coordination.k8s.io": kind plus group.
  const direct = resolveKind(name);
  if (direct) return direct;
  const dot = name.indexOf(".");
  if (dot > 0) {
    const info = resolveKind(name.slice(0, dot));
    if (info && groupOf(info) === name.slice(dot + 1).toLowerCase()) return info;
  }
  throw new CliError(`the server doesn't have a resource type "${name}"`);
}

export function nameOf(obj: KubeObject): string {
  return obj.metadata?.name ?? "";
}

export function namespaceOf(obj: KubeObject): string {
  return obj.metadata?.namespace ?? "";
}

