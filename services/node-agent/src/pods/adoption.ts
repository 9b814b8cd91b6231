// What a (re)starting agent does with the containers it finds: a pure plan from the pods bound
// to this node and the runtime's list of this node's containers (found by our node label only -
// containers without it are never looked at).
//
//   - A desired pod (same uid) with a running sandbox is adopted: the sandbox and, per container
//     name (init containers too), the newest container (highest attempt; running or exited) keep
//     running untouched; the one before it is kept as "previous" (logs --previous, lastState);
//     older ones go.
//   - A desired pod that had finished (its pod machine completed it and stopped its sandbox) is
//     adopted as finished: the stopped sandbox and the exited containers are kept (their logs,
//     exit codes, finish times) and nothing runs again. Finished means: no running sandbox, and
//     every app container's newest container ended and would not be restarted under the pod's
//     restartPolicy (Never; OnFailure with exit 0) - or, under Never, an init container failed.
//   - A desired pod whose sandbox is not running and that had not finished (the Docker daemon
//     restarted, say) starts over: everything of it goes, and the pod machine makes a new sandbox.
//   - A pod without a sandbox (its only container holds the network, with a fixed IP in its
//     label) is judged the same way, its newest container standing in for the sandbox: adopted
//     with its IP (a Sandbox with id "": PodDeps.runSandbox), as finished when it had finished,
//     else running on - an exited container is restarted by its machine under the restart policy,
//     with the same IP.
//   - Containers and sandboxes of any other uid belong to no pod bound here: they go.
import type { Pod } from "@navarch/api";
import type { ContainerStatus as RuntimeContainerStatus, Sandbox } from "@navarch/runtime";
import { hasEnded as ended, type AdoptedContainer } from "./container-machine.js";
import type { AdoptedPod } from "./pod-machine.js";
import { normalizePolicy, wantsRestart } from "./restart-policy.js";

export interface AdoptionPlan {
  adopt: Map<string, AdoptedPod>;
  /** Stop and remove now. */
  removeContainers: string[];
  removeSandboxes: string[];
}

function newestFirst(a: RuntimeContainerStatus, b: RuntimeContainerStatus): number {
  return b.attempt - a.attempt || b.createdAt.getTime() - a.createdAt.getTime();
}

/**
 * Whether a pod whose sandbox is not running had finished for good: what the pod machine's
 * `completed` state means, judged from the newest container of each name (newest first).
 */
export function podFinished(pod: Pod, byName: ReadonlyMap<string, RuntimeContainerStatus[]> | undefined): boolean {
  const policy = normalizePolicy(pod.spec?.restartPolicy);
  const newest = (name: string) => byName?.get(name)?.[0];
  for (const init of pod.spec?.initContainers ?? []) {
    const c = newest(init.name);
    if (c && ended(c) && c.exitCode === 0) continue;
    // Under Never a failed init container fails the pod: nothing after it ever runs.
    return policy === "Never" && ended(c);
  }
  const apps = pod.spec?.containers ?? [];
  return (
    apps.length > 0 &&
    apps.every((spec) => {
      const c = newest(spec.name);
      return !!c && ended(c) && !wantsRestart(policy, { exitCode: c.exitCode, oomKilled: c.oomKilled });
    })
  );
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

  // The app containers of desired pods that their spec names, by pod and name, newest first.
  const apps = new Map<string, Map<string, RuntimeContainerStatus[]>>();
  for (const c of containers) {
    if (c.role !== "app") continue;
    const pod = podsByUid.get(c.pod.uid);
    const known = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].some((s) => s.name === c.name);
    if (!pod || !(sandboxesByUid.has(c.pod.uid) || c.podIP) || !known) {
      plan.removeContainers.push(c.id);
      continue;
    }
    let byName = apps.get(c.pod.uid);
    if (!byName) apps.set(c.pod.uid, (byName = new Map()));
    byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  }
  for (const byName of apps.values()) for (const list of byName.values()) list.sort(newestFirst);

  const kept = new Map<string, { sandbox: Sandbox; finished: boolean }>();
  for (const [uid, list] of sandboxesByUid) {
    list.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const ready = list.find((s) => s.state === "ready");
    // No running sandbox: a finished pod keeps its newest (stopped) one; any other starts over.
    const keep = ready ?? (podFinished(podsByUid.get(uid)!, apps.get(uid)) ? list[0] : undefined);
    if (keep) kept.set(uid, { sandbox: keep, finished: !ready });
    for (const s of list) if (s !== keep) plan.removeSandboxes.push(s.id);
  }

  for (const [uid, byName] of apps) {
    if (sandboxesByUid.has(uid)) continue;
    const all = [...byName.values()].flat();
    const ip = all.sort(newestFirst).find((c) => c.podIP)?.podIP;
    if (!ip) continue;
    const since = Math.min(...all.map((c) => c.createdAt.getTime()));
    const own: Sandbox = { id: "", pod: all[0]!.pod, ip, state: "ready", createdAt: new Date(since) };
    kept.set(uid, { sandbox: own, finished: podFinished(podsByUid.get(uid)!, byName) });
  }

  for (const [uid, byName] of apps) {
    if (kept.has(uid)) continue;
    for (const list of byName.values()) plan.removeContainers.push(...list.map((c) => c.id));
  }

  for (const [uid, { sandbox, finished }] of kept) {
    const adopted: Record<string, AdoptedContainer> = {};
    for (const [name, list] of apps.get(uid) ?? []) {
      const [current, previous, ...older] = list;
      // A container that was created but never started is not worth adopting: start afresh. In a
      // finished pod one that failed to start (StartError) is how that container ended: kept.
      if (!current || (current.state !== "running" && current.state !== "exited" && !(finished && ended(current)))) {
        plan.removeContainers.push(...list.map((c) => c.id));
        continue;
      }
      adopted[name] = { current, previous: ended(previous) ? previous : undefined };
      if (previous && !ended(previous)) plan.removeContainers.push(previous.id);
      plan.removeContainers.push(...older.map((c) => c.id));
    }
    plan.adopt.set(uid, finished ? { sandbox, containers: adopted, finished: true } : { sandbox, containers: adopted });
  }
  return plan;
}
