// The cluster's id: a random UUID made once per cluster and kept in JetStream, in the bucket
// navarch-cluster under the key `id`. Whoever starts first (gateway, all-in-one, node agent) writes
// it with a create-only put, so two components starting at once cannot write two different ids:
// the loser reads the winner's. It lives as long as the cluster's JetStream data, so it is the same
// for every component of one cluster and across restarts, and differs between two clusters with
// separate NATS servers (docs/adr/0014-cluster-id.md).
//
// The node agent labels every container with it (navarch.cluster) and lists only its own, so two
// clusters sharing one Docker engine - even with nodes of the same name - never claim each other's.
// Deleting the key makes a new cluster: the containers labelled with the old id are then left
// alone by every agent (as another cluster's would be).
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { randomUUID } from "node:crypto";
import { isWrongSequence } from "./resource-store.js";

export const CLUSTER_BUCKET = "navarch-cluster";
export const CLUSTER_ID_KEY = "id";

export interface ClusterIdentity {
  /** A UUID: what containers carry in their navarch.cluster label. */
  id: string;
  /** RFC 3339: when the first component of this cluster started. */
  createdAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Puts that find the key already written and then read nothing (it was deleted in between) retry this often. */
const MAX_ATTEMPTS = 5;

async function openBucket(nc: NatsConnection, replicas: number): Promise<KV> {
  return new Kvm(jetstream(nc)).create(CLUSTER_BUCKET, {
    history: 1,
    replicas,
    description: "the cluster's identity: key id, value {id: a UUID, createdAt}; written once by whichever component starts first",
  });
}

function parse(value: Uint8Array): ClusterIdentity {
  let parsed: Partial<ClusterIdentity>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(value)) as Partial<ClusterIdentity>;
  } catch {
    parsed = {};
  }
  // A value someone wrote by hand that is not ours must stop the start loudly, not label
  // containers with garbage.
  if (typeof parsed.id !== "string" || !UUID.test(parsed.id)) {
    throw new Error(`${CLUSTER_BUCKET}/${CLUSTER_ID_KEY} holds no cluster id (expected {"id":"<uuid>",...}); it was changed by hand - restore it or delete it to make a new cluster`);
  }
  return { id: parsed.id, createdAt: typeof parsed.createdAt === "string" ? parsed.createdAt : "" };
}

/**
 * This cluster's identity, made on first use. Reading it is one KV get; only the very first start
 * of a cluster writes.
 */
export async function clusterIdentity(nc: NatsConnection, opts: { replicas?: number; now?: () => Date } = {}): Promise<ClusterIdentity> {
  const kv = await openBucket(nc, opts.replicas ?? 1);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const existing = await kv.get(CLUSTER_ID_KEY);
    if (existing && existing.operation === "PUT") return parse(existing.value);
    const mine: ClusterIdentity = { id: randomUUID(), createdAt: (opts.now?.() ?? new Date()).toISOString() };
    try {
      // Create-only: fails when another component wrote the key first; then theirs is read above.
      await kv.create(CLUSTER_ID_KEY, JSON.stringify(mine));
      return mine;
    } catch (err) {
      if (!isWrongSequence(err)) throw err;
    }
  }
  throw new Error(`${CLUSTER_BUCKET}/${CLUSTER_ID_KEY}: could neither read nor write the cluster id after ${MAX_ATTEMPTS} attempts`);
}
