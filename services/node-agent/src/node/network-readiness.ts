// What this node's pods need of the node before they get a network: a service proxy whose rules
// are written and a cluster DNS that listens (docs/adr/0016). Each part reports its health here;
// the agent turns it into Node conditions (conditions.ts) and a pod's sandbox waits at the gate
// until every part it needs is ready - a pod started earlier would keep the runtime's default
// resolver for life, or send service traffic that no rule catches.
//
// A part that is off on purpose (an option, or a runtime with no host: hollow nodes) is "not
// wanted": reported as such, never waited for.
import { CLUSTER_DNS_READY, SERVICE_PROXY_READY, type AgentCondition } from "./conditions.js";

export interface PartHealth {
  ready: boolean;
  /** CamelCase, as Kubernetes condition reasons. */
  reason: string;
  message: string;
}

export type Part = "serviceProxy" | "clusterDns";

const CONDITION_OF: Record<Part, string> = { serviceProxy: SERVICE_PROXY_READY, clusterDns: CLUSTER_DNS_READY };
const NAME_OF: Record<Part, string> = { serviceProxy: "service proxy", clusterDns: "cluster DNS" };

export function notWanted(reason: "Disabled" | "NotSupported", message: string): PartHealth & { wanted: false } {
  return { ready: false, reason, message, wanted: false };
}

export class NetworkReadiness {
  private readonly parts = new Map<Part, PartHealth & { wanted: boolean }>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  /** `onChange` runs after a part's health changed (the agent writes the Node's conditions). */
  constructor(private readonly onChange: () => void = () => undefined) {}

  /** Sets a part's health; a part set with wanted=false is never waited for. */
  set(part: Part, health: PartHealth & { wanted?: boolean }): void {
    const next = { ready: health.ready, reason: health.reason, message: health.message, wanted: health.wanted ?? true };
    const before = this.parts.get(part);
    if (before && before.ready === next.ready && before.reason === next.reason && before.message === next.message && before.wanted === next.wanted) return;
    this.parts.set(part, next);
    for (const w of [...this.waiters]) w();
    this.onChange();
  }

  health(part: Part): (PartHealth & { wanted: boolean }) | undefined {
    return this.parts.get(part);
  }

  /** The Node conditions of the parts reported so far. */
  conditions(): AgentCondition[] {
    return [...this.parts].map(([part, h]) => ({ type: CONDITION_OF[part], status: h.ready ? "True" : "False", reason: h.reason, message: h.message }));
  }

  /** Why a pod may not get its network now, or undefined when it may. */
  blocking(): string | undefined {
    const waiting = [...this.parts].filter(([, h]) => h.wanted && !h.ready);
    if (!waiting.length) return undefined;
    return waiting.map(([part, h]) => `${NAME_OF[part]} not ready (${h.reason}): ${h.message}`).join("; ");
  }

  /**
   * Resolves once nothing blocks. `onBlocked` is called once, with the reason, when the caller has
   * to wait. Rejects when `abandoned()` says the wait is pointless (the pod is being deleted) or
   * the readiness was closed (the agent stops); checked on every change and every `pollMs`.
   */
  async wait(onBlocked: (why: string) => void, abandoned: () => boolean, pollMs = 500): Promise<void> {
    let told = false;
    while (!this.closed) {
      const why = this.blocking();
      if (!why) return;
      if (abandoned()) throw new Error(`the node's network is not ready: ${why}`);
      if (!told) onBlocked(why);
      told = true;
      await this.changeOr(pollMs);
    }
    throw new Error("the node agent is stopping");
  }

  /**
   * Resolves once every wanted part has said how it is (ready, or why not) - not "Starting" any
   * more - or after `timeoutMs`. The all-in-one's banner waits for it.
   */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const starting = () => [...this.parts.values()].some((h) => h.wanted && !h.ready && h.reason === "Starting");
    while (starting() && !this.closed && Date.now() < deadline) {
      await this.changeOr(Math.max(1, deadline - Date.now()));
    }
  }

  /** Resolves at the next change of a part, or after `ms`. */
  private changeOr(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** One line per wanted part that is not ready, for people: "service proxy NOT ready: ...". */
  problems(): string[] {
    return [...this.parts].filter(([, h]) => h.wanted && !h.ready).map(([part, h]) => `${NAME_OF[part]} NOT ready (${h.reason}): ${h.message}`);
  }

  close(): void {
    this.closed = true;
    for (const w of [...this.waiters]) w();
  }
}

/** What the node's network parts say before they run: off on purpose, or starting. */
export function setInitialHealth(network: NetworkReadiness, o: { serviceProxy: boolean; clusterDns: boolean }, hasNetfilter: boolean, dns: boolean): void {
  network.set(
    "serviceProxy",
    !o.serviceProxy
      ? notWanted("Disabled", "NAVARCH_SERVICE_PROXY is off: this node programs no Service rules")
      : !hasNetfilter
        ? notWanted("NotSupported", "the container runtime cannot program a host's netfilter (a hollow node): this node programs no Service rules")
        : { ready: false, reason: "Starting", message: "the service proxy's first nftables table is not written yet" },
  );
  network.set(
    "clusterDns",
    !o.clusterDns
      ? notWanted("Disabled", "NAVARCH_CLUSTER_DNS is off: pods get the runtime's default DNS")
      : !dns
        ? notWanted("NotSupported", "the container runtime has no pod network to serve (a hollow node): pods get the runtime's default DNS")
        : { ready: false, reason: "Starting", message: "the cluster DNS does not listen yet" },
  );
}
