// Writes the projector's plan with compare-and-swap on the projection's own revision; the
// projection bucket has one writer (the leader's projector), so a conflict means our cache was
// behind: the runtime requeues the key and the next pass starts from fresh state.
import type { Pod } from "@navarch/api";
import { openNodePods, type ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Step } from "./reconcile.js";

export class ProjectionWriter {
  private readonly stores = new Map<string, Promise<ResourceStore<Pod>>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly replicas = 1,
  ) {}

  private store(node: string): Promise<ResourceStore<Pod>> {
    let s = this.stores.get(node);
    if (!s) {
      s = openNodePods(this.nc, node, this.replicas);
      this.stores.set(node, s);
    }
    return s;
  }

  async apply(steps: Step[]): Promise<void> {
    for (const step of steps) {
      const store = await this.store(step.node);
      if (step.type === "remove") {
        await store.delete(step.namespace, step.name, Number(step.expectedRevision));
      } else if (step.expectedRevision) {
        await store.update({ ...step.pod, metadata: { ...step.pod.metadata!, resourceVersion: step.expectedRevision } });
      } else {
        await store.create(step.pod);
      }
    }
  }
}
