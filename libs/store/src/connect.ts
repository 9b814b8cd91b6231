// Connecting to NATS, and refusing servers that lack what we rely on.
import { versionAtLeast } from "@navarch/nats-embedded";
import { connect, type NatsConnection } from "@nats-io/transport-node";

/** KV compare-and-swap, direct get and the consumer create API need 2.9; multi-filter watch 2.10. */
export const MIN_NATS_SERVER = "2.10.0";
/** Compare-and-swap is not safe on clustered (R3) streams before this (nats-server#4320). */
export const MIN_NATS_SERVER_FOR_REPLICAS = "2.9.21";


export interface ConnectOptions {
  url: string;
  name: string;
  credsFile?: string;
  /** Replicas the caller will ask for; R>1 needs a server with safe clustered CAS. */
  replicas?: number;
}

/**
 * Connects with reconnects forever (a control plane component outlives NATS restarts) and checks
 * the server version before anything is written.
 */
export async function connectNats(opts: ConnectOptions): Promise<NatsConnection> {
  const extra: Record<string, unknown> = {};
  if (opts.credsFile) {
    const { readFileSync } = await import("node:fs");
    const { credsAuthenticator } = await import("@nats-io/transport-node");
    extra.authenticator = credsAuthenticator(readFileSync(opts.credsFile));
  }
  const nc = await connect({
    servers: opts.url,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
    // Every request would otherwise build an Error with a stack trace up front (~10% of the
    // gateway's CPU in the create benchmark); our errors carry their own context.
    noAsyncTraces: true,
    ...extra,
  });
  const version = nc.info?.version ?? "0.0.0";
  if (!versionAtLeast(version, MIN_NATS_SERVER)) {
    await nc.close();
    throw new Error(`nats-server ${version} at ${opts.url} is too old: Navarch needs ${MIN_NATS_SERVER} or newer`);
  }
  if ((opts.replicas ?? 1) > 1 && !versionAtLeast(version, MIN_NATS_SERVER_FOR_REPLICAS)) {
    await nc.close();
    throw new Error(`nats-server ${version} cannot do safe compare-and-swap on replicated streams; use ${MIN_NATS_SERVER_FOR_REPLICAS} or newer`);
  }
  if (nc.info && nc.info.jetstream === false) {
    await nc.close();
    throw new Error(`nats-server at ${opts.url} has JetStream disabled; start it with -js`);
  }
  return nc;
}
