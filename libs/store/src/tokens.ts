// API tokens are Secrets of type navarch.dev/api-token in navarch-system, holding only the
// SHA-256 of the bearer token (so reading the Secret does not reveal the token) plus who it
// authenticates as. Like Kubernetes service account token Secrets, they are ordinary objects:
// `navctl get secrets -n navarch-system` lists them and deleting one revokes the token.
import { createHash, randomBytes } from "node:crypto";
import { KINDS, type Secret } from "@navarch/api";
import type { ResourceStore } from "./resource-store.js";
import { timestamp } from "./deletion.js";
import { SYSTEM_NAMESPACE } from "./system-namespaces.js";

export const TOKEN_SECRET_TYPE = "navarch.dev/api-token";

export interface Identity {
  username: string;
  groups: string[];
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The identity a token Secret grants, keyed by token hash; undefined if it is not a token Secret. */
export function tokenIdentity(secret: Secret): { hash: string; identity: Identity } | undefined {
  if (secret.type !== TOKEN_SECRET_TYPE || secret.metadata?.namespace !== SYSTEM_NAMESPACE) return undefined;
  const field = (k: string) => (secret.data[k] ? decoder.decode(secret.data[k]) : "");
  const hash = field("token-sha256");
  if (!hash) return undefined;
  return { hash, identity: { username: field("username"), groups: field("groups").split(",").filter(Boolean) } };
}

/** Creates a new token Secret named `name` and returns the bearer token (shown once). */
export async function issueToken(secrets: ResourceStore<Secret>, name: string, identity: Identity): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  const secret = KINDS.Secret.codec.fromPartial({
    apiVersion: "v1",
    kind: "Secret",
    type: TOKEN_SECRET_TYPE,
    metadata: {
      name,
      namespace: SYSTEM_NAMESPACE,
      uid: crypto.randomUUID(),
      creationTimestamp: timestamp(),
      labels: { "navarch.dev/token-user": identity.username.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 63) },
    },
    data: {
      "token-sha256": encoder.encode(hashToken(token)),
      username: encoder.encode(identity.username),
      groups: encoder.encode(identity.groups.join(",")),
    },
  });
  await secrets.create(secret);
  return token;
}

/** True if `token` is still backed by a token Secret (read straight from the store). */
export async function tokenIsValid(secrets: ResourceStore<Secret>, name: string, token: string): Promise<boolean> {
  const secret = await secrets.get(SYSTEM_NAMESPACE, name);
  return secret !== undefined && tokenIdentity(secret)?.hash === hashToken(token);
}
