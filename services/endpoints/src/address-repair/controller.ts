// The address repair controller: keeps navarch-ip-allocations equal to the addresses the stored
// Services use (see reconcile.ts). Two kinds of keys share its queue:
//
//   claim/<claim key>       one claimed address: keep it, release it, or look again after the grace
//   service/<ns>.<name>     one Service: claim the addresses it uses that nobody claimed
//
// A deleted Service queues its addresses' claims at once (that is how a Service deleted by the
// namespace controller frees its address); a resync every `repairPeriodMs` queues every claim
// and every Service, which catches whatever a crash left behind.
import type { Event, Service } from "@navarch/api";
import { Controller, ObjectEventRecorder, silentLogger, watch, type Clock, type Logger } from "@navarch/controller";
import { claimKeysOf, parseClaimKey, type AddressClaims, type Informer, type ResourceStore, type StoreEvent } from "@navarch/store";
import { reconcileClaim, reconcileService } from "./reconcile.js";
import { AddressAlreadyAllocated, EVENT_COMPONENT } from "./reasons.js";

export interface AddressRepairOptions {
  services: Informer<Service>;
  claims: AddressClaims;
  events?: ResourceStore<Event>;
  /** A claim younger than this is never released (its Service may be being written). */
  graceMs: number;
  repairPeriodMs: number;
  logger?: Logger;
  now?: () => Date;
  clock?: Clock;
}

const CLAIM = "claim/";
const SERVICE = "service/";

export function addressRepairController(opts: AddressRepairOptions): Controller {
  const { services, claims, graceMs } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const recorder = opts.events ? new ObjectEventRecorder({ store: opts.events, component: EVENT_COMPONENT, logger }) : undefined;

  const controller: Controller = new Controller({
    name: "address-repair",
    informers: [services],
    watches: [
      watch(services, (e: StoreEvent<Service>) => {
        if (e.type === "DELETED") return claimKeysOf(e.object).map((k) => CLAIM + k);
        // Addresses the old version used and this one does not: the gateway released them; check.
        const dropped = e.old ? claimKeysOf(e.old).filter((k) => !claimKeysOf(e.object).includes(k)) : [];
        return [SERVICE + e.key, ...dropped.map((k) => CLAIM + k)];
      }),
    ],
    keys: () => [...[...claims.all()].filter((c) => parseClaimKey(c.key)).map((c) => CLAIM + c.key), ...services.keys().map((k) => SERVICE + k)],
    resyncPeriodMs: opts.repairPeriodMs,
    workers: 1,
    logger,
    clock: opts.clock,
    sync: async (key) => {
      if (key.startsWith(CLAIM)) await syncClaim(key.slice(CLAIM.length));
      else if (key.startsWith(SERVICE)) await syncService(key.slice(SERVICE.length));
    },
  });

  async function syncClaim(claimKey: string): Promise<void> {
    const claim = claims.get(claimKey);
    // The bucket also holds claims that are not a Service's (node pod CIDRs, ADR 10): not ours.
    if (!claim || !parseClaimKey(claimKey)) return;
    const owner = claim.owner.name ? services.get(claim.owner.namespace, claim.owner.name) : undefined;
    const plan = reconcileClaim(claim, owner, now(), graceMs);
    if (plan.type === "recheck") controller.queue.addAfter(CLAIM + claimKey, plan.afterMs);
    if (plan.type !== "release") return;
    if (await claims.releaseAt(claimKey, plan.revision)) {
      const { kind, address } = parseClaimKey(claimKey) ?? { kind: "address", address: claimKey };
      logger.info({ kind, address, service: `${claim.owner.namespace}/${claim.owner.name}`, why: plan.why }, "released an address claim");
    }
  }

  async function syncService(serviceKey: string): Promise<void> {
    const service = services.getByKey(serviceKey);
    if (!service) return;
    const m = service.metadata!;
    const plan = reconcileService(service, (k) => claims.get(k));
    for (const k of plan.claim) {
      if (await claims.claim(k, { namespace: m.namespace, name: m.name, uid: m.uid }, now())) {
        logger.info({ claim: k, service: serviceKey }, "claimed an address a Service used without a claim");
      } else {
        // Someone claimed it since our cache last looked: look again once the cache has it.
        controller.queue.addAfter(SERVICE + serviceKey, 1_000);
      }
    }
    for (const claim of plan.contested) {
      const other = services.get(claim.owner.namespace, claim.owner.name);
      if (other?.metadata?.uid === claim.owner.uid && claimKeysOf(other).includes(claim.key)) {
        const { kind, address } = parseClaimKey(claim.key)!;
        const what = kind === "clusterip" ? "Cluster IP" : "NodePort";
        const message = `${what} ${address} was assigned to multiple services; please recreate service`;
        logger.warn({ service: serviceKey, other: `${claim.owner.namespace}/${claim.owner.name}`, address }, message);
        recorder?.record({ kind: "Service", apiVersion: "v1", namespace: m.namespace, name: m.name, uid: m.uid }, "Warning", AddressAlreadyAllocated[kind], message);
      } else {
        // The claim's Service is gone: once its claim is released (after the grace), claim it for this one.
        controller.queue.add(CLAIM + claim.key);
        controller.queue.addAfter(SERVICE + serviceKey, graceMs);
      }
    }
  }

  return controller;
}
