// The API fuzz suite at a bounded size (about 1,200 hostile requests and 10 rounds of concurrent
// conflicting writes, within ~60 s) against a gateway process and a real nats-server. The seed is
// printed; NAVARCH_FUZZ_SEED=<seed> repeats a run, NAVARCH_FUZZ_REQUESTS changes its size. The
// larger run: `npm run bench -- fuzz` (src/fuzz/main.ts).
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats } from "@navarch/store";
import type { NatsConnection } from "@nats-io/transport-node";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { seedFrom } from "./fuzz/rng.js";
import { formatReport, runFuzz, type FuzzReport } from "./fuzz/run.js";
import { GatewayProcess } from "./testing/gateway-process.js";

describe("API fuzz suite (bounded)", () => {
  let dir: string;
  let nats: NatsServerProcess;
  let nc: NatsConnection;
  let gw: GatewayProcess;
  let report: FuzzReport;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "navarch-fuzz-"));
    nats = await NatsServerProcess.start({ storeDir: path.join(dir, "nats") });
    gw = await GatewayProcess.start(nats.url, path.join(dir, "home"));
    nc = await connectNats({ url: nats.url, name: "fuzz-test" });
    const requests = Number(process.env.NAVARCH_FUZZ_REQUESTS || 1_200);
    report = await runFuzz({ gateway: gw, nc, seed: seedFrom(), requests, deadlineMs: 3_000, timeBudgetMs: 45_000, conflictRounds: 10 });
    process.stdout.write(formatReport(report).replace(/^/gm, "# ") + "\n");
  });

  after(async () => {
    await gw?.kill("SIGTERM");
    await nc?.close();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const findings = (check: string) => report.findings.filter((f) => f.check === check).map((f) => `${f.category}: ${f.what} -> ${f.detail}`);

  it("the gateway process never exits", () => assert.deepEqual(findings("process-exit"), []));
  it("every answer is a precise status (no INTERNAL, UNKNOWN, UNAVAILABLE)", () => assert.deepEqual(findings("imprecise-status"), []));
  it("every call is answered within its deadline", () => assert.deepEqual(findings("deadline"), []));
  it("bad input is refused, with the code the case calls for", () => assert.deepEqual([...findings("accepted-bad-input"), ...findings("unexpected-code")], []));
  it("a refused request writes nothing", () => assert.deepEqual(findings("partial-write"), []));
  it("unicode data is stored exactly", () => assert.deepEqual(findings("unicode-roundtrip"), []));
  it("concurrent conflicting writes: one winner, precise losers", () => assert.deepEqual(findings("conflicting-writes"), []));
  it("the gateway's RSS is back near its start", () => assert.deepEqual(findings("rss"), []));
  it("sent what it planned, in every category", () => {
    assert.ok(report.requests > 0);
    for (const c of ["malformed", "unicode", "wrong-kind", "bad-version", "nested"]) assert.ok((report.byCategory[c] ?? 0) > 0, `no ${c} case`);
  });
});
