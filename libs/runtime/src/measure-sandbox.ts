// Measures what the pod sandbox costs on this machine's Docker (the numbers go into an ADR):
//   (a) N pods as sandbox (navarch/pause) + one app container (navarch/demo) — Navarch's design
//   (b) N lone demo containers on the same bridge network — the cheapest possible "pod"
//   (c) like (b) but each with a fixed IP (IPAMConfig) from a reserved part of the subnet, the one
//       way a sandbox-less single-container pod could keep its IP when recreated
// time to running (serial and 8 at a time) and memory (cgroup working set of each container and
// the PSS of its containerd-shim), then checks the pod IP across an app container restart in (a)
// against a recreated or restarted lone container in (b) and (c).
//
//   node libs/runtime/dist/measure-sandbox.js [N]       (default N=20; needs scripts/build-images.sh)
//
// Everything it creates carries its own node label and network and is removed at the end.

import type Docker from "dockerode";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { DockerRuntime } from "./docker.js";
import { LABELS, type ContainerSpec, type PodRef } from "./runtime.js";

const N = Number(process.argv[2] ?? 20);
const PARALLEL = 8;
const run = randomBytes(3).toString("hex");
const node = `measure-${run}`;
const network = `navarch-measure-${run}`;
const staticNetwork = `navarch-measure-${run}-static`;
// (c)'s subnet: Docker hands out the upper half dynamically, the lower half is ours to assign.
const subnetBase = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
// A cluster of its own: what it makes is never another cluster's to adopt.
const rt = new DockerRuntime({ network, cluster: `measure-${run}` });
const docker = rt.docker;

function pod(name: string): PodRef {
  return { namespace: "measure", name, uid: randomBytes(8).toString("hex"), node };
}

function demoSpec(p: PodRef, sandboxId: string, attempt = 0): ContainerSpec {
  return {
    pod: p, sandboxId, name: "web", image: "navarch/demo:1", command: [], args: [], env: { POD_NAME: p.name },
    workingDir: "", cpuLimitMillis: 0, memoryLimitBytes: 0, cpuRequestMillis: 0, mounts: [], attempt, tty: false,
  };
}

/** (a): a pod the way the runtime makes it. Returns the ids of sandbox and app, and how long the sandbox took. */
async function startPod(name: string): Promise<{ sandbox: string; app: string; ip: string; sandboxMs: number }> {
  const p = pod(name);
  const t0 = performance.now();
  const sb = await rt.runSandbox({ pod: p, hostname: name, ports: [] });
  const sandboxMs = performance.now() - t0;
  const app = await rt.createContainer(demoSpec(p, sb.id));
  await rt.startContainer(app);
  return { sandbox: sb.id, app, ip: sb.ip, sandboxMs };
}

/** (c): a lone container with a fixed address .<10+i> on the static network. */
async function startFixed(name: string, i: number): Promise<string> {
  const c = await docker.createContainer({
    name: `navarch_measure_${name}_${run}`,
    Image: "navarch/demo:1",
    Env: [`POD_NAME=${name}`],
    Hostname: name,
    Labels: { [LABELS.node]: node, [LABELS.role]: "app" },
    HostConfig: { NetworkMode: staticNetwork, RestartPolicy: { Name: "no" } },
    NetworkingConfig: { EndpointsConfig: { [staticNetwork]: { IPAMConfig: { IPv4Address: `${subnetBase}.${10 + i}` } } } },
  });
  await c.start();
  return c.id;
}

/** (b): one demo container straight on the bridge network, no sandbox. */
async function startLone(name: string): Promise<string> {
  const c = await docker.createContainer({
    name: `navarch_measure_${name}_${run}`,
    Image: "navarch/demo:1",
    Env: [`POD_NAME=${name}`],
    Hostname: name,
    Labels: { [LABELS.node]: node, [LABELS.role]: "app" },
    HostConfig: { NetworkMode: network, RestartPolicy: { Name: "no" } },
  });
  await c.start();
  return c.id;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function runAll<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<{ totalMs: number; each: number[]; values: T[] }> {
  const each: number[] = [];
  const values: T[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const r = await timed(() => fn(i));
        each[i] = r.ms;
        values[i] = r.value;
      }
    }),
  );
  return { totalMs: performance.now() - t0, each, values };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Working set as `docker stats` shows it: usage minus inactive file cache (cgroup v1 or v2). */
