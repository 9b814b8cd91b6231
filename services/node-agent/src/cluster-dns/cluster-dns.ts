// The node's cluster DNS (like Kubernetes' NodeLocal DNSCache, but authoritative itself): a DNS
// server in the node agent, answering from the Service and Endpoints informers, on the address
// where this node's pods reach the agent (address.ts), port 53. Pods of dnsPolicy ClusterFirst get
// that address as their only nameserver (pod-dns.ts). See docs/adr/0008-cluster-dns.md.
//
// Finding the address and binding run in the background and are retried: the e2e cluster attaches
// an agent's container to the pod network only after it started, and another process may hold
// the port for a while. A pod being created waits for the address (at most startWaitMs), not for a
// port that is taken; a pod created while the server does not listen keeps the runtime's default
// DNS (and a warning says why).
import type { Endpoints, Pod, Service } from "@navarch/api";
import type { LogSink as Logger } from "@navarch/config";
import type { ContainerRuntime } from "@navarch/runtime";
import type { Informer } from "@navarch/store";
import type { PartHealth } from "../node/network-readiness.js";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { firstHostAddress, isLocalAddress, localAddressIn } from "./address.js";
import { Forwarder, nameserversOf, parseUpstreams, type Upstream } from "./forward.js";
import { podDns, type PodDns } from "./pod-dns.js";
import { DnsServer } from "./server.js";

export interface ClusterDnsOptions {
  domain: string;
  /** NAVARCH_CLUSTER_DNS_ADDRESS: where to listen and what pods are given; "" finds it. */
  address: string;
  /** NAVARCH_CLUSTER_DNS_UPSTREAMS: "" the nameservers of /etc/resolv.conf, "none" refuse, or a list. */
  upstreams: string;
  runtime: ContainerRuntime;
  services: Informer<Service>;
  endpoints: Informer<Endpoints>;
  logger: Logger;
  /** Default 53: resolv.conf has no way to name another port. */
  port?: number;
  /** How long a pod being created waits for the address to be found. Default 5 s. */
  startWaitMs?: number;
  /** First retry of the address or the bind; doubles up to 4 s (new pods wait for it). Default 250 ms. */
  retryMs?: number;
  readResolvConf?: () => string;
  /** Called when it starts listening, and when an attempt to listen fails (with why). */
  onHealth?: (health: PartHealth) => void;
}

/**
 * Whether this node can serve cluster DNS at all: an explicit address, or a runtime with a real pod
 * network. Asked before anything is opened for it.
 */
export async function clusterDnsPossible(runtime: ContainerRuntime, explicitAddress: string, logger: Logger): Promise<boolean> {
  if (explicitAddress) return true;
  if (!runtime.podNetwork) return false;
  try {
    return (await runtime.podNetwork()) !== undefined;
  } catch (err) {
    logger.warn({ err: String(err) }, "cluster DNS: the pod network could not be inspected; trying again in the background");
    return true;
  }
}

export class ClusterDns {
  /** The server; listening once `address` is set. */
  readonly server: DnsServer;
  /** Where the server listens and pods are pointed at. */
  address: string | undefined;
  private stopped = false;
  private warned = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly settled: Promise<void>;
  private settle!: () => void;
  private readonly configuredUpstreams: Upstream[] | undefined;

  constructor(private readonly o: ClusterDnsOptions) {
    // Bad settings fail the agent's start, naming the variable.
    if (o.address && !isIP(o.address)) throw new Error(`NAVARCH_CLUSTER_DNS_ADDRESS: "${o.address}" is not an IP address`);
    const upstreams = o.upstreams.trim();
    if (upstreams && upstreams !== "none") {
      try {
        this.configuredUpstreams = parseUpstreams(upstreams.split(",").filter((u) => u.trim()));
      } catch (err) {
        throw new Error(`NAVARCH_CLUSTER_DNS_UPSTREAMS: ${(err as Error).message}`);
      }
    }
    this.settled = new Promise((resolve) => (this.settle = resolve));
    this.server = new DnsServer({
      domain: o.domain,
      logger: o.logger,
      view: {
        service: (namespace, name) => o.services.get(namespace, name),
        endpoints: (namespace, name) => o.endpoints.get(namespace, name),
        hasServices: (namespace) => o.services.list(namespace).length > 0,
      },
    });
  }

