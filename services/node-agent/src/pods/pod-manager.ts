// The pods of this node: one pod machine per pod bound here, fed by
//   - the informer on navarch-node-pods "<node>.>" (server-side filtered: only our pods): a new
//     pod starts a machine, deletionTimestamp asks it to terminate gracefully, a vanished entry
//     (force delete) kills at once;
//   - the runtime's event stream (runtime-watch.ts): a container that died is inspected and the
//     result goes to its pod's machine at once;
//   - a periodic resync from the runtime's container list, which also removes containers of pods
//     that are not ours any more.
// Work is per pod: an informer event or a runtime event touches one machine (maps by key and by
// uid); only the periodic resync looks at every pod.
//
// Start: list the runtime's containers, adopt what belongs to our pods (adoption.ts), remove the
// rest, then start a machine per pod. Adopted pods without a sandbox keep their IPs (pod-ips.ts);
// a pod's IP is free again once its machine is done. An adopted container with readiness or startup probes goes on
// from its last reported started/ready (so an agent restart does not make its pod unready). Stop: stop the machines and leave the containers running,
// for the next agent to adopt.
import type { Pod, PodStatus } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import type { ContainerStatus as RuntimeContainerStatus, RuntimeEvent } from "@navarch/runtime";
import type { Informer, StoreEvent } from "@navarch/store";
import { createActor } from "xstate";
import { Prober } from "../probes/prober.js";
import { planAdoption } from "./adoption.js";
import { podDeps, removeAll, type AgentContext } from "./pod-deps.js";
import { podContainerViews, podInitContainerViews, podMachine, type AdoptedPod, type Deletion, type PodActor } from "./pod-machine.js";
import { computePodStatus } from "./pod-status.js";
import type { StatusReporter } from "./reports.js";
import { settleUnclustered } from "./unclustered.js";

export const DEFAULT_GRACE_SECONDS = 30;

interface Entry {
  key: string;
  uid: string;
  pod: Pod;
  actor: PodActor;
}

export interface PodManagerOptions {
  ctx: AgentContext;
  informer: Informer<Pod>;
  reporter: StatusReporter;
  /** "docker": the scheme of containerID in status. */
  runtimeName: string;
  /** Probe attempts running at once on this node (default DEFAULT_MAX_CONCURRENT_PROBES). */
  maxConcurrentProbes?: number;
}

