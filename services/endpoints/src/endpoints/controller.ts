// The endpoints controller: the runtime's machine (syncing -> idle <-> reconciling -> backoff)
// does the work; this file wires the watches, the pure plan and the applier into sync(key),
// where the key is a Service's (and its Endpoints') <namespace>.<name>.
import { ConflictError, type Event, type Service } from "@navarch/api";
import { Controller, ObjectEventRecorder, silentLogger, type Clock, type Logger } from "@navarch/controller";
import type { ResourceStore } from "@navarch/store";
import { apply } from "./apply.js";
import { EVENT_COMPONENT, FailedToCreateEndpoint, FailedToUpdateEndpoint } from "./reasons.js";
import { reconcile } from "./reconcile.js";
import { endpointsWatches, podsOf, type EndpointsInformers } from "./watches.js";

export interface EndpointsControllerOptions {
  informers: EndpointsInformers;
  /** Where Warning events about failed writes go; none when absent. */
  events?: ResourceStore<Event>;
  workers?: number;
  resyncPeriodMs?: number;
  logger?: Logger;
  now?: () => Date;
  clock?: Clock;
}

export function endpointsController(opts: EndpointsControllerOptions): Controller {
  const { informers } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const recorder = opts.events ? new ObjectEventRecorder({ store: opts.events, component: EVENT_COMPONENT, logger }) : undefined;
  // Services whose deletion we saw: their Endpoints go even when a user wrote them (Kubernetes
  // deletes a Service's Endpoints with it). Ours are recognised without this, after a restart too.
  const deleted = new Set<string>();

  return new Controller({
    name: "endpoints",
    watches: endpointsWatches(informers, (key) => deleted.add(key)),
    // Services, and Endpoints whose Service may have gone while we were not running.
    keys: () => new Set([...informers.services.keys(), ...informers.endpoints.keys()]),
    workers: opts.workers ?? 2,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    logger,
    clock: opts.clock,
    sync: async (key) => {
      const service = informers.services.getByKey(key);
      if (service) deleted.delete(key);
      const current = informers.endpoints.getByKey(key);
      const { namespace } = informers.services.store.splitKey(key);
      const serviceDeleted = !service && deleted.has(key);
      const plan = reconcile(service, { current, pods: service ? podsOf(informers, namespace) : [], serviceDeleted });
      try {
        const done = await apply(plan, { endpoints: informers.endpoints, now });
        if (done !== "none") logger.debug({ service: key, action: done }, "endpoints written");
        if (!service) deleted.delete(key);
      } catch (err) {
        if (service && !(err instanceof ConflictError)) recordFailure(recorder, service, plan.type, err);
        throw err;
      }
    },
  });
}

function recordFailure(recorder: ObjectEventRecorder | undefined, service: Service, action: string, err: unknown): void {
  const m = service.metadata!;
  const reason = action === "create" ? FailedToCreateEndpoint : FailedToUpdateEndpoint;
  recorder?.record(
    { kind: "Service", apiVersion: "v1", namespace: m.namespace, name: m.name, uid: m.uid },
    "Warning",
    reason,
    `Failed to ${action} endpoint for service ${m.namespace}/${m.name}: ${err instanceof Error ? err.message : String(err)}`,
  );
}
