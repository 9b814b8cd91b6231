// The ingress status controller: for each Ingress (key <namespace>.<name>), the pure plan of
// reconcile.ts written by apply.ts. It runs only in the elected instance (see ../run.ts), so two
// instances never take turns writing their own address.
import type { Ingress } from "@navarch/api";
import { Controller, watch, type Logger } from "@navarch/controller";
import type { Informer } from "@navarch/store";
import { apply } from "./apply.js";
import { reconcile } from "./reconcile.js";

export interface StatusControllerOptions {
  ingresses: Informer<Ingress>;
  ingressClass: string;
  /** What status.loadBalancer.ingress names: an IP, or a host name. */
  address: string;
  logger: Logger;
}

export function statusController(opts: StatusControllerOptions): Controller {
  const { ingresses, logger } = opts;
  return new Controller({
    name: "ingress-status",
    watches: [watch(ingresses)],
    workers: 1,
    logger,
    sync: async (key) => {
      const plan = reconcile(ingresses.getByKey(key), opts.ingressClass, opts.address);
      if (await apply(plan, ingresses)) logger.debug({ ingress: key, address: opts.address }, "ingress status written");
    },
  });
}
