// Options are declared once: name, env var, default and doc. Services read them from the
// environment (and flags, via the entry points), so `--help` and the docs can list them all.
import os from "node:os";
import path from "node:path";

export interface OptionSpec<T> {
  env: string;
  doc: string;
  default: T;
  parse: (raw: string) => T;
}

export const asString = (raw: string) => raw;
export function asInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`expected an integer, got "${raw}"`);
  return n;
}
export function asBool(raw: string): boolean {
  if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off", ""].includes(raw.toLowerCase())) return false;
  throw new Error(`expected true or false, got "${raw}"`);
}

export function option<T>(env: string, def: T, parse: (raw: string) => T, doc: string): OptionSpec<T> {
  return { env, default: def, parse, doc };
}

/** Reads every option of `specs` from `env`, failing on the first malformed value. */
export function readOptions<S extends Record<string, OptionSpec<unknown>>>(
  specs: S,
  env: NodeJS.ProcessEnv = process.env,
): { [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never } {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const raw = env[spec.env];
    try {
      out[key] = raw === undefined || raw === "" ? spec.default : spec.parse(raw);
    } catch (err) {
      throw new Error(`${spec.env}: ${(err as Error).message}`);
    }
  }
  return out as never;
}

/** Describes options for --help output and docs: "NAVARCH_X (default: y)  doc". */
export function describeOptions(specs: Record<string, OptionSpec<unknown>>): string {
  return Object.values(specs)
    .map((s) => `  ${s.env.padEnd(34)} ${s.doc} (default: ${JSON.stringify(s.default)})`)
    .join("\n");
}

/** Where a local cluster keeps its state and client config: $NAVARCH_HOME, default ~/.navarch. */
export function navarchHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.NAVARCH_HOME && env.NAVARCH_HOME !== "" ? path.resolve(env.NAVARCH_HOME) : path.join(os.homedir(), ".navarch");
}

/** Options every service shares. */
export const COMMON_OPTIONS = {
  natsUrl: option("NAVARCH_NATS_URL", "", asString, "NATS server URL; the all-in-one starts its own when empty"),
  natsCreds: option("NAVARCH_NATS_CREDS", "", asString, "NATS credentials file"),
  logLevel: option("NAVARCH_LOG_LEVEL", "info", asString, "log level: trace, debug, info, warn, error"),
  kvReplicas: option("NAVARCH_KV_REPLICAS", 1, asInt, "replicas of each JetStream KV bucket (3 for an HA NATS cluster)"),
};