async function workingSet(id: string): Promise<number> {
  const s = (await docker.getContainer(id).stats({ stream: false, "one-shot": true })) as {
    memory_stats: { usage?: number; stats?: Record<string, number> };
  };
  const m = s.memory_stats;
  const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
  return (m.usage ?? 0) - inactive;
}

/** PSS of the containerd-shim serving this container (each Docker container gets its own shim). */
function shimPss(id: string, procs: { pid: string; cmd: string }[]): number {
  const shim = procs.find((p) => p.cmd.includes("containerd-shim") && p.cmd.includes(id));
  if (!shim) return NaN;
  try {
    const rollup = readFileSync(`/proc/${shim.pid}/smaps_rollup`, "utf8");
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? NaN) * 1024;
  } catch {
    return NaN;
  }
}

function processes(): { pid: string; cmd: string }[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        return { pid, cmd: readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ") };
      } catch {
        return { pid, cmd: "" };
      }
    });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const kib = (b: number) => (Number.isNaN(b) ? "n/a" : `${Math.round(b / 1024)} KiB`);
const ms = (x: number) => `${Math.round(x)} ms`;
const p5095 = (xs: number[]) => `${ms(pct(xs, 50))} / ${ms(pct(xs, 95))}`;
const rate = (totalMs: number) => (N / (totalMs / 1000)).toFixed(1);
const same = (a: string, b: string) => `${a} -> ${b} (${a === b ? "same" : "changed"})`;

async function ipInside(id: string): Promise<string> {
  const r = await rt.exec(id, ["sh", "-c", "ip -4 -o addr show eth0"], 5000);
  return /inet (\S+)\//.exec(r.output)?.[1] ?? "?";
}

