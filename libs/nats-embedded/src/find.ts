import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const BINARY = "nats-server";

/**
 * Locates the nats-server binary. The env override comes first so CI and
 * developers can pin a version; the ~/.navarch and ~/go fallbacks cover
 * installs by scripts/setup.sh and `go install`, which are often not on PATH.
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
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, BINARY)),
    join(home, ".navarch", "tools", "bin", BINARY),
    join(home, "go", "bin", BINARY),
  ];
  const found = candidates.find(isExecutable);
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

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
