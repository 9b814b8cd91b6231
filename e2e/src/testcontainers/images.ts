// The images the cluster fixture runs, all built on this machine: nothing is ever pulled (no
// registry is reachable, and a test must not depend on one).
import { PullPolicy, type ImagePullPolicy } from "testcontainers";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is compiled to e2e/dist/testcontainers/images.js). */
export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export const IMAGES = {
  nats: "navarch/nats-server:dev",
  controlPlane: "navarch/control-plane:dev",
  nodeAgent: "navarch/node-agent:dev",
} as const;

/** testcontainers' policy that never pulls: a missing image fails at once with a clear error. */
export const NEVER_PULL: ImagePullPolicy = PullPolicy.neverPull();

const NAVARCH_IMAGES_SCRIPT = path.join(ROOT, "scripts", "build-navarch-images.sh");
const DEMO_IMAGES_SCRIPT = path.join(ROOT, "scripts", "build-images.sh");
const BUILD_TIMEOUT_MS = 300_000;

let navarchImages: Promise<void> | undefined;
let demoImages: Promise<boolean> | undefined;

/**
 * Builds (or confirms up to date) the images of Navarch itself, once per process:
 * scripts/build-navarch-images.sh is idempotent and takes about 2 s when nothing changed, so the
 * images always match the current build output. NAVARCH_E2E_SKIP_IMAGE_BUILD=1 skips it.
 */
export function ensureNavarchImages(): Promise<void> {
  if (process.env.NAVARCH_E2E_SKIP_IMAGE_BUILD === "1") return Promise.resolve();
  navarchImages ??= runScript(NAVARCH_IMAGES_SCRIPT).then((r) => {
    if (r.code !== 0) {
      navarchImages = undefined; // let a later call retry
      throw new Error(`scripts/build-navarch-images.sh failed (exit ${r.code}):\n${r.output}`);
    }
  });
  return navarchImages;
}

/**
 * Builds the demo workload images (navarch/demo:1, ...) with scripts/build-images.sh, once per
 * process. Resolves false when that script does not exist.
 */
export function ensureDemoImages(): Promise<boolean> {
  if (!existsSync(DEMO_IMAGES_SCRIPT)) return Promise.resolve(false);
  demoImages ??= runScript(DEMO_IMAGES_SCRIPT).then((r) => {
    if (r.code !== 0) {
      demoImages = undefined;
      throw new Error(`scripts/build-images.sh failed (exit ${r.code}):\n${r.output}`);
    }
    return true;
  });
  return demoImages;
}

function runScript(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (output += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (output += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), BUILD_TIMEOUT_MS);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
