// The first start of a control plane creates an admin token and writes it into the client config
// ($NAVARCH_HOME/config); later starts keep it while its token Secret still exists, and issue a
// new one if either side was lost. Both the all-in-one and a standalone gateway call this.
import { KINDS, type Secret } from "@navarch/api";
import { readClientConfig, writeClientConfig, type ClientConfig } from "@navarch/config";
import { issueToken, ResourceStore, SYSTEM_NAMESPACE, tokenIsValid } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import { existsSync } from "node:fs";

const ADMIN_TOKEN_SECRET = "admin-token";

export async function ensureAdminConfig(nc: NatsConnection, configPath: string, server: string): Promise<{ config: ClientConfig; issued: boolean }> {
  const secrets = await ResourceStore.open<Secret>(nc, KINDS.Secret);
  const existing = existsSync(configPath) ? readClientConfig(configPath) : undefined;
  if (existing?.token && (await tokenIsValid(secrets, ADMIN_TOKEN_SECRET, existing.token))) {
    const config = { ...existing, server };
    if (existing.server !== server) writeClientConfig(config, configPath);
    return { config, issued: false };
  }
  const stale = await secrets.get(SYSTEM_NAMESPACE, ADMIN_TOKEN_SECRET);
  if (stale) await secrets.delete(SYSTEM_NAMESPACE, ADMIN_TOKEN_SECRET, Number(stale.metadata!.resourceVersion));
  const token = await issueToken(secrets, ADMIN_TOKEN_SECRET, { username: "admin", groups: ["system:masters"] });
  const config: ClientConfig = { ...(existing ?? {}), server, token };
  writeClientConfig(config, configPath);
  return { config, issued: true };
}
