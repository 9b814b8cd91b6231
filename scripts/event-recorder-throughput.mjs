#!/usr/bin/env node
// Events/s stored, against a real nats-server (started here in a temp dir, on 127.0.0.1), in the
// same run, alternating which goes first:
//   before    how events were written before the recorder batched (its write path, reproduced
//             here): one KV write per event, in turn - a create, or a compare-and-swap count update
//   1         the recorder with one write in flight (folding repeats, no pipelining)
//   default   the recorder as services use it (NAVARCH_EVENT_WRITES_IN_FLIGHT overrides: a sweep)
// (NAVARCH_EVENT_WRITERS=before,default runs only those.)
//
//   npm run build && node_modules/.bin/node scripts/event-recorder-throughput.mjs [events] [rounds]
//
// Two loads, each recorded in one burst, timed from the first event to the last write stored:
//   distinct  N Scheduled events about N pods (a scheduler binding N pods)
//   repeats   N BackOff events about 100 pods, N/100 each (crash-looping containers)
import { KINDS } from "@navarch/api";
import { correlatedEventName, DEFAULT_EVENT_WRITES_IN_FLIGHT, ObjectEventRecorder } from "@navarch/controller";
import { NatsServerProcess } from "@navarch/nats-embedded";
import { connectNats, ResourceStore, timestamp } from "@navarch/store";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const LOADS = {
  distinct: (r) => {
    for (let i = 0; i < N; i++) {
      r.record({ kind: "Pod", apiVersion: "v1", namespace: "default", name: `pod-${i}`, uid: `uid-${i}` }, "Normal", "Scheduled", `Successfully assigned default/pod-${i} to node-${i % 500}`);
    }
  },
  repeats: (r) => {
    for (let i = 0; i < N; i++) {
      const p = i % 100;
      r.record({ kind: "Pod", apiVersion: "v1", namespace: "default", name: `pod-${p}`, uid: `uid-${p}` }, "Warning", "BackOff", "Back-off restarting failed container app");
    }
  },
};

const dir = mkdtempSync(join(tmpdir(), "navarch-event-throughput-"));
const server = await NatsServerProcess.start({ storeDir: dir });
const nc = await connectNats({ url: server.url, name: "event-throughput" });
let bucket = 0;

/** The write path before: each event in turn, created or counted on its Event by compare-and-swap. */
class OneWriteAtATime {
  constructor(store) {
    this.store = store;
    this.cache = new Map();
    this.events = [];
    this.written = 0;
    this.writes = 0;
  }
  record(object, type, reason, message) {
    this.events.push({ object, type, reason, message, at: Date.now() });
  }
  async idle() {
    for (const e of this.events) {
      const name = correlatedEventName(e.object.name, e.object.uid, e.reason, e.message);
      const current = this.cache.get(name);
      const at = timestamp(new Date(e.at));
      const next = current
        ? { ...current, count: current.count + 1, lastTimestamp: at }
        : KINDS.Event.codec.fromPartial({
            apiVersion: "v1",
            kind: "Event",
            metadata: { name, namespace: e.object.namespace },
            involvedObject: e.object,
            reason: e.reason,
            message: e.message,
            source: { component: "bench" },
            firstTimestamp: at,
            lastTimestamp: at,
            count: 1,
            type: e.type,
          });
      this.cache.set(name, current ? await this.store.update(next) : await this.store.create(next));
      this.writes++;
      this.written++;
    }
  }
}

const WRITERS = {
  before: (store) => Object.assign(new OneWriteAtATime(store), { dropped: 0, shed: 0, failed: 0 }),
  1: (store) => new ObjectEventRecorder({ store, component: "bench", concurrency: 1, maxQueue: N }),
  default: (store) =>
    new ObjectEventRecorder({ store, component: "bench", maxQueue: N, concurrency: Number(process.env.NAVARCH_EVENT_WRITES_IN_FLIGHT) || undefined }),
};

async function measure(load, writer) {
  const store = await ResourceStore.open(nc, KINDS.Event, { bucket: `events-throughput-${++bucket}` });
  const recorder = WRITERS[writer](store);
  const start = performance.now();
  LOADS[load](recorder);
  await recorder.idle();
  const seconds = (performance.now() - start) / 1000;
  const lost = recorder.dropped + recorder.shed + recorder.failed;
  await store.kv.destroy();
  return { eventsPerSecond: recorder.written / seconds, writes: recorder.writes, lost };
}

try {
  console.log(`nats-server ${server.version}, ${N} events per run, ${ROUNDS} rounds`);
  const inFlight = Number(process.env.NAVARCH_EVENT_WRITES_IN_FLIGHT) || DEFAULT_EVENT_WRITES_IN_FLIGHT;
  console.log("| load | writer | events/s (each round) | KV writes | not stored |");
  console.log("|---|---|---|---|---|");
  for (const load of Object.keys(LOADS)) {
    const writers = (process.env.NAVARCH_EVENT_WRITERS ?? "before,1,default").split(",");
    const results = new Map(writers.map((w) => [w, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? writers : [...writers].reverse();
      for (const w of order) results.get(w).push(await measure(load, w));
    }
    for (const [w, rs] of results) {
      const label = { before: "before: one write per event", 1: "recorder, 1 write in flight", default: `recorder, ${inFlight} in flight` }[w];
      console.log(`| ${load} | ${label} | ${rs.map((r) => Math.round(r.eventsPerSecond)).join(", ")} | ${rs[0].writes} | ${rs.reduce((a, r) => a + r.lost, 0)} |`);
    }
  }
} finally {
  await nc.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
