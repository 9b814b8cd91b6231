// Keeps the proxy's route table current from the Ingress, Service and Endpoints informers. An
// event only marks the table stale; one rebuild (on the next turn of the event loop) folds a burst
// of events into one table. Services and Endpoints that no served Ingress names are ignored, so
// the pods of the rest of the cluster coming and going cost nothing here.
import type { Endpoints, Ingress, KubeObject, Service } from "@navarch/api";
import type { Logger } from "@navarch/controller";
import type { Informer, StoreEvent } from "@navarch/store";
import { buildRouteTable, isServed, type RouteTable } from "./table.js";

export interface RouteInformers {
  ingresses: Informer<Ingress>;
  services: Informer<Service>;
  endpoints: Informer<Endpoints>;
}

export interface RouteWatcherOptions {
  informers: RouteInformers;
  ingressClass: string;
  /** Receives every new table (the first one from start()). */
  onTable: (table: RouteTable) => void;
  logger: Logger;
}

export class RouteWatcher {
  private table: RouteTable | undefined;
  private pending = false;
  private stopped = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly opts: RouteWatcherOptions) {}

  /** Builds the first table from the (synced) caches and follows their changes. */
  start(): void {
    const { ingresses, services, endpoints } = this.opts.informers;
    this.unsubscribe.push(
      ingresses.onEvent((e) => {
        if (isServed(e.object, this.opts.ingressClass) || isServed(e.old, this.opts.ingressClass)) this.schedule();
      }),
      services.onEvent((e) => this.onBackendEvent(e)),
      endpoints.onEvent((e) => this.onBackendEvent(e)),
    );
    this.rebuild();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private onBackendEvent(e: StoreEvent<KubeObject>): void {
    const m = e.object.metadata ?? e.old?.metadata;
    if (this.table?.services.has(`${m?.namespace ?? ""}/${m?.name ?? ""}`)) this.schedule();
  }

  private schedule(): void {
    if (this.pending || this.stopped) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      if (!this.stopped) this.rebuild();
    });
  }

  private rebuild(): void {
    const { ingresses, services, endpoints } = this.opts.informers;
    const table = buildRouteTable({
      ingresses: ingresses.list(),
      service: (ns, name) => services.get(ns, name),
      endpoints: (ns, name) => endpoints.get(ns, name),
      ingressClass: this.opts.ingressClass,
    });
    this.table = table;
    this.opts.logger.debug({ ingresses: table.ingresses.length, hosts: table.exact.size + table.wildcard.size }, "route table rebuilt");
    this.opts.onTable(table);
  }
}
