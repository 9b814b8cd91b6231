// DiscoveryService: what this server is and which kinds it serves (navctl version, api-resources).
import { ALL_KINDS, type GetVersionResponse, type ListAPIResourcesResponse, type WhoAmIResponse } from "@navarch/api";
import type { Identity } from "@navarch/store";
import { readFileSync } from "node:fs";
import os from "node:os";

const VERBS = ["create", "delete", "get", "list", "update", "watch"];

export const NAVARCH_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    return `v${pkg.version}`;
  } catch {
    return "v0.0.0";
  }
})();

export function version(natsServerVersion: string, clusterId = ""): GetVersionResponse {
  return {
    version: NAVARCH_VERSION,
    gitCommit: process.env.NAVARCH_GIT_COMMIT ?? "",
    platform: `${os.platform()}/${os.arch() === "x64" ? "amd64" : os.arch()}`,
    natsServerVersion,
    clusterId,
  };
}

export function apiResources(): ListAPIResourcesResponse {
  return {
    resources: ALL_KINDS.map((k) => ({
      name: k.plural,
      singularName: k.singular,
      shortNames: k.shortNames,
      apiVersion: k.apiVersion,
      kind: k.kind,
      namespaced: k.namespaced,
      verbs: VERBS,
    })),
  };
}

export function whoAmI(identity: Identity): WhoAmIResponse {
  return { username: identity.username, groups: identity.groups };
}
