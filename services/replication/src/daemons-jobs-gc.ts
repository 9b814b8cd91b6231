// The DaemonSet and Job controllers and the garbage collector of the replication service: the
// informers they read (asked for before the caches sync), the indexes over them (built once,
// kept current also while this process is a standby), the event recorders, and what builds the
// controllers each time this process starts leading.
import { KINDS, type DaemonSet, type Job, type Namespace, type Node, type Pod } from "@navarch/api";
import { ObjectEventRecorder, type Controller, type Logger, type SharedInformers } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import type { PodDefaults } from "./pod-ownership/controlled-pods.js";
import { daemonSetController } from "./daemonset/controller.js";
import { COMPONENT as DAEMONSET_COMPONENT } from "./daemonset/reasons.js";
import { garbageCollector } from "./garbage-collector/controller.js";
import { DependentIndex } from "./garbage-collector/dependents.js";
import { collectorInformers } from "./garbage-collector/watches.js";
import { jobController } from "./job/controller.js";
import { COMPONENT as JOB_COMPONENT } from "./job/reasons.js";
import { OwnerIndex } from "./pod-ownership/owner-index.js";

export interface DaemonsJobsGcOptions {
  daemonSetWorkers: number;
  jobWorkers: number;
  jobPodFailureBackoffSeconds: number;
  jobPodFailureBackoffMaxSeconds: number;
  garbageCollectorWorkers: number;
  podDefaults: PodDefaults;
}

export async function prepareDaemonsJobsGc(shared: SharedInformers, logger: Logger, o: DaemonsJobsGcOptions): Promise<() => Controller[]> {
  const [namespaces, nodes, pods, daemonSets, jobs, events, byKind] = await Promise.all([
    shared.informer(KINDS.Namespace) as Promise<Informer<Namespace>>,
    shared.informer(KINDS.Node) as Promise<Informer<Node>>,
    shared.informer(KINDS.Pod) as Promise<Informer<Pod>>,
    shared.informer(KINDS.DaemonSet) as Promise<Informer<DaemonSet>>,
    shared.informer(KINDS.Job) as Promise<Informer<Job>>,
    shared.store(KINDS.Event),
    collectorInformers(shared),
  ]);
  const podIndex = new OwnerIndex(pods);
  const dependents = new DependentIndex([...byKind.values()]);
  const daemonSetEvents = new ObjectEventRecorder({ store: events, component: DAEMONSET_COMPONENT, logger });
  const jobEvents = new ObjectEventRecorder({ store: events, component: JOB_COMPONENT, logger });
  const backoff = { baseMs: o.jobPodFailureBackoffSeconds * 1000, maxMs: o.jobPodFailureBackoffMaxSeconds * 1000 };
  return () => [
    daemonSetController({ informers: { daemonSets, pods, nodes, namespaces }, podIndex, events: daemonSetEvents, workers: o.daemonSetWorkers, podDefaults: o.podDefaults, logger }),
    jobController({ informers: { jobs, pods, namespaces }, podIndex, events: jobEvents, workers: o.jobWorkers, backoff, podDefaults: o.podDefaults, logger }),
    garbageCollector({ byKind, index: dependents, workers: o.garbageCollectorWorkers, logger }),
  ];
}
