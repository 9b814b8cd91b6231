// The local cluster's node needs a Docker engine. If the engine is installed but not running (a
// fresh machine: `apt-get install docker.io` starts nothing here), start dockerd in the
// background, as root, and wait for it. Never fatal: without Docker the control plane still runs.
import { DockerRuntime, type RuntimeInfo } from "@navarch/runtime";
import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, openSync } from "node:fs";
import path from "node:path";

async function probe(socketPath: string): Promise<RuntimeInfo | undefined> {
  try {
    return await new DockerRuntime({ socketPath }).info();
  } catch {
    return undefined;
  }
}

function onPath(binary: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/bin"]) {
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function ensureDockerEngine(socketPath: string, logDir: string): Promise<{ info?: RuntimeInfo; started: boolean; why?: string }> {
  const running = await probe(socketPath);
  if (running) return { info: running, started: false };
  const dockerd = onPath("dockerd");
  if (!dockerd) return { started: false, why: "no Docker engine installed (apt-get install docker.io)" };
  if (process.getuid?.() !== 0) return { started: false, why: `Docker is not running and starting ${dockerd} needs root` };
  mkdirSync(logDir, { recursive: true });
  const log = openSync(path.join(logDir, "dockerd.log"), "a");
  // Detached: the engine outlives this process, as a system service would.
  spawn(dockerd, [], { detached: true, stdio: ["ignore", log, log] }).unref();
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const info = await probe(socketPath);
    if (info) return { info, started: true };
  }
  return { started: true, why: `dockerd did not answer within 30 s (see ${path.join(logDir, "dockerd.log")})` };
}