/** The grace period of a pod being deleted: the deletion's own, else the pod's, else 30 s. */
export function gracePeriodOf(pod: Pod): number {
  const fromDeletion = pod.metadata?.deletionGracePeriodSeconds ?? 0;
  if (fromDeletion > 0) return fromDeletion;
  return pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

export class PodManager {
  private readonly byKey = new Map<string, Entry>();
  private readonly byUid = new Map<string, Entry>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private started = false;
  private readonly ctx: AgentContext;
  /** One for the node: every pod's probes share its concurrency bound. */
  private readonly prober: Prober;

  constructor(private readonly opts: PodManagerOptions) {
    this.ctx = opts.ctx;
    this.prober = new Prober(opts.ctx.runtime, { maxConcurrent: opts.maxConcurrentProbes });
  }

  get size(): number {
    return this.byUid.size;
  }

  /** Adopts what runs, removes what is not ours, starts a machine per pod. The informer must be synced. */
  async start(): Promise<void> {
    const { runtime, node, logger } = this.ctx;
    // Events during adoption only queue (handled once the machines exist).
    const early: StoreEvent<Pod>[] = [];
    this.unsubscribe = this.opts.informer.onEvent((e) => (this.started ? this.onPodEvent(e) : early.push(e)));
    // Containers from before cluster ids that are our pods' go first: none of those pods may run
    // twice (pods/unclustered.ts). The rest only sees this cluster's containers.
    await settleUnclustered({ runtime, node, desired: this.opts.informer.list(), recorder: this.ctx.recorder, logger }).catch((err) =>
      logger.warn({ err: String(err) }, "settling containers without a cluster id failed; the next start of the agent tries again"),
    );
    const [containers, sandboxes] = await Promise.all([runtime.listContainers(node), runtime.listSandboxes(node)]);
    const desired = this.opts.informer.list();
    const plan = planAdoption(desired, containers, sandboxes);
    // A fresh start (also after fencing): only the adopted pods hold IPs.
    this.ctx.podIPs?.clear();
    this.holdIPs(plan.adopt, containers);
    logger.info(
      { pods: desired.length, adopted: plan.adopt.size, removeContainers: plan.removeContainers.length, removeSandboxes: plan.removeSandboxes.length },
      "adopting containers",
    );
    // Not ours (or not adoptable): removed before anything new starts, so a pod's old sandbox
    // cannot linger next to its new one.
    await removeAll(runtime, logger, plan.removeContainers, plan.removeSandboxes).catch((err) =>
      logger.warn({ err: String(err) }, "removing stray containers failed; the next resync tries again"),
    );
    await this.recallProbeStates(desired, plan.adopt);
    for (const key of this.opts.informer.keys()) {
      const pod = this.opts.informer.getByKey(key)!;
      this.startPod(key, pod, plan.adopt.get(pod.metadata!.uid));
    }
    this.started = true;
    for (const e of early) this.onPodEvent(e);
  }

  /** Stops every machine; containers keep running. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const e of this.byUid.values()) e.actor.stop();
    this.byKey.clear();
    this.byUid.clear();
  }

  /** Fencing: stops every machine and kills every container of this node's pods. */
  async killAll(): Promise<void> {
    this.stop();
    const { runtime, node, logger } = this.ctx;
    const all = await runtime.listContainers(node);
    await removeAll(
      runtime,
      logger,
      all.filter((c) => c.role === "app").map((c) => c.id),
      all.filter((c) => c.role === "sandbox").map((c) => c.id),
    );
  }

  /** A runtime event: one pod's machine hears of it (a die is inspected first). */
  onRuntimeEvent(ev: RuntimeEvent): void {
    const entry = ev.pod ? this.byUid.get(ev.pod.uid) : undefined;
    if (!entry || this.stopped) return;
    if (ev.type === "die") {
      this.ctx.runtime.inspectContainer(ev.containerId).then(
        (status) => entry.actor.send(status ? { type: "OBSERVED", status } : { type: "GONE", id: ev.containerId, containerName: ev.containerName }),
        (err) => this.ctx.logger.warn({ container: ev.containerId, err: String(err) }, "inspecting a dead container failed; the resync will see it"),
      );
    } else if (ev.type === "destroy") {
      entry.actor.send({ type: "GONE", id: ev.containerId, containerName: ev.containerName });
    }
  }

  /** Compares every pod with the runtime's list, and removes containers of pods not ours. */
  async resync(): Promise<void> {
    if (this.stopped) return;
    const { runtime, node, logger } = this.ctx;
    const listedAt = this.ctx.now();
    const containers = await runtime.listContainers(node);
    this.ctx.podIPs?.observe(containers.flatMap((c) => (c.podIP ? [c.podIP] : [])));
    const byUid = new Map<string, RuntimeContainerStatus[]>();
    for (const c of containers) byUid.set(c.pod.uid, [...(byUid.get(c.pod.uid) ?? []), c]);
    for (const entry of this.byUid.values()) {
      entry.actor.send({ type: "RESYNC", containers: byUid.get(entry.uid) ?? [], listedAt });
    }
    const strays = [...byUid].filter(([uid]) => !this.byUid.has(uid)).flatMap(([, list]) => list);
    if (strays.length > 0 && !this.stopped) {
      logger.info({ containers: strays.map((c) => `${c.pod.namespace}/${c.pod.name}/${c.name}`) }, "removing containers of pods not bound here");
      await removeAll(
        runtime,
        logger,
        strays.filter((c) => c.role === "app").map((c) => c.id),
        strays.filter((c) => c.role === "sandbox").map((c) => c.id),
      );
    }
  }

  /** For logs: the runtime id of a pod's container (the previous one with `previous`). */
  findContainer(namespace: string, name: string, uid: string, container: string, previous: boolean): string | undefined {
    const entry = this.byKey.get(this.opts.informer.store.key(namespace, name));
    if (!entry || (uid && entry.uid !== uid)) return undefined;
    const child = entry.actor.getSnapshot().context.children[container];
    if (!child) return undefined;
    const c = child.getSnapshot().context;
    if (!previous) return c.containerId || undefined;
    return c.ids.length >= 2 ? c.ids[c.ids.length - 2] : undefined;
  }

  /** The status this node would report for a pod now (tests, status pages). */
  statusOf(uid: string): PodStatus | undefined {
    const entry = this.byUid.get(uid);
    return entry ? this.buildStatus(entry, undefined) : undefined;
  }

  private onPodEvent(e: StoreEvent<Pod>): void {
    if (this.stopped) return;
    const existing = this.byKey.get(e.key);
    if (e.type === "DELETED") {
      // Force deletion (or the projection dropped it): kill at once, do not touch the Pod object.
      existing?.actor.send({ type: "DELETE", graceSeconds: 0, deleteObject: false });
      if (!existing) void this.opts.reporter.delete(e.object.metadata!.namespace, e.object.metadata!.name, e.object.metadata!.uid).catch(() => undefined);
      return;
    }
    const pod = e.object;
    const uid = pod.metadata!.uid;
    if (existing && existing.uid !== uid) {
      // The same name, another pod: the old one was deleted (its object is gone already).
      existing.actor.send({ type: "DELETE", graceSeconds: 0, deleteObject: false });
      this.byKey.delete(e.key);
    }
    const entry = this.byKey.get(e.key);
    if (!entry) {
      if (!this.byUid.has(uid)) this.startPod(e.key, pod, undefined);
      return;
    }
    entry.pod = pod;
    entry.actor.send({ type: "UPDATE", pod });
    if (pod.metadata?.deletionTimestamp) entry.actor.send({ type: "DELETE", graceSeconds: gracePeriodOf(pod), deleteObject: true });
  }

  private startPod(key: string, pod: Pod, adopted: AdoptedPod | undefined): void {
    const meta = pod.metadata!;
    const holder: { entry?: Entry } = {};
    const deletion: Deletion | undefined = meta.deletionTimestamp ? { graceSeconds: gracePeriodOf(pod), deleteObject: true } : undefined;
    const actor = createActor(podMachine, {
      id: `pod-${meta.namespace}-${meta.name}`,
      input: { pod, deps: podDeps(this.ctx, () => holder.entry?.pod ?? pod, this.prober), adopted, deletion },
    });
    const entry: Entry = { key, uid: meta.uid, pod, actor };
    holder.entry = entry;
    this.byKey.set(key, entry);
    this.byUid.set(meta.uid, entry);
    const report = () => this.opts.reporter.schedule(meta.namespace, meta.name, meta.uid, (previous) => this.buildStatus(entry, previous));
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot.status === "active") report();
      },
      complete: () => this.finished(entry),
      // A root actor without an error observer would crash the process.
      error: (err) => {
        this.ctx.logger.error({ pod: `${meta.namespace}/${meta.name}`, uid: meta.uid, err: String(err) }, "pod machine failed; restarting it");
        this.forget(entry);
        setTimeout(() => void this.restartPod(entry.key, meta.uid), 1_000).unref();
      },
    });
    actor.start();
    this.ctx.logger.info({ pod: `${meta.namespace}/${meta.name}`, uid: meta.uid, adopted: !!adopted }, adopted ? "pod adopted" : "pod added");
  }

  /** A new machine for a pod whose machine failed, adopting what its old one left running. */
  private async restartPod(key: string, uid: string): Promise<void> {
    const pod = this.opts.informer.getByKey(key);
    // Gone meanwhile: nothing will hold its IP again (a leftover container goes with the resync).
    if (!this.stopped && (!pod || pod.metadata!.uid !== uid)) this.ctx.podIPs?.release(uid);
    if (this.stopped || !pod || pod.metadata!.uid !== uid || this.byUid.has(uid)) return;
    const { runtime, node, logger } = this.ctx;
    try {
      const [containers, sandboxes] = await Promise.all([runtime.listContainers(node), runtime.listSandboxes(node)]);
      const plan = planAdoption(
        [pod],
        containers.filter((c) => c.pod.uid === uid),
        sandboxes.filter((s) => s.pod.uid === uid),
      );
      await removeAll(runtime, logger, plan.removeContainers, plan.removeSandboxes);
      this.holdIPs(plan.adopt, undefined);
      await this.recallProbeStates([pod], plan.adopt);
      if (!this.stopped && !this.byUid.has(uid)) this.startPod(key, this.opts.informer.getByKey(key) ?? pod, plan.adopt.get(uid));
    } catch (err) {
      logger.warn({ key, err: String(err) }, "restarting a pod machine failed; trying again");
      setTimeout(() => void this.restartPod(key, uid), 5_000).unref();
    }
  }

  /**
   * Adopted running containers with readiness or startup probes take their last reported started
   * and ready (when the report is about that very container). A report that cannot be read only
   * means they start over: not ready until their probes pass.
   */
  private async recallProbeStates(pods: Pod[], adopt: Map<string, AdoptedPod>): Promise<void> {
    const probed = pods.filter((p) => {
      const a = adopt.get(p.metadata!.uid);
      return a && !a.finished && (p.spec?.containers ?? []).some((c) => c.readinessProbe || c.startupProbe);
    });
    await Promise.all(
      probed.map(async (pod) => {
        const { namespace, name, uid } = pod.metadata!;
        const status = await this.opts.reporter.lastReported(namespace, name, uid).catch((err: unknown) => {
          this.ctx.logger.debug({ pod: `${namespace}/${name}`, err: String(err) }, "reading the last report failed; probes start over");
          return undefined;
        });
        const adopted = adopt.get(uid)!;
        for (const cs of status?.containerStatuses ?? []) {
          const c = adopted.containers[cs.name];
          if (c && cs.state?.running && cs.containerID === `${this.opts.runtimeName}://${c.current.id}`) c.reported = { started: cs.started ?? false, ready: cs.ready };
        }
      }),
    );
  }

  /** Adopted pods without a sandbox keep their IPs; `listed` (when given) are the IPs of every listed container. */
  private holdIPs(adopt: Map<string, AdoptedPod>, listed: RuntimeContainerStatus[] | undefined): void {
    const ips = this.ctx.podIPs;
    if (!ips) return;
    if (listed) ips.observe(listed.flatMap((c) => (c.podIP ? [c.podIP] : [])));
    for (const [uid, a] of adopt) if (!a.sandbox.id && a.sandbox.ip) ips.hold(uid, a.sandbox.ip);
  }

  private finished(entry: Entry): void {
    this.forget(entry);
    // Its containers are removed (or it completed and keeps none running): the IP is free again.
    this.ctx.podIPs?.release(entry.uid);
    if (this.stopped) return;
    const meta = entry.pod.metadata!;
    this.opts.reporter
      .delete(meta.namespace, meta.name, meta.uid)
      .catch((err) => this.ctx.logger.warn({ pod: `${meta.namespace}/${meta.name}`, err: String(err) }, "deleting the status report failed"));
    // The key may hold a newer pod of the same name whose first event arrived while this one was ending.
    const latest = this.opts.informer.getByKey(entry.key);
    if (latest && latest.metadata!.uid !== entry.uid && !this.byUid.has(latest.metadata!.uid)) this.startPod(entry.key, latest, undefined);
  }

  private forget(entry: Entry): void {
    if (this.byUid.get(entry.uid) === entry) this.byUid.delete(entry.uid);
    if (this.byKey.get(entry.key) === entry) this.byKey.delete(entry.key);
  }

  private buildStatus(entry: Entry, previous: PodStatus | undefined): PodStatus {
    const snapshot = entry.actor.getSnapshot();
    return computePodStatus({
      pod: entry.pod,
      containers: podContainerViews(snapshot),
      initContainers: podInitContainerViews(snapshot),
      podIP: snapshot.context.sandbox?.ip ?? previous?.podIP ?? "",
      hostIP: this.ctx.hostIP,
      startTime: snapshot.context.startTime,
      runtimeName: this.opts.runtimeName,
      previous,
      now: new Date(this.ctx.now()),
    });
  }
}
