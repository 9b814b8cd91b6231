// What the Deployment controller watches: Deployments (key: their own); ReplicaSets, whose events
// map to the deployment that controls them (before and after the change), or for an orphan to
// the deployments of its namespace whose selector matches it; and Pods, but only their ends - a
// Recreate deployment waits until no pod of its old replica sets runs.
import { fromLabelSelector, matches, type Deployment, type Pod, type ReplicaSet } from "@navarch/api";
import { watch, type Watch } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { controllerRef } from "../pod-ownership/pod-state.js";

export interface DeploymentInformers {
  deployments: Informer<Deployment>;
  replicaSets: Informer<ReplicaSet>;
  pods: Informer<Pod>;
}

export function deploymentWatches(informers: DeploymentInformers): Watch[] {
  return [
    watch(informers.deployments, (e) => [e.key]),
    watch(informers.replicaSets, (e: StoreEvent<ReplicaSet>) => replicaSetOwners(informers, e)),
    watch(informers.pods, (e: StoreEvent<Pod>) => recreateWaitingOn(informers, e)),
  ];
}

function ownerKey(informers: DeploymentInformers, obj: ReplicaSet): string | undefined {
  const ref = controllerRef(obj);
  if (!ref || ref.kind !== "Deployment") return undefined;
  const d = informers.deployments.get(obj.metadata?.namespace ?? "", ref.name);
  return d && d.metadata?.uid === ref.uid ? informers.deployments.store.keyOf(d) : undefined;
}

export function replicaSetOwners(informers: DeploymentInformers, e: StoreEvent<ReplicaSet>): string[] {
  const keys = new Set<string>();
  for (const rs of e.old ? [e.old, e.object] : [e.object]) {
    if (controllerRef(rs)) {
      const k = ownerKey(informers, rs);
      if (k) keys.add(k);
    } else if (e.type !== "DELETED" && !rs.metadata?.deletionTimestamp) {
      for (const d of informers.deployments.list(rs.metadata?.namespace ?? "")) {
        const sel = d.spec?.selector ? fromLabelSelector(d.spec.selector) : [];
        if (sel.length > 0 && matches(sel, rs.metadata?.labels)) keys.add(informers.deployments.store.keyOf(d));
      }
    }
  }
  return [...keys];
}

const finished = (p: Pod | undefined) => p?.status?.phase === "Succeeded" || p?.status?.phase === "Failed";

/** A pod that went away (or finished) wakes its Recreate deployment. */
function recreateWaitingOn(informers: DeploymentInformers, e: StoreEvent<Pod>): string[] {
  const ended = e.type === "DELETED" || (finished(e.object) && !finished(e.old));
  if (!ended) return [];
  const ref = controllerRef(e.object);
  if (!ref || ref.kind !== "ReplicaSet") return [];
  const rs = informers.replicaSets.get(e.object.metadata?.namespace ?? "", ref.name);
  if (!rs || rs.metadata?.uid !== ref.uid) return [];
  const key = ownerKey(informers, rs);
  if (!key) return [];
  const d = informers.deployments.getByKey(key);
  return d?.spec?.strategy?.type === "Recreate" ? [key] : [];
}
