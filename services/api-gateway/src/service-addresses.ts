// Stable Service addresses, allocated by the gateway as kube-apiserver does: on create a Service
// of type ClusterIP, NodePort or LoadBalancer gets spec.clusterIP (and clusterIPs) from the
// cluster IP range, and NodePort/LoadBalancer ports get spec.ports[].nodePort from the node port
// range. Every address is claimed with a create-only key in navarch-ip-allocations (see
// @navarch/store address-claims) BEFORE the Service is written, so no two services ever hold one;
// the claim is undone when the write fails and released when the Service is deleted or gives the
// address up on update. A crash between claim and write leaves an orphan claim, which the
// endpoints service's repair loop releases.
//
// Headless services (clusterIP: None) and ExternalName services get no cluster IP.
import { InvalidError, PreconditionError, type FieldError, type KubeObject, type Service, type ServicePort } from "@navarch/api";
import { claimKey, claimKeysOf, type AddressClaims, type ClaimOwner } from "@navarch/store";
import { invalid, duplicate } from "./admission/errors.js";
import {
  candidatePositions,
  clusterIPAt,
  clusterIPInRange,
  nodePortAt,
  nodePortInRange,
  type ClusterIPRange,
  type NodePortRange,
} from "./service-address-ranges.js";

export interface Allocation {
  /** Keys claimed by this call (not the ones the Service held before an update). */
  claimed: string[];
  /** Releases what this call claimed: the write it was for failed. */
  rollback(): Promise<void>;
  /** After the write succeeded: releases what the old Service held and the new one does not. */
  commit(): Promise<void>;
}

export interface ServiceAddressesOptions {
  claims: AddressClaims;
  clusterIPs: ClusterIPRange;
  nodePorts: NodePortRange;
  random?: () => number;
  now?: () => Date;
}

export function needsClusterIP(svc: Service): boolean {
  return svc.spec?.type !== "ExternalName" && svc.spec?.clusterIP !== "None";
}

export function needsNodePorts(svc: Service): boolean {
  return svc.spec?.type === "NodePort" || svc.spec?.type === "LoadBalancer";
}

/**
 * On update, before admission: what a client leaves out that the server allocated stays as it
 * was (a `kubectl apply` or replace of the original manifest has no clusterIP or nodePorts), and
 * what only the old type needed goes (Kubernetes' patchAllocatedValues and
 * dropTypeDependentFields). Changes `svc` in place.
 */
export function keepAllocated(svc: Service, old: Service): void {
  const spec = svc.spec;
  const before = old.spec;
  if (!spec || !before) return;
  if (spec.type === "ExternalName") {
    // Leaving for ExternalName gives the address up, unless the client really asked to keep it.
    if (spec.clusterIP === "" || spec.clusterIP === before.clusterIP) {
      spec.clusterIP = "";
      spec.clusterIPs = [];
    }
  } else if (spec.clusterIP === "" && before.clusterIP !== "") {
    spec.clusterIP = before.clusterIP;
    if (spec.clusterIPs.length === 0) spec.clusterIPs = [...before.clusterIPs];
  }
  if (spec.clusterIP !== "" && spec.clusterIPs.length === 0) spec.clusterIPs = [spec.clusterIP];

  const oldByName = new Map(before.ports.map((p) => [p.name, p.nodePort ?? 0]));
  if (needsNodePorts(old) && needsNodePorts(svc)) {
    // Ports keep their node port by name, unless the new spec gives that number to another port.
    const usedNow = new Set(spec.ports.map((p) => p.nodePort ?? 0).filter((n) => n !== 0));
    for (const port of spec.ports) {
      const previous = oldByName.get(port.name) ?? 0;
      if (!port.nodePort && previous && !usedNow.has(previous)) port.nodePort = previous;
    }
  } else if (needsNodePorts(old) && !needsNodePorts(svc)) {
    for (const port of spec.ports) if (port.nodePort && port.nodePort === oldByName.get(port.name)) port.nodePort = undefined;
  }
}

