// What a (re)starting agent does with the containers it finds: a pure plan from the pods bound
// to this node and the runtime's list of this node's containers (found by our node label only -
// containers without it are never looked at).
//
//   - A desired pod (same uid) with a running sandbox is adopted: the sandbox and, per container
//     name (init containers too), the newest container (highest attempt; running or exited) keep
//     running untouched; the one before it is kept as "previous" (logs --previous, lastState);
//     older ones go.
//   - A desired pod whose sandbox is not running (the Docker daemon restarted, say) starts over:
//     everything of it goes, and the pod machine makes a new sandbox.
//   - Containers and sandboxes of any other uid belong to no pod bound here: they go.
import type { Pod } from "@navarch/api";
import type { ContainerStatus as RuntimeContainerStatus, Sandbox } from "@navarch/runtime";
import type { AdoptedContainer } from "./container-machine.js";
import type { AdoptedPod } from "./pod-machine.js";

export interface AdoptionPlan {
  adopt: Map<string, AdoptedPod>;
  /** Stop and remove now. */
  removeContainers: string[];
  removeSandboxes: string[];
}

function newestFirst(a: RuntimeContainerStatus, b: RuntimeContainerStatus): number {
  return b.attempt - a.attempt || b.createdAt.getTime() - a.createdAt.getTime();
}

export function planAdoption(desired: Pod[], containers: RuntimeContainerStatus[], sandboxes: Sandbox[]): AdoptionPlan {
  const podsByUid = new Map(desired.map((p) => [p.metadata!.uid, p]));
  const plan: AdoptionPlan = { adopt: new Map(), removeContainers: [], removeSandboxes: [] };

  const sandboxesByUid = new Map<string, Sandbox[]>();
  for (const s of sandboxes) {
    if (!podsByUid.has(s.pod.uid)) {
      plan.removeSandboxes.push(s.id);
      continue;
    }
    sandboxesByUid.set(s.pod.uid, [...(sandboxesByUid.get(s.pod.uid) ?? []), s]);
  }
  const keptSandbox = new Map<string, Sandbox>();
  for (const [uid, list] of sandboxesByUid) {
    const ready = list.filter((s) => s.state === "ready").sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const keep = ready[0];
    if (keep) keptSandbox.set(uid, keep);
    for (const s of list) if (s !== keep) plan.removeSandboxes.push(s.id);
  }

  const apps = new Map<string, Map<string, RuntimeContainerStatus[]>>();
  for (const c of containers) {
    if (c.role !== "app") continue;
    const pod = podsByUid.get(c.pod.uid);
    const known = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].some((s) => s.name === c.name);
    if (!pod || !keptSandbox.has(c.pod.uid) || !known) {
      plan.removeContainers.push(c.id);
      continue;
    }
    let byName = apps.get(c.pod.uid);
    if (!byName) apps.set(c.pod.uid, (byName = new Map()));
    byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  }

  for (const [uid, sandbox] of keptSandbox) {
    const adopted: Record<string, AdoptedContainer> = {};
    for (const [name, list] of apps.get(uid) ?? []) {
      list.sort(newestFirst);
      const [current, previous, ...older] = list;
      // A container that was created but never started is not worth adopting: start afresh.
      if (!current || (current.state !== "running" && current.state !== "exited")) {
        plan.removeContainers.push(...list.map((c) => c.id));
        continue;
      }
      adopted[name] = { current, previous: previous?.state === "exited" ? previous : undefined };
      if (previous && previous.state !== "exited") plan.removeContainers.push(previous.id);
      plan.removeContainers.push(...older.map((c) => c.id));
    }
    plan.adopt.set(uid, { sandbox, containers: adopted });
  }
  return plan;
}
