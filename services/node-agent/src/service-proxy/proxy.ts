// The node agent's service proxy (Navarch's kube-proxy): follows every Service and Endpoints (all
// namespaces; both are small) and keeps one nftables table in the host's network namespace equal
// to what they say, through the runtime's HostNetfilter. See reconcile.ts for what the table holds,
// machine.ts for when it is written, and docs/adr/0007-service-data-path.md for why it is done so.
//
// Before its first table, and again on every forced sync, it makes sure the whole service range
// stays on this host (HostNetfilter.guardServiceRange, docs/adr/0016): a packet for a ClusterIP
// that no rule catches is refused here, never routed out. Its health (written, or why not) goes
// to `onHealth`: the node's ServiceProxyReady condition, and the gate pods wait at.
//
// A clean stop removes the table and the runtime's helper; pods keep running without their
// services until an agent starts again. The range's guard stays (other agents may rely on it).
import type { Endpoints, Service } from "@navarch/api";
import type { Logger } from "@navarch/config";
import { cidrOverlaps, parseCidr, type ContainerRuntime, type HostNetfilter, type PodBridge } from "@navarch/runtime";
import type { Informer } from "@navarch/store";
import type { PartHealth } from "../node/network-readiness.js";
import { createActor, type Actor } from "xstate";
import { proxyMachine } from "./machine.js";
import { reconcile, removalScript, type ProxyPlan } from "./reconcile.js";

export interface ServiceProxyOptions {
  node: string;
  /** The node's configured address: NodePorts listen there (and on 127.0.0.1). */
  nodeAddress: string;
  services: Informer<Service>;
  endpoints: Informer<Endpoints>;
  netfilter: HostNetfilter;
  logger: Logger;
  /** Changes within this window are one sync. Default 50 ms. */
  coalesceMs?: number;
  /** An idle proxy re-applies its table this often. Default 30 s. */
  resyncMs?: number;
  /** The service cluster IP range, kept on this host before any table is written. */
  serviceRange?: string | undefined;
  /** Called after every sync attempt with the proxy's health. */
  onHealth?: (health: PartHealth) => void;
}

/**
 * Fails the agent's start when the service range overlaps the pod network: the range's guard
 * would refuse the pods' own traffic. Bad input changes nothing: checked before anything is written.
 */
export async function checkServiceRange(range: string, runtime: ContainerRuntime): Promise<void> {
  const network = await runtime.podNetwork?.().catch(() => undefined);
  if (!network?.subnet || !cidrOverlaps(parseCidr(range), parseCidr(network.subnet))) return;
  throw new Error(`NAVARCH_SERVICE_CLUSTER_IP_RANGE: ${range} overlaps the pod network ${network.name}'s subnet ${network.subnet}; the two must be disjoint`);
}

/** The health a failed sync means, from its error. */
export function failureHealth(err: unknown): PartHealth {
  const message = err instanceof Error ? err.message : String(err);
  if (/nft not found|executable file not found|no such file or directory.*nft/i.test(message)) return { ready: false, reason: "NftNotFound", message };
  if (/image .* is not present/i.test(message)) return { ready: false, reason: "HelperImageMissing", message };
  if (/keeping the service range/i.test(message)) return { ready: false, reason: "ServiceRangeNotGuarded", message };
  return { ready: false, reason: "RulesNotWritten", message };
}

export class ServiceProxy {
  /** How many times a table was written (tests and benchmarks wait on it). */
  applied = 0;
  /** The plan written last. */
  lastPlan: ProxyPlan | undefined;
  private bridge: PodBridge | undefined;
  private lastScript = "";
  private lastSkipped = "";
  private actor: Actor<typeof proxyMachine> | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly o: ServiceProxyOptions) {}

  start(): void {
    const changed = () => this.actor?.send({ type: "CHANGED" });
    this.unsubscribe.push(this.o.services.onEvent(changed), this.o.endpoints.onEvent(changed));
    this.actor = createActor(proxyMachine, {
      input: {
        coalesceMs: this.o.coalesceMs ?? 50,
        resyncMs: this.o.resyncMs ?? 30_000,
        backoff: { baseMs: 500, maxMs: 10_000 },
        sync: (force) => (this.inFlight = this.sync(force)),
        onError: (err, failures) => {
          this.o.onHealth?.(failureHealth(err));
          this.o.logger[failures === 1 || failures % 10 === 0 ? "warn" : "debug"]({ err: String(err), failures }, "writing the service proxy's nftables table failed; retrying");
        },
      },
    });
    // No error escapes the machine (sync errors are its events), but a crash must not end the agent.
    this.actor.subscribe({ error: (err) => this.o.logger.error({ err: String(err) }, "service proxy loop failed") });
    this.actor.start();
  }

  /** Resolves once a table computed after this call has been written (or is known unchanged). */
  synced(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.add(resolve);
      this.actor?.send({ type: "CHANGED" });
    });
  }

  /** Stops following changes, then removes the table and the helper. */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.actor?.stop();
    await this.inFlight.catch(() => undefined);
    for (const w of this.waiters) w();
    this.waiters.clear();
    try {
      await this.o.netfilter.nft(removalScript(this.o.node));
    } catch (err) {
      this.o.logger.warn({ err: String(err) }, "could not remove the service proxy's nftables table");
    }
    await this.o.netfilter.close().catch((err: unknown) => this.o.logger.warn({ err: String(err) }, "could not remove the netfilter helper"));
  }

  private async sync(force: boolean): Promise<void> {
    const waiting = [...this.waiters];
    this.waiters.clear();
    try {
      // The guard first: before the pod network exists and before any rule (it needs neither).
      if (force && this.o.serviceRange) await this.o.netfilter.guardServiceRange(this.o.serviceRange);
      this.bridge ??= await this.o.netfilter.podBridge();
      const plan = reconcile(this.o.services.list(), (ns, name) => this.o.endpoints.get(ns, name), {
        name: this.o.node,
        podBridge: this.bridge.device,
        address: this.o.nodeAddress,
      });
      const skipped = plan.skipped.join("\n");
      if (skipped && skipped !== this.lastSkipped) this.o.logger.warn({ skipped: plan.skipped }, "service ports left out of the service proxy's table");
      this.lastSkipped = skipped;
      if (force || plan.script !== this.lastScript) {
        // route_localnet and hairpin first: a NodePort rule is useless without them.
        await this.o.netfilter.configureBridge(this.bridge.device);
        await this.o.netfilter.nft(plan.script);
        const before = this.lastPlan;
        this.lastScript = plan.script;
        this.lastPlan = plan;
        this.applied++;
        const ports = plan.rules.length;
        const served = plan.rules.filter((r) => r.backends.length > 0).length;
        const level = !before || before.rules.length !== ports ? "info" : "debug";
        this.o.logger[level]({ table: plan.table, bridge: this.bridge.device, servicePorts: ports, withEndpoints: served, forced: force }, "service proxy table written");
      }
      // A message that does not change with the services: a Node is written only when it changes.
      const guarded = this.o.serviceRange ? `; traffic to ${this.o.serviceRange} that no rule matches is refused on this host` : "";
      this.o.onHealth?.({ ready: true, reason: "RulesWritten", message: `nftables table ${plan.table} is written${guarded}` });
      for (const w of waiting) w();
    } catch (err) {
      // The network may have been made again (a new bridge name): look it up on the retry.
      this.bridge = undefined;
      for (const w of waiting) this.waiters.add(w);
      throw err;
    }
  }
}