  start(): void {
    const deadline = setTimeout(() => this.settle(), this.o.startWaitMs ?? 5_000);
    void this.settled.then(() => clearTimeout(deadline));
    void this.attempt(this.o.retryMs ?? 250, 1);
  }

  /** The DNS settings of a pod's sandbox; undefined keeps the runtime's default. */
  async podDns(pod: Pod): Promise<PodDns | undefined> {
    await this.settled;
    if (!this.address) {
      this.o.logger[this.warned ? "debug" : "warn"]({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, "cluster DNS is not listening: the pod gets the runtime's default DNS");
      this.warned = true;
      return undefined;
    }
    return podDns(pod, { server: this.address, domain: this.o.domain });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.settle();
    await this.server.close();
  }

  private async attempt(delayMs: number, attempt: number): Promise<void> {
    let reason: string;
    try {
      const address = this.o.address || (await this.detect());
      if (address) {
        try {
          this.server.forwarder = this.makeForwarder(address);
          const port = await this.server.listen(address, this.o.port ?? 53);
          if (this.stopped) return void (await this.server.close());
          this.address = address;
          this.o.onHealth?.({ ready: true, reason: "Listening", message: `listening on ${address}:${port}` });
          this.o.logger.info(
            { address, port, domain: this.o.domain, upstreams: this.server.forwarder?.upstreams.map((u) => `${u.host}:${u.port}`) ?? "none (REFUSED)" },
            "cluster DNS listening",
          );
          return;
        } catch (err) {
          // Taken (another agent on this pod network) or not allowed (not root): said in the
          // node's ClusterDNSReady condition; keep trying.
          reason = String(err);
          if (attempt === 1) this.o.logger.warn({ address, err: reason }, "cluster DNS cannot listen; this node's new pods wait until it can (ClusterDNSReady False)");
        } finally {
          this.settle();
        }
      } else {
        reason = "this process has no address on the pod network (yet)";
      }
    } catch (err) {
      reason = String(err);
    }
    if (this.stopped) return;
    this.o.onHealth?.({ ready: false, reason: "NotListening", message: reason });
    // The e2e cluster attaches an agent to the pod network a moment after it started: quiet at first.
    const level = attempt === 5 || attempt % 10 === 0 ? "warn" : "debug";
    this.o.logger[level]({ reason, attempt, retryMs: delayMs }, "cluster DNS cannot listen yet; retrying");
    // At most a few seconds apart: this node's new pods wait for the DNS (node/network-readiness.ts).
    this.timer = setTimeout(() => void this.attempt(Math.min(delayMs * 2, 4_000), attempt + 1), delayMs);
  }

  private async detect(): Promise<string | undefined> {
    const network = await this.o.runtime.podNetwork?.();
    if (!network) return undefined;
    const attached = localAddressIn(network.subnet, networkInterfaces());
    if (attached) return attached;
    const gateway = network.gateway || firstHostAddress(network.subnet);
    return gateway && (await isLocalAddress(gateway)) ? gateway : undefined;
  }

  private makeForwarder(ownAddress: string): Forwarder | undefined {
    if (this.o.upstreams.trim() === "none") return undefined;
    let upstreams = this.configuredUpstreams;
    if (!upstreams) {
      try {
        upstreams = parseUpstreams(nameserversOf((this.o.readResolvConf ?? (() => readFileSync("/etc/resolv.conf", "utf8")))()));
      } catch (err) {
        this.o.logger.warn({ err: String(err) }, "cluster DNS: /etc/resolv.conf unreadable; names outside the cluster domain are refused");
        return undefined;
      }
    }
    // Never to ourselves: that would loop.
    upstreams = upstreams.filter((u) => !(u.host === ownAddress && u.port === (this.o.port ?? 53)));
    return upstreams.length ? new Forwarder(upstreams) : undefined;
  }
}
