#!/usr/bin/env node
// The fuzz suite at any size, outside `npm test`: a nats-server and a gateway process of its own
// in a temp directory, then runFuzz. `npm run bench -- fuzz` runs it with 20,000 requests.
//
//   node services/api-gateway/dist/fuzz/main.js
//
// Env: NAVARCH_FUZZ_REQUESTS (default 20000), NAVARCH_FUZZ_SEED (default random; printed),
// NAVARCH_FUZZ_DEADLINE_MS (default 5000), NAVARCH_FUZZ_CONFLICT_ROUNDS (default 100).
// Exit code 0 when no check failed, 1 otherwise.
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats } from "@navarch/store";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GatewayProcess } from "../testing/gateway-process.js";
import { seedFrom } from "./rng.js";
import { formatReport, runFuzz } from "./run.js";

const intEnv = (name: string, dflt: number): number => {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
};

const dir = mkdtempSync(path.join(tmpdir(), "navarch-fuzz-"));
let nats: NatsServerProcess | undefined;
let gw: GatewayProcess | undefined;
let code = 1;
try {
  const seed = seedFrom();
  nats = await NatsServerProcess.start({ storeDir: path.join(dir, "nats") });
  gw = await GatewayProcess.start(nats.url, path.join(dir, "home"));
  const nc = await connectNats({ url: nats.url, name: "fuzz" });
  const report = await runFuzz({
    gateway: gw,
    nc,
    seed,
    requests: intEnv("NAVARCH_FUZZ_REQUESTS", 20_000),
    deadlineMs: intEnv("NAVARCH_FUZZ_DEADLINE_MS", 5_000),
    conflictRounds: intEnv("NAVARCH_FUZZ_CONFLICT_ROUNDS", 100),
    log: (l) => process.stderr.write(`fuzz: ${l}\n`),
  });
  process.stdout.write(formatReport(report) + "\n");
  code = report.findings.length === 0 ? 0 : 1;
  await nc.close();
} finally {
  await gw?.kill("SIGTERM");
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
