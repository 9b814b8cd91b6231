// Bearer-token authentication against token Secrets, served from the Secret informer so a call
// costs a hash and a map lookup, and a deleted token Secret stops working at once.
import type * as grpc from "@grpc/grpc-js";
import { UnauthenticatedError, type Secret } from "@navarch/api";
import { hashToken, tokenIdentity, type Identity, type Informer } from "@navarch/store";

export class TokenAuthenticator {
  private readonly byHash = new Map<string, Identity>();
  private readonly hashOfKey = new Map<string, string>();

  constructor(secrets: Informer<Secret>) {
    for (const s of secrets.list()) this.index(secrets.store.keyOf(s), s);
    secrets.onEvent((e) => {
      if (e.type === "DELETED") this.unindex(e.key);
      else this.index(e.key, e.object);
    });
  }

  authenticate(metadata: grpc.Metadata): Identity {
    return this.authenticateClient(metadata).identity;
  }

  /** The identity and the client: the token's hash, the key per-client limits count under. */
  authenticateClient(metadata: grpc.Metadata): { identity: Identity; client: string } {
    const header = metadata.get("authorization")[0];
    if (typeof header !== "string" || !header.startsWith("Bearer ")) {
      throw new UnauthenticatedError("missing bearer token: send metadata \"authorization: Bearer <token>\"");
    }
    const client = hashToken(header.slice("Bearer ".length).trim());
    const identity = this.byHash.get(client);
    if (!identity) throw new UnauthenticatedError("invalid bearer token");
    return { identity, client };
  }

  private index(key: string, secret: Secret): void {
    this.unindex(key);
    const t = tokenIdentity(secret);
    if (!t || secret.metadata?.deletionTimestamp) return;
    this.byHash.set(t.hash, t.identity);
    this.hashOfKey.set(key, t.hash);
  }

  private unindex(key: string): void {
    const hash = this.hashOfKey.get(key);
    if (hash) this.byHash.delete(hash);
    this.hashOfKey.delete(key);
  }
}
