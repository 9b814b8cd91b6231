// Events about pods (Pulling, Pulled, Created, Started, Killing, BackOff, Failed ...) as Event
// objects, the way `kubectl describe pod` shows them: the agent's face of the one event recorder
// (@navarch/controller's ObjectEventRecorder, which batches, folds repeats and sheds load), with
// the agent's source (component "node-agent", host and reporting instance the node).
import { ObjectEventRecorder, type Clock, type InvolvedObject, type Logger } from "@navarch/controller";
import type { Event } from "@navarch/api";
import type { ResourceStore } from "@navarch/store";

export const EVENT_COMPONENT = "node-agent";
export const REPORTING_COMPONENT = "navarch-node-agent";

export interface InvolvedPod {
  namespace: string;
  name: string;
  uid: string;
}

export interface RecorderOptions {
  store: ResourceStore<Event>;
  node: string;
  logger: Logger;
  maxQueue?: number;
  clock?: Clock;
}

export class EventRecorder {
  private readonly events: ObjectEventRecorder;

  constructor(opts: RecorderOptions) {
    this.events = new ObjectEventRecorder({
      store: opts.store,
      component: EVENT_COMPONENT,
      reportingComponent: REPORTING_COMPONENT,
      instance: opts.node,
      logger: opts.logger,
      ...(opts.maxQueue !== undefined && { maxQueue: opts.maxQueue }),
      ...(opts.clock && { clock: opts.clock }),
    });
  }

  /** An event about a pod; fieldPath "spec.containers{app}" for a container's, "" for the pod's. */
  record(object: InvolvedPod, fieldPath: string, type: "Normal" | "Warning", reason: string, message: string): void {
    const { namespace, name, uid } = object;
    this.events.record({ kind: "Pod", apiVersion: "v1", namespace, name, uid, fieldPath }, type, reason, message);
  }

  /** An event about any other object (the agent's Node: no namespace, kept in "default" like Kubernetes). */
  recordObject(object: InvolvedObject, type: "Normal" | "Warning", reason: string, message: string): void {
    this.events.record(object, type, reason, message);
  }

  /** Writes what is waiting (within timeoutMs) and stops accepting events. */
  stop(timeoutMs?: number): Promise<void> {
    return this.events.stop(timeoutMs);
  }

  /** Resolves once every recorded event is written (tests). */
  idle(): Promise<void> {
    return this.events.idle();
  }

  /** Occurrences stored. */
  get written(): number {
    return this.events.written;
  }

  /** Occurrences not stored for load: new events refused when full, and repeats shed. */
  get dropped(): number {
    return this.events.dropped + this.events.shed;
  }

  /** Occurrences whose write failed (after retries). */
  get failed(): number {
    return this.events.failed;
  }
}
