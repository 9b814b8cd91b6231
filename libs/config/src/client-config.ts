// The client config: where navctl (and other clients) find the API server and the token to use.
// It lives at $NAVARCH_HOME/config as a small YAML file; the all-in-one writes it on start.
//
//   apiVersion: navarch.dev/v1
//   kind: Config
//   server: 127.0.0.1:7443
//   token: <bearer token>
//   namespace: default        # optional
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { navarchHome } from "./options.js";

export const CLIENT_CONFIG_API_VERSION = "navarch.dev/v1";
export const CLIENT_CONFIG_KIND = "Config";

export interface ClientConfig {
  /** host:port of the gRPC API gateway. */
  server: string;
  /** Bearer token sent as "authorization: Bearer <token>". */
  token: string;
  /** Namespace used when a command names none. */
  namespace?: string;
}

/** $NAVARCH_HOME/config (or `<home>/config`). */
export function clientConfigPath(home: string = navarchHome()): string {
  return path.join(home, "config");
}

/** Reads and checks the client config; throws an Error with a one-line message on any problem. */
export function readClientConfig(file: string = clientConfigPath()): ClientConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`no client config at ${file}: start a cluster with \`npm start\` or pass --server and --token`);
    }
    throw new Error(`cannot read client config ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new Error(`invalid client config ${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new Error(`invalid client config ${file}: expected a mapping with server and token`);
  }
  const d = doc as Record<string, unknown>;
  const bad = (msg: string) => new Error(`invalid client config ${file}: ${msg}`);
  if (d.apiVersion !== undefined && d.apiVersion !== CLIENT_CONFIG_API_VERSION) {
    throw bad(`apiVersion must be "${CLIENT_CONFIG_API_VERSION}", got ${JSON.stringify(d.apiVersion)}`);
  }
  if (d.kind !== undefined && d.kind !== CLIENT_CONFIG_KIND) {
    throw bad(`kind must be "${CLIENT_CONFIG_KIND}", got ${JSON.stringify(d.kind)}`);
  }
  if (typeof d.server !== "string" || d.server === "") throw bad("server: required (host:port)");
  if (typeof d.token !== "string" || d.token === "") throw bad("token: required");
  if (d.namespace !== undefined && d.namespace !== null && typeof d.namespace !== "string") {
    throw bad("namespace: expected a string");
  }
  const config: ClientConfig = { server: d.server, token: d.token };
  if (typeof d.namespace === "string" && d.namespace !== "") config.namespace = d.namespace;
  return config;
}

/** The YAML text of a client config. */
export function formatClientConfig(config: ClientConfig): string {
  const doc: Record<string, string> = {
    apiVersion: CLIENT_CONFIG_API_VERSION,
    kind: CLIENT_CONFIG_KIND,
    server: config.server,
    token: config.token,
  };
  if (config.namespace) doc.namespace = config.namespace;
  return YAML.stringify(doc);
}

/**
 * Writes the client config readable by its owner only (0600), creating the directory if needed.
 * The write is atomic: a temp file in the same directory is renamed over the target, so a reader
 * never sees half a file.
 */
export function writeClientConfig(config: ClientConfig, file: string = clientConfigPath()): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, formatClientConfig(config), { mode: 0o600, flag: "wx" });
    fs.chmodSync(tmp, 0o600); // exactly 0600, whatever the umask
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
