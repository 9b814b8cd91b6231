// The projector watches Pods (key <namespace>.<name>) and the projection bucket, whose keys
// <node>.<namespace>.<name> map back to the pod's key; an index from pod key to its projections
// keeps a pod's sync from scanning the bucket.
import type { Pod } from "@navarch/api";
import { watch, type Watch } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import type { ProjectionDigest } from "./digests.js";
import { sameContent, type Projection } from "./reconcile.js";

export interface ProjectorInformers {
  pods: Informer<Pod>;
  /** The whole navarch-node-pods bucket (every node), as digests (digests.ts). */
  projections: Informer<ProjectionDigest>;
}

/** "<nodeToken>.<namespace>.<name>" -> { node token, pod key }. */
export function splitProjectionKey(key: string): { nodeToken: string; podKey: string } {
  const dot = key.indexOf(".");
  return { nodeToken: key.slice(0, dot), podKey: key.slice(dot + 1) };
}

export class ProjectionIndex {
  /** Pod key -> its projection's key, or the keys when there are several (a stale copy on another node). */
  private readonly byPod = new Map<string, string | Set<string>>();

  constructor(private readonly projections: Informer<ProjectionDigest>) {
    for (const key of projections.keys()) this.add(key);
    projections.onEvent((e) => (e.type === "DELETED" ? this.remove(e.key) : this.add(e.key)));
  }

  of(podKey: string): Projection[] {
    const keys = this.byPod.get(podKey);
    if (keys === undefined) return [];
    const out: Projection[] = [];
    for (const key of typeof keys === "string" ? [keys] : keys) {
      const p = this.projections.getByKey(key);
      if (p) out.push({ node: p.node, namespace: p.metadata!.namespace, name: p.metadata!.name, revision: p.metadata!.resourceVersion, digest: p.digest });
    }
    return out;
  }

  private add(key: string): void {
    const { podKey } = splitProjectionKey(key);
    const keys = this.byPod.get(podKey);
    if (keys === undefined) this.byPod.set(podKey, key);
    else if (typeof keys === "string") {
      if (keys !== key) this.byPod.set(podKey, new Set([keys, key]));
    } else keys.add(key);
  }

  private remove(key: string): void {
    const { podKey } = splitProjectionKey(key);
    const keys = this.byPod.get(podKey);
    if (keys === key) this.byPod.delete(podKey);
    else if (typeof keys === "object") {
      keys.delete(key);
      if (keys.size === 1) this.byPod.set(podKey, [...keys][0]!);
    }
  }
}

export function projectorWatches(informers: ProjectorInformers): Watch[] {
  return [
    // A status write (the folder's, several per pod) changes nothing a node sees: no key.
    watch(informers.pods, (e) => (e.type === "MODIFIED" && e.old && sameContent(e.old, e.object) ? [] : [e.key])),
    watch(informers.projections, (e) => [splitProjectionKey(e.key).podKey]),
  ];
}
