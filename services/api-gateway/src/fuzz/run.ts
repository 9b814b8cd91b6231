// The fuzz run against a gateway process: hostile requests one at a time (so a refused request
// can be checked to have written nothing: every KV stream's last sequence is the same before and
// after it), then concurrent conflicting writes, then the gateway's memory. Every check that fails
// is a finding with the case that showed it; the run itself never throws on a finding.
import * as grpc from "@grpc/grpc-js";
import { ALL_KINDS, KINDS, type ConfigMap } from "@navarch/api";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { randomUUID } from "node:crypto";
import { generateCase, type FuzzCase, type FuzzTargets } from "./cases.js";
import { Rng } from "./rng.js";

/** The gateway under test, as a process: its exits and its memory. */
export interface GatewayUnderTest {
  address: string;
  token: string;
  running: boolean;
  unexpectedExits: unknown[];
  rssBytes(): number;
}

export interface FuzzOptions {
  gateway: GatewayUnderTest;
  /** The gateway's NATS (for the no-partial-write check). */
  nc: NatsConnection;
  seed: number;
  /** Hostile requests to send. */
  requests: number;
  /** Deadline of each call: the gateway must answer within it. */
  deadlineMs?: number;
  /** Stop sending hostile requests after this long (the run still reports). */
  timeBudgetMs?: number;
  /** Rounds of the concurrent-writes phase. */
  conflictRounds?: number;
  log?: (line: string) => void;
}

export type Check =
  | "process-exit"
  | "imprecise-status"
  | "deadline"
  | "accepted-bad-input"
  | "unexpected-code"
  | "partial-write"
  | "unicode-roundtrip"
  | "conflicting-writes"
  | "rss";

export interface Finding {
  check: Check;
  category: string;
  what: string;
  detail: string;
}

export interface FuzzReport {
  seed: number;
  requests: number;
  planned: number;
  byCode: Record<string, number>;
  byCategory: Record<string, number>;
  findings: Finding[];
  rssBeforeBytes: number;
  rssAfterBytes: number;
  rssLimitBytes: number;
  durationMs: number;
}

const IMPRECISE = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN]);
const MIB = 1024 * 1024;

interface Answer {
  code: grpc.status;
  details: string;
  response?: Buffer;
}

const identity = (b: Buffer) => b;

class RawClient {
  private client: grpc.Client;

  constructor(private readonly address: string) {
    this.client = RawClient.make(address);
  }

  private static make(address: string): grpc.Client {
    return new grpc.Client(address, grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": 16 * MIB,
      "grpc.max_receive_message_length": 64 * MIB,
      "grpc.enable_http_proxy": 0,
    });
  }

  /** A fresh connection: after a call that hung, later calls must not inherit a wedged channel. */
  reset(): void {
    this.client.close();
    this.client = RawClient.make(this.address);
  }

  close(): void {
    this.client.close();
  }

  unary(path: string, bytes: Buffer, md: grpc.Metadata, deadlineMs: number): Promise<Answer> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, identity, identity, bytes, md, { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (err) resolve({ code: err.code, details: err.details });
        else resolve({ code: grpc.status.OK, details: "", response: res! });
      });
    });
  }

  /** A watch is answered by its first event (then cancelled) or by its status. */
  watch(path: string, bytes: Buffer, md: grpc.Metadata, deadlineMs: number): Promise<Answer> {
    return new Promise((resolve) => {
      let done = false;
      const stream = this.client.makeServerStreamRequest(path, identity, identity, bytes, md, { deadline: Date.now() + deadlineMs });
      stream.on("data", () => {
        if (done) return;
        done = true;
        resolve({ code: grpc.status.OK, details: "an event" });
        stream.cancel();
      });
      stream.on("error", (err: grpc.ServiceError) => {
        if (done) return;
        done = true;
        resolve({ code: err.code, details: err.details });
      });
      stream.on("status", (s: grpc.StatusObject) => {
        if (done) return;
        done = true;
        resolve({ code: s.code, details: s.details });
      });
    });
  }
}

async function streamState(jsm: JetStreamManager): Promise<Map<string, { seq: number; bytes: number }>> {
  const out = new Map<string, { seq: number; bytes: number }>();
  for await (const si of jsm.streams.list()) out.set(si.config.name, { seq: si.state.last_seq, bytes: si.state.bytes });
  return out;
}

function changedStreams(before: Map<string, { seq: number }>, after: Map<string, { seq: number }>): string[] {
  const changed: string[] = [];
  for (const [name, s] of after) if (before.get(name)?.seq !== s.seq) changed.push(name);
  return changed;
}