async function cleanup(): Promise<void> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${node}`] } });
  await Promise.all(all.map((c) => rt.removeContainer(c.Id)));
}

async function main(): Promise<void> {
  await rt.ensureNetwork();
  await docker.createNetwork({
    Name: staticNetwork,
    Driver: "bridge",
    CheckDuplicate: true,
    IPAM: { Config: [{ Subnet: `${subnetBase}.0/24`, IPRange: `${subnetBase}.128/25` }] },
  });
  // Warm up once (network, image layers in page cache) so the first measured start is not special.
  const warm = await startPod("warmup");
  await startLone("warmup");
  await cleanup();

  const podsSerial = await runAll(N, 1, (i) => startPod(`pod-s${i}`));
  const loneSerial = await runAll(N, 1, (i) => startLone(`lone-s${i}`));
  const procs = processes();
  const sandboxMem = await Promise.all(podsSerial.values.map((v) => workingSet(v.sandbox)));
  const appMem = await Promise.all(podsSerial.values.map((v) => workingSet(v.app)));
  const loneMem = await Promise.all(loneSerial.values.map((id) => workingSet(id)));
  const sandboxShim = podsSerial.values.map((v) => shimPss(v.sandbox, procs));
  const loneShim = loneSerial.values.map((id) => shimPss(id, procs));
  await cleanup();

  const podsPar = await runAll(N, PARALLEL, (i) => startPod(`pod-p${i}`));
  await cleanup();
  const lonePar = await runAll(N, PARALLEL, (i) => startLone(`lone-p${i}`));
  await cleanup();
  const fixedSerial = await runAll(N, 1, (i) => startFixed(`fixed-s${i}`, i));
  await cleanup();
  const fixedPar = await runAll(N, PARALLEL, (i) => startFixed(`fixed-p${i}`, i));
  await cleanup();

  // Pod IP across an app container restart (a), against a lone container recreated or restarted (b).
  const p = pod("ipcheck");
  const sb = await rt.runSandbox({ pod: p, hostname: "ipcheck", ports: [] });
  const first = await rt.createContainer(demoSpec(p, sb.id, 0));
  await rt.startContainer(first);
  const ipBefore = await ipInside(first);
  await rt.removeContainer(first);
  // Other containers starting meanwhile would take a freed address; the sandbox keeps ours.
  await startLone("ip-thief-1");
  const second = await rt.createContainer(demoSpec(p, sb.id, 1));
  await rt.startContainer(second);
  const ipAfter = await ipInside(second);

  const lone1 = await startLone("ip-lone");
  const loneIp1 = await ipInside(lone1);
  await rt.removeContainer(lone1);
  await startLone("ip-thief-2");
  const loneIp2 = await ipInside(await startLone("ip-lone-again"));
  const lone3 = await startLone("ip-restart");
  const restartIp1 = await ipInside(lone3);
  await docker.getContainer(lone3).stop({ t: 5 });
  await startLone("ip-thief-3");
  await docker.getContainer(lone3).start();
  const restartIp2 = await ipInside(lone3);
  const fixed1 = await startFixed("ip-fixed", 100);
  const fixedIp1 = await ipInside(fixed1);
  await rt.removeContainer(fixed1);
  await docker.createContainer({ Image: "navarch/pause:1", Labels: { [LABELS.node]: node }, HostConfig: { NetworkMode: staticNetwork } }).then((c) => c.start());
  const fixedIp2 = await ipInside(await startFixed("ip-fixed-again", 100));
  await cleanup();

  const info = await rt.info();
  console.log(`Docker ${info.version} (API ${info.apiVersion}), ${info.cpus} CPUs, kernel ${info.kernelVersion}; N=${N}, parallel=${PARALLEL}\n`);
  const rows: string[][] = [
    ["", "(a) sandbox + app", "(b) lone container", "(c) lone, fixed IP"],
    ["containers per pod", "2", "1", "1"],
    [`serial: N to running`, ms(podsSerial.totalMs), ms(loneSerial.totalMs), ms(fixedSerial.totalMs)],
    ["serial: per pod p50 / p95", p5095(podsSerial.each), p5095(loneSerial.each), p5095(fixedSerial.each)],
    ["serial: sandbox part p50", ms(pct(podsSerial.values.map((v) => v.sandboxMs), 50)), "-", "-"],
    [`${PARALLEL} at a time: N to running`, ms(podsPar.totalMs), ms(lonePar.totalMs), ms(fixedPar.totalMs)],
    [`${PARALLEL} at a time: pods/s`, rate(podsPar.totalMs), rate(lonePar.totalMs), rate(fixedPar.totalMs)],
    ["app container working set (mean)", kib(mean(appMem)), kib(mean(loneMem)), "as (b)"],
    ["sandbox working set (mean)", kib(mean(sandboxMem)), "-", "-"],
    ["containerd-shim PSS per container (mean)", kib(mean(sandboxShim)), kib(mean(loneShim)), "as (b)"],
    ["extra memory per pod (sandbox + its shim)", kib(mean(sandboxMem) + mean(sandboxShim)), "0", "0"],
    ["IP, app container removed + recreated", same(ipBefore, ipAfter), same(loneIp1, loneIp2), same(fixedIp1, fixedIp2)],
    ["IP, docker stop + start in place", "-", same(restartIp1, restartIp2), "-"],
  ];
  const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(w[c]!)).join("  ").trimEnd());
  console.log(
    `\nratio (a)/(b): serial ${(podsSerial.totalMs / loneSerial.totalMs).toFixed(2)}x, ${PARALLEL} at a time ${(podsPar.totalMs / lonePar.totalMs).toFixed(2)}x`,
  );
  void warm;
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup().catch(() => {});
    await docker.getNetwork(network).remove().catch(() => {});
    await docker.getNetwork(staticNetwork).remove().catch(() => {});
  });