export class ServiceAddresses {
  private readonly claims: AddressClaims;
  private readonly random: () => number;
  private readonly now: () => Date;
  /** Keys this process is claiming right now: not candidates for another request meanwhile. */
  private readonly inFlight = new Set<string>();

  constructor(readonly opts: ServiceAddressesOptions) {
    this.claims = opts.claims;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? (() => new Date());
  }

  // The gateway's hooks (objects.ts): every kind passes through, only Services have addresses.

  /** Before a create is written: fills and claims the Service's addresses. */
  beforeCreate(obj: KubeObject): Promise<Allocation | undefined> {
    return isService(obj) ? this.allocate(obj) : Promise.resolve(undefined);
  }

  /** On update, before admission: see keepAllocated. */
  keepAllocated(obj: KubeObject, old: KubeObject): void {
    if (isService(obj) && isService(old)) keepAllocated(obj, old);
  }

  /** Before an update is written (metadata.uid set): claims what the new version adds. */
  beforeUpdate(obj: KubeObject, old: KubeObject): Promise<Allocation | undefined> {
    return isService(obj) && isService(old) ? this.reallocate(obj, old) : Promise.resolve(undefined);
  }

  /** After a Service was deleted from the store. */
  async afterDelete(obj: KubeObject): Promise<void> {
    if (isService(obj)) await this.release(obj);
  }

  /** Fills and claims every address a new Service needs. Throws InvalidError for a taken or out-of-range choice. */
  allocate(svc: Service): Promise<Allocation> {
    return this.reallocate(svc, undefined);
  }

  /**
   * Fills and claims what the Service needs and `old` (the stored version, on update) did not
   * hold. Call keepAllocated first on update.
   */
  async reallocate(svc: Service, old: Service | undefined): Promise<Allocation> {
    const spec = svc.spec!;
    const meta = svc.metadata!;
    const owner: ClaimOwner = { namespace: meta.namespace, name: meta.name, uid: meta.uid };
    const held = new Set(old ? claimKeysOf(old) : []);
    const claimed: string[] = [];
    const rollback = async () => {
      await Promise.all(claimed.map((key) => this.claims.release(key, owner.uid).catch(() => false)));
    };
    try {
      if (!needsClusterIP(svc)) {
        if (spec.clusterIP === "None") spec.clusterIPs = ["None"];
      } else if (spec.clusterIP !== "") {
        await this.claimChosen(claimKey("clusterip", spec.clusterIP), owner, held, claimed, () => {
          if (!clusterIPInRange(this.opts.clusterIPs, spec.clusterIP)) {
            return invalid("spec.clusterIP", spec.clusterIP, `provided IP is not in the valid range. The range of valid IPs is ${this.opts.clusterIPs.text}`);
          }
          return undefined;
        }, invalid("spec.clusterIP", spec.clusterIP, "provided IP is already allocated"));
        spec.clusterIPs = [spec.clusterIP];
      } else {
        spec.clusterIP = await this.claimFree("clusterip", owner, claimed);
        spec.clusterIPs = [spec.clusterIP];
      }
      if (needsNodePorts(svc)) await this.allocateNodePorts(spec.ports, owner, held, claimed);
    } catch (err) {
      await rollback();
      throw err;
    }
    const kept = new Set(claimKeysOf(svc));
    return {
      claimed,
      rollback,
      commit: async () => {
        const gone = [...held].filter((key) => !kept.has(key));
        // The write is done; a release that fails now is left to the repair loop.
        await Promise.all(gone.map((key) => this.claims.release(key, owner.uid).catch(() => false)));
      },
    };
  }

  /** Releases every address a deleted Service held (only its own claims, by uid). */
  async release(svc: Service): Promise<void> {
    const uid = svc.metadata?.uid ?? "";
    // The Service is gone already; a release that fails now is left to the repair loop.
    await Promise.all(claimKeysOf(svc).map((key) => this.claims.release(key, uid).catch(() => false)));
  }

