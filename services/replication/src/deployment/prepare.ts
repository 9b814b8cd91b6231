// The ReplicaSet and Deployment controllers of the replication service: the informers they read
// (asked for before the caches sync), the owner indexes over them, the event recorders, and what
// builds the controllers each time this process starts leading.
import { KINDS, type Deployment, type Namespace, type Pod, type ReplicaSet } from "@navarch/api";
import { ObjectEventRecorder, type Controller, type Logger, type SharedInformers } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import type { PodDefaults } from "../pod-ownership/controlled-pods.js";
import { replicaSetController } from "../replicaset/controller.js";
import { OwnerIndex } from "../pod-ownership/owner-index.js";
import { COMPONENT as RS_COMPONENT } from "../replicaset/reasons.js";
import { deploymentController } from "./controller.js";
import { COMPONENT as DEPLOYMENT_COMPONENT } from "./reasons.js";

export interface RolloutOptions {
  replicaSetWorkers: number;
  deploymentWorkers: number;
  podDefaults: PodDefaults;
}

export async function prepareRollouts(shared: SharedInformers, logger: Logger, o: RolloutOptions): Promise<() => Controller[]> {
  const [namespaces, pods, replicaSets, deployments, events] = await Promise.all([
    shared.informer(KINDS.Namespace) as Promise<Informer<Namespace>>,
    shared.informer(KINDS.Pod) as Promise<Informer<Pod>>,
    shared.informer(KINDS.ReplicaSet) as Promise<Informer<ReplicaSet>>,
    shared.informer(KINDS.Deployment) as Promise<Informer<Deployment>>,
    shared.store(KINDS.Event),
  ]);
  // Built once and kept current from here on, also while this process is a standby.
  const podIndex = new OwnerIndex(pods);
  const replicaSetIndex = new OwnerIndex(replicaSets);
  const rsEvents = new ObjectEventRecorder({ store: events, component: RS_COMPONENT, logger });
  const deploymentEvents = new ObjectEventRecorder({ store: events, component: DEPLOYMENT_COMPONENT, logger });
  return () => [
    replicaSetController({
      informers: { replicaSets, pods, namespaces },
      podIndex,
      events: rsEvents,
      workers: o.replicaSetWorkers,
      podDefaults: o.podDefaults,
      logger,
    }),
    deploymentController({
      informers: { deployments, replicaSets, pods, namespaces },
      replicaSetIndex,
      podIndex,
      events: deploymentEvents,
      workers: o.deploymentWorkers,
      logger,
    }),
  ];
}
