import { execFile, execFileSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { versionAtLeast } from "./version.js";

const BINARY = "nats-server";

/** Older servers lack what Navarch relies on (see libs/store/src/connect.ts); skip them when searching. */
const MIN_VERSION = "2.10.0";

/**
 * Locates the nats-server binary. The env override comes first so CI and
 * developers can pin a version; then the one scripts/setup.sh installs, then PATH and
 * `go install`'s folder. A binary older than MIN_VERSION (Debian's 2.9) is passed over while a
 * newer one exists, so a distribution package early on PATH does not shadow the pinned build.
 */
export function findNatsServer(): string {
  const fromEnv = process.env.NAVARCH_NATS_SERVER;
  if (fromEnv) {
    // An explicit choice that does not work must not silently fall back to another binary.
    if (!isExecutable(fromEnv)) {
      throw new Error(`NAVARCH_NATS_SERVER=${fromEnv} is not an executable file`);
    }
    return fromEnv;
  }
  const home = homedir();
  const candidates = [
    join(home, ".navarch", "tools", "bin", BINARY),
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, BINARY)),
    join(home, "go", "bin", BINARY),
  ].filter(isExecutable);
  const found = candidates.find((c) => recentEnough(c)) ?? candidates[0];
  if (found) return found;
  throw new Error(
    `${BINARY} not found (looked at $NAVARCH_NATS_SERVER, PATH, ~/.navarch/tools/bin and ~/go/bin). ` +
      "Install it with `npm run setup` (scripts/setup.sh), or " +
      "`go install github.com/nats-io/nats-server/v2@latest`, or point NAVARCH_NATS_SERVER at a binary.",
  );
}

/** The version reported by `nats-server --version`, without the leading "v" (e.g. "2.15.2"). */
export async function natsServerVersion(binary: string): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(binary, ["--version"], { timeout: 10_000 });
  const m = /v?(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)/.exec(`${stdout}\n${stderr}`);
  if (!m) throw new Error(`cannot parse the version printed by ${binary} --version: ${stdout.trim()}`);
  return m[1]!;
}

function recentEnough(binary: string): boolean {
  try {
    const out = execFileSync(binary, ["--version"], { timeout: 10_000, encoding: "utf8" });
    const m = /v?(\d+\.\d+\.\d+)/.exec(out);
    return m !== null && versionAtLeast(m[1]!, MIN_VERSION);
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