  private async allocateNodePorts(ports: ServicePort[], owner: ClaimOwner, held: Set<string>, claimed: string[]): Promise<void> {
    // Chosen ports first, so an automatic pick never takes one that a later port of this Service asks for.
    const chosen = new Map<number, string>(); // node port -> protocol of the first port using it
    for (const [i, port] of ports.entries()) {
      if (!port.nodePort) continue;
      const path = `spec.ports[${i}].nodePort`;
      const first = chosen.get(port.nodePort);
      if (first !== undefined) {
        // The same node port for TCP and UDP of one Service is one claim; twice for one protocol is a mistake.
        if (first === port.protocol) throw new InvalidError([duplicate(path, port.nodePort)]);
        continue;
      }
      chosen.set(port.nodePort, port.protocol);
      const nodePort = port.nodePort;
      await this.claimChosen(claimKey("nodeport", nodePort), owner, held, claimed, () =>
        nodePortInRange(this.opts.nodePorts, nodePort)
          ? undefined
          : invalid(path, nodePort, `provided port is not in the valid range. The range of valid ports is ${this.opts.nodePorts.text}`),
      invalid(path, nodePort, "provided port is already allocated"));
    }
    for (const port of ports) {
      if (!port.nodePort) port.nodePort = Number(await this.claimFree("nodeport", owner, claimed));
    }
  }

  /** A client-chosen address: must be in range (unless the Service already held it) and free. */
  private async claimChosen(
    key: string,
    owner: ClaimOwner,
    held: Set<string>,
    claimed: string[],
    outOfRange: () => FieldError | undefined,
    taken: FieldError,
  ): Promise<void> {
    if (held.has(key) || claimed.includes(key)) return;
    const bad = outOfRange();
    if (bad) throw new InvalidError([bad]);
    if (this.inFlight.has(key)) throw new InvalidError([taken]);
    this.inFlight.add(key);
    try {
      if (!(await this.claims.claim(key, owner, this.now()))) throw new InvalidError([taken]);
      claimed.push(key);
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** The first free address in candidate order, claimed. */
  private async claimFree(kind: "clusterip" | "nodeport", owner: ClaimOwner, claimed: string[]): Promise<string> {
    const range = kind === "clusterip" ? this.opts.clusterIPs : this.opts.nodePorts;
    // The cache may lag a claim won elsewhere (the create-only claim is what decides) and also a
    // release made elsewhere: before calling the range full, catch up with the bucket and look again.
    for (let pass = 0; pass < 2; pass++) {
      if (pass === 1) await this.claims.catchUp();
      for (const position of candidatePositions(range, this.random)) {
        const address = kind === "clusterip" ? clusterIPAt(this.opts.clusterIPs, position) : String(nodePortAt(this.opts.nodePorts, position));
        const key = claimKey(kind, address);
        if (this.claims.has(key) || this.inFlight.has(key) || claimed.includes(key)) continue;
        this.inFlight.add(key);
        try {
          if (await this.claims.claim(key, owner, this.now())) {
            claimed.push(key);
            return address;
          }
        } finally {
          this.inFlight.delete(key);
        }
      }
    }
    const what = kind === "clusterip" ? "cluster IP range" : "node port range";
    throw new PreconditionError(`failed to allocate a ${kind === "clusterip" ? "service IP" : "node port"}: the ${what} ${range.text} is full`);
  }
}

function isService(obj: KubeObject): obj is Service {
  return obj.kind === "Service";
}

/** Runs the write of an object; undoes the claims when it fails, and commits them when it succeeds. */
export async function writeWithAddresses<R>(allocation: Allocation | undefined, write: () => Promise<R>): Promise<R> {
  if (!allocation) return write();
  let result: R;
  try {
    result = await write();
  } catch (err) {
    await allocation.rollback();
    throw err;
  }
  await allocation.commit();
  return result;
}
