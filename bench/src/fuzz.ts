// `npm run bench -- fuzz`: the API fuzz suite (services/api-gateway/src/fuzz) at full size, as its
// own process with its own nats-server and gateway. Its size and seed come from NAVARCH_FUZZ_*
// (see src/fuzz/main.ts there); here only the default size is raised to 20,000 requests.
import { spawn } from "node:child_process";
import path from "node:path";
import { ROOT } from "./cluster.js";

const FUZZ_MAIN = path.join(ROOT, "services", "api-gateway", "dist", "fuzz", "main.js");

export async function runFuzzBench(log: (s: string) => void): Promise<number> {
  log(`fuzz: ${process.env.NAVARCH_FUZZ_REQUESTS || "20000"} hostile requests against a gateway process (NAVARCH_FUZZ_SEED to repeat a run)`);
  const child = spawn(process.execPath, [FUZZ_MAIN], {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, NAVARCH_FUZZ_REQUESTS: process.env.NAVARCH_FUZZ_REQUESTS || "20000" },
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
}
