// Claims on Service addresses: one key per cluster IP or node port in the bucket
// navarch-ip-allocations, created with kv.create (fails when the key exists), so two services can
// never hold the same address even when two gateways allocate at once. The gateway claims on
// create/update and releases on delete; the endpoints service's repair loop releases claims whose
// Service is gone and re-claims addresses a Service holds without a claim.
//
//   clusterip.10_96_0_10   {"namespace":"default","name":"web","uid":"…","claimedAt":"…"}
//   nodeport.30080         the same owner record
//
// "." separates KV key tokens, so an IP is written with "_" (`nats kv ls navarch-ip-allocations`
// still reads as the address). Readers keep every claim in memory from one watch (list-then-watch,
// resumed from the last revision after a reconnect), as the informers do for the kinds.
import type { Service } from "@navarch/api";
import { jetstream } from "@nats-io/jetstream";
import { KvWatchInclude, Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { isWrongSequence } from "./resource-store.js";

export const ADDRESS_CLAIMS_BUCKET = "navarch-ip-allocations";

export type AddressKind = "clusterip" | "nodeport";

/** The Service an address is claimed for. uid tells a re-created Service of the same name apart. */
export interface ClaimOwner {
  namespace: string;
  name: string;
  uid: string;
}

export interface Claim {
  key: string;
  owner: ClaimOwner;
  /** RFC 3339; the repair loop leaves young orphans alone (their Service may be being written). */
  claimedAt: string;
  revision: number;
}

export function claimKey(kind: AddressKind, address: string | number): string {
  return `${kind}.${String(address).replaceAll(".", "_")}`;
}

/** The address a key claims, or undefined for a key that is not a claim. */
export function parseClaimKey(key: string): { kind: AddressKind; address: string } | undefined {
  const dot = key.indexOf(".");
  const kind = key.slice(0, dot);
  if (kind !== "clusterip" && kind !== "nodeport") return undefined;
  return { kind, address: key.slice(dot + 1).replaceAll("_", ".") };
}

/**
 * The claim keys a stored Service holds: its cluster IP (not "None") and its node ports (one
 * claim per port number: a TCP and a UDP port of one Service may share it).
 */
export function claimKeysOf(svc: Service): string[] {
  const spec = svc.spec;
  if (!spec) return [];
  const keys = new Set<string>();
  if (spec.clusterIP && spec.clusterIP !== "None") keys.add(claimKey("clusterip", spec.clusterIP));
  for (const port of spec.ports) if (port.nodePort) keys.add(claimKey("nodeport", port.nodePort));
  return [...keys];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface AddressClaimsOptions {
  replicas?: number;
  onWatchError?: (err: unknown) => void;
}

export class AddressClaims {
  private readonly claims = new Map<string, Claim>();
  private rev = 0;
  private syncTarget = 0;
  private isSynced = false;
  private syncedResolve!: () => void;
  private readonly syncedPromise = new Promise<void>((r) => (this.syncedResolve = r));
  private stopped = false;
  private stopCurrent: (() => void) | undefined;
  private restarts = 0;

  private constructor(
    readonly kv: KV,
    private readonly nc: NatsConnection,
    private readonly opts: AddressClaimsOptions,
  ) {}

  static async open(nc: NatsConnection, opts: AddressClaimsOptions = {}): Promise<AddressClaims> {
    const kv = await new Kvm(jetstream(nc)).create(ADDRESS_CLAIMS_BUCKET, {
      history: 1,
      replicas: opts.replicas ?? 1,
      description: "Service cluster IPs and node ports in use, key clusterip.<ip with _> | nodeport.<port>, value the owning Service",
    });
    return new AddressClaims(kv, nc, opts);
  }

  /** Starts following the bucket; resolves once every existing claim is in memory. */
  async start(): Promise<void> {
    void this.followReconnects();
    void this.watchLoop();
    await this.syncedPromise;
  }

  stop(): void {
    this.stopped = true;
    this.stopCurrent?.();
  }

  /** The claim on `key` as last seen by the watch (a claim just won elsewhere may not be here yet). */
  get(key: string): Claim | undefined {
    return this.claims.get(key);
  }

  has(key: string): boolean {
    return this.claims.has(key);
  }

  all(): IterableIterator<Claim> {
    return this.claims.values();
  }

  /**
   * Waits (up to `timeoutMs`) until the cache has applied every change the bucket holds now, so a
   * claim released elsewhere a moment ago is seen as free. Returns whether it caught up.
   */
  async catchUp(timeoutMs = 2_000): Promise<boolean> {
    const status = await this.kv.status();
    const target = (status as unknown as { si: { state: { last_seq: number } } }).si.state.last_seq;
    const deadline = Date.now() + timeoutMs;
    while (this.rev < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return this.rev >= target;
  }

  /** The revision of the last change the cache applied. */
  get revision(): number {
    return this.rev;
  }

  /** Claims `key` for `owner`; false when someone holds it already. Atomic across processes. */
  async claim(key: string, owner: ClaimOwner, now: Date): Promise<boolean> {
    const value = encoder.encode(JSON.stringify({ ...owner, claimedAt: now.toISOString() }));
    try {
      await this.kv.create(key, value);
      return true;
    } catch (err) {
      if (isWrongSequence(err)) return false;
      throw err;
    }
  }

  /**
   * Releases `key` if `owner` (by uid) still holds it, reading the server (not the cache) and
   * deleting on the revision read, so a claim re-made by someone else is never released.
   * Returns whether a claim was deleted.
   */
  async release(key: string, ownerUid: string): Promise<boolean> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== "PUT") return false;
    const claim = decodeClaim(e);
    if (!claim || claim.owner.uid !== ownerUid) return false;
    return this.releaseAt(key, e.revision);
  }

  /** Deletes the claim if it is still at `revision`; false when it changed or is gone. */
  async releaseAt(key: string, revision: number): Promise<boolean> {
    try {
      await this.kv.delete(key, { previousSeq: revision });
      return true;
    } catch (err) {
      if (isWrongSequence(err)) return false;
      throw err;
    }
  }

  private async followReconnects(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.stopped) return;
      if (s.type === "reconnect") {
        this.restarts++;
        this.stopCurrent?.();
      }
    }
  }

  private async watchLoop(): Promise<void> {
    let delay = 100;
    while (!this.stopped) {
      const generation = this.restarts;
      try {
        if (!this.isSynced && this.rev === 0) {
          const status = await this.kv.status();
          const state = (status as unknown as { si: { state: { messages: number; last_seq: number } } }).si.state;
          this.syncTarget = state.messages === 0 ? 0 : state.last_seq;
          if (this.syncTarget === 0) this.markSynced();
        }
        const iter = await this.kv.watch(this.rev > 0 ? { resumeFromRevision: this.rev + 1 } : { include: KvWatchInclude.LastValue });
        this.stopCurrent = () => iter.stop();
        if (this.stopped || generation !== this.restarts) {
          iter.stop();
          continue;
        }
        delay = 100;
        for await (const e of iter) {
          if (generation !== this.restarts) break;
          this.apply(e);
        }
      } catch (err) {
        if (this.stopped) return;
        this.opts.onWatchError?.(err);
      }
      if (!this.stopped && generation === this.restarts) {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private apply(e: KvEntry): void {
    if (e.revision <= this.rev) return;
    this.rev = e.revision;
    const claim = e.operation === "PUT" ? decodeClaim(e) : undefined;
    if (claim) this.claims.set(e.key, claim);
    else this.claims.delete(e.key);
    if (!this.isSynced && this.rev >= this.syncTarget) this.markSynced();
  }

  private markSynced(): void {
    if (this.isSynced) return;
    this.isSynced = true;
    this.syncedResolve();
  }
}

function decodeClaim(e: KvEntry): Claim | undefined {
  try {
    const v = JSON.parse(decoder.decode(e.value)) as Partial<ClaimOwner> & { claimedAt?: string };
    return {
      key: e.key,
      owner: { namespace: v.namespace ?? "", name: v.name ?? "", uid: v.uid ?? "" },
      claimedAt: v.claimedAt ?? "",
      revision: e.revision,
    };
  } catch {
    // Written by hand with `nats kv put`: still a claim (the address stays taken), owned by nobody.
    return { key: e.key, owner: { namespace: "", name: "", uid: "" }, claimedAt: "", revision: e.revision };
  }
}
