// What every handler of the gateway shares: the stores (writes), the informers (reads), the
// authenticator and the options. Reads wait until the cache has seen this gateway's own last
// write of that kind, so a client reads its writes even though reads come from the cache.
import { InvalidError, type KindInfo, type KubeObject } from "@navarch/api";
import type { Logger } from "@navarch/config";
import type { Informer, ResourceStore } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import type { TokenAuthenticator } from "./auth.js";
import type { GatewayOptions } from "./options.js";
import type { CreateRequests } from "./create-requests.js";
import type { ServiceAddresses } from "./service-addresses.js";

export class GatewayContext {
  private readonly lastWrite = new Map<string, number>();
  /** Allocates Service cluster IPs and node ports (set by startGateway). */
  serviceAddresses: ServiceAddresses | undefined;
  /** Idempotency keys of recent creates (set by startGateway). */
  createRequests: CreateRequests | undefined;

  constructor(
    readonly nc: NatsConnection,
    readonly stores: Map<string, ResourceStore>,
    readonly informers: Map<string, Informer>,
    readonly auth: TokenAuthenticator,
    readonly options: GatewayOptions,
    readonly logger: Logger,
    readonly now: () => Date = () => new Date(),
  ) {}

  store<T extends KubeObject>(info: KindInfo<T> | KindInfo): ResourceStore<T> {
    return this.stores.get(info.kind) as unknown as ResourceStore<T>;
  }

  informer<T extends KubeObject>(info: KindInfo<T> | KindInfo): Informer<T> {
    return this.informers.get(info.kind) as unknown as Informer<T>;
  }

  wrote(info: KindInfo, resourceVersion: string | number | undefined): void {
    const rev = Number(resourceVersion ?? 0);
    if (rev > (this.lastWrite.get(info.kind) ?? 0)) this.lastWrite.set(info.kind, rev);
  }

  /**
   * Waits (briefly) until the kind's cache includes this gateway's writes, or `atLeast`. A
   * client's `atLeast` beyond the store's last revision will never come: that is refused at once
   * (with `tooNew`'s error; by default INVALID_ARGUMENT on resourceVersion) instead of a silent wait.
   */
  async fresh<T extends KubeObject>(info: KindInfo<T> | KindInfo, atLeast = 0, tooNew?: (latest: number) => Error): Promise<Informer<T>> {
    const informer = this.informer<T>(info);
    if (atLeast > informer.revision) {
      const latest = await this.latestRevision(info);
      if (atLeast > latest) {
        throw tooNew?.(latest) ?? InvalidError.at("resourceVersion", `Invalid value: "${atLeast}": it is newer than the latest revision, ${latest}`);
      }
    }
    const rev = Math.max(this.lastWrite.get(info.kind) ?? 0, atLeast);
    if (informer.revision < rev) await informer.waitForRevision(rev, 5_000);
    return informer;
  }

  /** The last revision of the kind's bucket, from the server (one request). */
  private async latestRevision(info: KindInfo): Promise<number> {
    return (await this.store(info).kv.status()).streamInfo.state.last_seq;
  }
}