function storedBytes(state: Map<string, { bytes: number }>): number {
  let n = 0;
  for (const s of state.values()) n += s.bytes;
  return n;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const deadlineMs = opts.deadlineMs ?? 5_000;
  const gw = opts.gateway;
  const rng = new Rng(opts.seed);
  const jsm = await jetstreamManager(opts.nc);
  const raw = new RawClient(gw.address);
  const md = () => {
    const m = new grpc.Metadata();
    m.set("authorization", `Bearer ${gw.token}`);
    return m;
  };
  const byCode: Record<string, number> = {};
  const byCategory: Record<string, number> = {};
  const findings: Finding[] = [];
  const count = (code: grpc.status) => (byCode[grpc.status[code]] = (byCode[grpc.status[code]] ?? 0) + 1);
  const find = (check: Check, c: { category: string; what: string }, detail: string) => {
    findings.push({ check, category: c.category, what: c.what, detail: detail.slice(0, 300) });
  };

  // Setup: the objects the cases aim at, then a warm-up so the RSS baseline is a serving gateway's.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const cms: any = new KINDS.ConfigMap.client(gw.address, grpc.credentials.createInsecure(), { "grpc.enable_http_proxy": 0 });
  const typed = <T>(method: string, req: unknown, m = md()): Promise<T> =>
    new Promise((resolve, reject) => cms[method](req, m, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))));
  const cm = (name: string, data: Record<string, string>, extra: Partial<ConfigMap["metadata"]> = {}) =>
    KINDS.ConfigMap.codec.fromPartial({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default", ...extra }, data });
  const runId = rng.name(6);
  const target = await typed<ConfigMap>("create", cm(`fuzz-${runId}-target`, { a: "1" }));
  await typed<ConfigMap>("create", cm(`app.key`, { a: "1" })).catch((err: grpc.ServiceError) => {
    if (err.code !== grpc.status.ALREADY_EXISTS) throw err;
  });
  const targets: FuzzTargets = {
    namespace: "default",
    configMap: { name: target.metadata!.name, resourceVersion: target.metadata!.resourceVersion },
    dottedName: "app.key",
  };
  for (let i = 0; i < 50; i++) {
    await typed("create", cm(`fuzz-${runId}-warm-${i}`, { i: String(i) }));
    await typed("get", { namespace: "default", name: `fuzz-${runId}-warm-${i}` });
  }
  await new Promise((r) => setTimeout(r, 500));
  const rssBefore = gw.rssBytes();
  const storeBefore = await streamState(jsm);
  log(`seed ${opts.seed}: ${opts.requests} hostile requests, then concurrent writes; gateway RSS ${(rssBefore / MIB).toFixed(1)} MiB`);

  // Hostile requests, one at a time.
  let sent = 0;
  let consecutiveDeadlines = 0;
  for (; sent < opts.requests; sent++) {
    if (opts.timeBudgetMs !== undefined && Date.now() - started > opts.timeBudgetMs) {
      log(`time budget spent after ${sent} of ${opts.requests} requests`);
      break;
    }
    if (!gw.running) {
      find("process-exit", { category: "-", what: "-" }, `the gateway exited: ${JSON.stringify(gw.unexpectedExits)}`);
      break;
    }
    const c: FuzzCase = generateCase(rng, targets);
    byCategory[c.category] = (byCategory[c.category] ?? 0) + 1;
    const before = await streamState(jsm);
    // A watch that may be valid is given a short deadline: a refusal, if any, comes at once.
    const a = c.method === "watch" ? await raw.watch(c.path, c.bytes, md(), c.mustRefuse ? deadlineMs : Math.min(deadlineMs, 500)) : await raw.unary(c.path, c.bytes, md(), deadlineMs);
    if (c.method === "watch" && a.code === grpc.status.DEADLINE_EXCEEDED && !c.mustRefuse) {
      // Bytes that happen to decode to a valid watch start one that has nothing to send yet.
      byCode.WATCHING = (byCode.WATCHING ?? 0) + 1;
      raw.reset();
      continue;
    }
    count(a.code);
    if (a.code === grpc.status.DEADLINE_EXCEEDED) {
      find("deadline", c, `no status within ${deadlineMs} ms (${c.kind}.${c.method})`);
      raw.reset();
      // A gateway that stopped answering altogether: the rest would only repeat this finding.
      if (++consecutiveDeadlines >= 5) {
        log(`5 deadlines in a row: stopping after ${sent + 1} requests`);
        sent++;
        break;
      }
      continue;
    }
    consecutiveDeadlines = 0;
    if (IMPRECISE.has(a.code)) find("imprecise-status", c, `${grpc.status[a.code]}: ${a.details}`);
    else if (a.code === grpc.status.UNAVAILABLE || a.code === grpc.status.CANCELLED) find("imprecise-status", c, `${grpc.status[a.code]}: ${a.details}`);
    if (c.mustRefuse && a.code === grpc.status.OK) find("accepted-bad-input", c, `answered OK${c.method === "watch" ? "" : `: ${describeAnswer(c, a.response)}`}`);
    if (c.expect && !c.expect.includes(a.code)) find("unexpected-code", c, `${grpc.status[a.code]} (expected ${c.expect.map((x) => grpc.status[x]).join(" or ")}): ${a.details}`);
    if (a.code !== grpc.status.OK) {
      const changed = changedStreams(before, await streamState(jsm));
      if (changed.length > 0) find("partial-write", c, `refused with ${grpc.status[a.code]} but wrote to ${changed.join(", ")}`);
    } else if (c.data && a.response) {
      const stored = KINDS.ConfigMap.codec.decode(a.response) as ConfigMap;
      if (JSON.stringify(stored.data) !== JSON.stringify(c.data)) find("unicode-roundtrip", c, `sent ${JSON.stringify(c.data).slice(0, 80)}, stored ${JSON.stringify(stored.data).slice(0, 80)}`);
    }
  }
  raw.close();

  // Concurrent conflicting writes.
  const rounds = opts.conflictRounds ?? 10;
  const outcome = async <T>(p: Promise<T>): Promise<{ code: grpc.status; value?: T }> => {
    try {
      const value = await p;
      count(grpc.status.OK);
      return { code: grpc.status.OK, value };
    } catch (err) {
      const code = (err as grpc.ServiceError).code;
      count(code);
      return { code };
    }
  };
  const conflict = (what: string, detail: string) => find("conflicting-writes", { category: "concurrent", what }, detail);
  for (let round = 0; round < rounds && gw.running; round++) {
    const base = `fuzz-${runId}-race-${round}`;
    // 8 updates from one resourceVersion: exactly one wins, the rest are ABORTED.
    const obj = await typed<ConfigMap>("create", cm(`${base}-upd`, { writer: "none" }));
    const updates = await Promise.all(
      Array.from({ length: 8 }, (_, j) => outcome(typed<ConfigMap>("update", { ...obj, data: { writer: String(j) } }))),
    );
    const won = updates.filter((u) => u.code === grpc.status.OK);
    if (won.length !== 1 || updates.some((u) => u.code !== grpc.status.OK && u.code !== grpc.status.ABORTED)) {
      conflict("8 updates from one resourceVersion", `codes ${updates.map((u) => grpc.status[u.code]).join(",")}`);
    } else {
      const stored = await typed<ConfigMap>("get", { namespace: "default", name: `${base}-upd` });
      if (stored.data.writer !== won[0]!.value!.data.writer) conflict("8 updates from one resourceVersion", `stored ${stored.data.writer}, winner ${won[0]!.value!.data.writer}`);
    }
    // 8 creates of one name: exactly one OK, the rest ALREADY_EXISTS.
    const creates = await Promise.all(Array.from({ length: 8 }, (_, j) => outcome(typed<ConfigMap>("create", cm(`${base}-dup`, { writer: String(j) })))));
    if (creates.filter((c) => c.code === grpc.status.OK).length !== 1 || creates.some((c) => c.code !== grpc.status.OK && c.code !== grpc.status.ALREADY_EXISTS)) {
      conflict("8 creates of one name", `codes ${creates.map((c) => grpc.status[c.code]).join(",")}`);
    }
    // 8 creates with one idempotency key: all OK, one object.
    const key = randomUUID();
    const keyed = await Promise.all(
      Array.from({ length: 8 }, () => {
        const m = md();
        m.set("idempotency-key", key);
        return outcome(typed<ConfigMap>("create", cm(`${base}-key`, { k: "v" }), m));
      }),
    );
    const uids = new Set(keyed.map((k) => k.value?.metadata?.uid));
    if (keyed.some((k) => k.code !== grpc.status.OK) || uids.size !== 1) {
      conflict("8 creates with one idempotency key", `codes ${keyed.map((k) => grpc.status[k.code]).join(",")}, ${uids.size} uids`);
    }
    // A delete racing 4 updates: each OK, NOT_FOUND or ABORTED; gone afterwards if the delete won.
    const victim = await typed<ConfigMap>("create", cm(`${base}-del`, { v: "0" }));
    const [del, ...ups] = await Promise.all([
      outcome(typed<ConfigMap>("delete", { namespace: "default", name: `${base}-del`, propagationPolicy: "" })),
      ...Array.from({ length: 4 }, (_, j) => outcome(typed<ConfigMap>("update", { ...victim, data: { v: String(j + 1) } }))),
    ]);
    const allowed = [grpc.status.OK, grpc.status.NOT_FOUND, grpc.status.ABORTED];
    if (![del!, ...ups].every((o) => allowed.includes(o.code))) {
      conflict("a delete racing 4 updates", `codes ${[del!, ...ups].map((o) => grpc.status[o.code]).join(",")}`);
    } else if (del!.code === grpc.status.OK) {
      const left = await outcome(typed<ConfigMap>("get", { namespace: "default", name: `${base}-del` }));
      if (left.code !== grpc.status.NOT_FOUND) conflict("a delete racing 4 updates", `deleted, but Get says ${grpc.status[left.code]}`);
    }
  }
  cms.close();

  // Memory: back near where it started, allowing for what the run stored (cached by the gateway).
  const grown = Math.max(0, storedBytes(await streamState(jsm)) - storedBytes(storeBefore));
  // V8 and malloc keep some of what a burst of large frames took: "near" is within 60% (or
  // 96 MiB) of the start, which still catches the leaks this guards against (hundreds of MiB).
  const rssLimit = Math.max(rssBefore * 1.6, rssBefore + 96 * MIB) + 4 * grown;
  let rssAfter = gw.running ? gw.rssBytes() : 0;
  for (let i = 0; i < 40 && gw.running && rssAfter > rssLimit; i++) {
    await new Promise((r) => setTimeout(r, 250));
    rssAfter = gw.rssBytes();
  }
  if (!gw.running || gw.unexpectedExits.length > 0) {
    if (!findings.some((f) => f.check === "process-exit")) find("process-exit", { category: "-", what: "-" }, `the gateway exited: ${JSON.stringify(gw.unexpectedExits)}`);
  } else if (rssAfter > rssLimit) {
    find("rss", { category: "-", what: "after the run" }, `RSS ${(rssAfter / MIB).toFixed(1)} MiB > limit ${(rssLimit / MIB).toFixed(1)} MiB (before ${(rssBefore / MIB).toFixed(1)} MiB)`);
  }
  return {
    seed: opts.seed,
    requests: sent,
    planned: opts.requests,
    byCode,
    byCategory,
    findings,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    rssLimitBytes: rssLimit,
    durationMs: Date.now() - started,
  };
}

/** The accepted object's name and labels, so a finding shows what got through. */
function describeAnswer(c: FuzzCase, response: Buffer | undefined): string {
  const info = ALL_KINDS.find((k) => k.kind === c.kind);
  if (!info || !response || (c.method !== "create" && c.method !== "update" && c.method !== "get")) return "";
  try {
    const meta = info.codec.decode(response).metadata;
    return JSON.stringify({ namespace: meta?.namespace, name: meta?.name, labels: meta?.labels });
  } catch {
    return "(an undecodable answer)";
  }
}

/** The figures and the findings (grouped by check and case), as lines for a log or a test. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `fuzz seed ${r.seed} (NAVARCH_FUZZ_SEED=${r.seed} repeats it): ${r.requests} hostile requests${r.requests < r.planned ? ` of ${r.planned} planned` : ""} in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  by category: ${Object.entries(r.byCategory).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `  statuses (hostile + concurrent): ${Object.entries(r.byCode).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `  gateway RSS before ${(r.rssBeforeBytes / MIB).toFixed(1)} MiB, after ${(r.rssAfterBytes / MIB).toFixed(1)} MiB (limit ${(r.rssLimitBytes / MIB).toFixed(1)} MiB)`,
  ];
  const groups = new Map<string, { n: number; detail: string }>();
  for (const f of r.findings) {
    const k = `${f.check} | ${f.category}: ${f.what}`;
    const g = groups.get(k);
    if (g) g.n++;
    else groups.set(k, { n: 1, detail: f.detail });
  }
  lines.push(groups.size === 0 ? "  findings: none" : `  findings (${r.findings.length}):`);
  for (const [k, g] of groups) lines.push(`    ${g.n}x ${k} -> ${g.detail}`);
  return lines.join("\n");
}
