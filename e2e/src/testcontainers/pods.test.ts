// Pods that really run, end to end: one testcontainers cluster (NATS, the control plane, node-1
// and node-2 as node-agent containers driving this machine's Docker) shared by the whole file.
// Pods are bound by spec.nodeName; what they do is checked from outside: the Pod API (gRPC get and
// watch), navctl (get, describe, logs, delete) and the host's Docker (docker ps/inspect by the
// agent's labels). node-2 runs with NAVARCH_RESTART_BACKOFF_BASE_MS=1000 so a crash loop shows its
// growing backoff (1 s, 2 s, 4 s) in seconds; node-1 keeps the defaults.
//
// What it proves (issue 3, "e2e suites prove"):
//   1. a two-container pod runs; its containers talk on localhost and share the pod IP
//   2. a crashing container is restarted at once, then with growing backoff (CrashLoopBackOff)
//   3. a pod over its memory limit is OOMKilled and reported so
//   4. deleting a pod removes its containers within its grace period (and SIGKILLs after it)
//   5. a killed and restarted node agent adopts its running containers (same container IDs)
//      (5b: nor does it run a completed pod again)
//   5c. a single-container pod has no sandbox: its container is on the pod network itself with a
//      fixed IP, which the container's replacement after a crash keeps
//   6. a pull from a local registry (Debian's docker-registry) works; a missing image shows
//      ErrImagePull, then ImagePullBackOff
//   7. navctl describe pod shows events with counts; navctl logs -f follows
// and that nothing labelled navarch.node=node-1/node-2 is left once the cluster is stopped.
// Timings that the agent's reports could blur (restart backoff, the grace before SIGKILL) are read
// from `docker events`, Docker's own clock; the Pod watch gives the order of what the API showed.
import type { Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import { sleep } from "../cluster.js";
import { listNodes, startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
import { POD_NODE_LABEL } from "./leftovers.js";
import {
  bareId,
  containerStatus,
  docker,
  DockerEvents,
  getPod,
  httpGet,
  inspect,
  isRunning,
  NavctlStream,
  nodeLogTail,
  podContainers,
  podSummary,
  PodWatch,
  REGISTRY_BIN,
  startRegistry,
  waitForPod,
  waitUntil,
  type LocalRegistry,
} from "./pods-helpers.js";

const dockerError = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
})();
const agentBuilt = existsSync(path.join(ROOT, "services", "node-agent", "dist", "main.js"));
const skip = dockerError
  ? `no Docker engine (\`docker info\` failed: ${dockerError})`
  : agentBuilt
    ? false
    : "services/node-agent/dist/main.js is not built yet (no node agent image)";

/** node-2's crash backoff base (NAVARCH_RESTART_BACKOFF_BASE_MS): restarts wait 0, 1 s, 2 s, 4 s ... */
const FAST_BACKOFF_MS = 1_000;
const NODES = ["node-1", "node-2"] as const;

after(stopAllClusters);

/** A Pod manifest (JSON is YAML: navctl apply reads it as is). */
function podManifest(name: string, node: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName: node, ...spec } });
}

/** `navctl get pod NAME --no-headers` -> its STATUS column. */
async function statusColumn(cluster: Cluster, name: string): Promise<string | undefined> {
  const r = await cluster.navctl(["get", "pod", name, "--no-headers"]);
  if (r.code !== 0) return undefined;
  return r.stdout.trim().split(/\s+/)[2];
}

/** The "Events:" part of `navctl describe pod NAME`. */
async function describeEvents(cluster: Cluster, name: string): Promise<string> {
  const r = await cluster.navctl(["describe", "pod", name]);
  assert.equal(r.code, 0, `navctl describe pod ${name} failed: ${r.stderr}`);
  const i = r.stdout.indexOf("\nEvents:");
  return i < 0 ? "" : r.stdout.slice(i + 1);
}

/** The count of an event in describe's table: "(xN over ...)" or 1; 0 when the line is missing. */
function eventCount(events: string, reason: string, message: RegExp): number {
  for (const line of events.split("\n")) {
    const m = /^\s+(Normal|Warning)\s+(\S+)\s+(.*?)\s+node-agent\s+(.*)$/.exec(line);
    if (!m || m[2] !== reason || !message.test(m[4]!)) continue;
    const x = /\(x(\d+) over /.exec(m[3]!);
    return x ? Number(x[1]) : 1;
  }
  return 0;
}

describe("pods on a two-node testcontainers cluster", { skip }, () => {
  let cluster: Cluster;
  let registry: LocalRegistry | undefined;
  const localImages: string[] = [];

  before(
    async () => {
      assert.ok(await ensureDemoImages(), "scripts/build-images.sh does not exist (the demo images navarch/demo:1 ...)");
      cluster = await startCluster({
        nodes: 2,
        nodeEnv: (name): Record<string, string> => (name === "node-2" ? { NAVARCH_RESTART_BACKOFF_BASE_MS: String(FAST_BACKOFF_MS) } : {}),
      });
      console.log(`# startCluster({ nodes: 2 }) took ${cluster.startupMs} ms`);
    },
    { timeout: 300_000 },
  );

  after(
    async () => {
      try {
        await registry?.stop();
        for (const image of localImages) {
          try {
            docker(["rmi", "-f", image]);
          } catch {
            // not there (the pull failed) or in use: the cluster stop removes its users
          }
        }
      } finally {
        await cluster?.stop();
      }
    },
    { timeout: 120_000 },
  );

  const apply = async (manifest: string) => {
    const r = await cluster.navctl(["apply", "-f", "-"], { input: manifest });
    assert.equal(r.code, 0, `navctl apply failed: ${r.stderr}\n${manifest}`);
  };

  it("1. runs a two-container pod: the containers talk on localhost and share the pod IP", { timeout: 90_000 }, async () => {
    const name = "e2e-duo";
    // The sidecar prints its own eth0 address, then what web answers on localhost, every second.
    // ($(...) naming no variable of the container is left alone by the agent's $(VAR) expansion.
    // No `wget -T`: Debian's busybox 1.35 wget segfaults with it.)
    const loop =
      'echo "sidecar ip=$(ip -4 -o addr show eth0 | awk \'{print $4}\' | cut -d/ -f1)"; ' +
      'while true; do echo "got: $(wget -q -O - http://127.0.0.1:8080/ 2>&1)"; sleep 1; done';
    await apply(
      podManifest(name, "node-1", {
        containers: [
          { name: "web", image: "navarch/demo:1", imagePullPolicy: "Never", ports: [{ containerPort: 8080 }] },
          { name: "sidecar", image: "navarch/busybox:1", imagePullPolicy: "Never", command: ["sh", "-c", loop] },
        ],
      }),
    );
    const pod = await waitForPod(cluster, name, "Running with both containers running and a pod IP", 30_000, isRunning);
    const podIP = pod.status!.podIP;

    // sidecar -> web on 127.0.0.1:8080, read back with navctl logs (node agent, over NATS).
    let lastLogs = "";
    const logs = await waitUntil(
      `navctl logs ${name} -c sidecar showing web's answer on localhost`,
      20_000,
      async () => {
        const r = await cluster.navctl(["logs", name, "-c", "sidecar"]);
        lastLogs = `exit ${r.code}\n${r.stdout.slice(-2_000)}\n${r.stderr}`;
        return r.code === 0 && new RegExp(`^got: demo v1 pod=${name}$`, "m").test(r.stdout) ? r.stdout : undefined;
      },
      () => lastLogs,
      500,
    );

    // Both containers see the pod IP on their eth0: the sidecar said so, web answers docker exec.
    assert.equal(/^sidecar ip=(\S*)$/m.exec(logs)?.[1], podIP, `the sidecar's eth0 address is not status.podIP ${podIP}:\n${logs}`);
    const webId = bareId(containerStatus(pod, "web")!.containerID);
    const sidecarId = bareId(containerStatus(pod, "sidecar")!.containerID);
    const webAddr = docker(["exec", webId, "ip", "-4", "-o", "addr", "show", "eth0"]);
    assert.equal(/inet ([\d.]+)\//.exec(webAddr)?.[1], podIP, `web's eth0 is not status.podIP ${podIP}: ${webAddr}`);

    // ... because both joined the sandbox's network namespace, which holds the pod IP.
    const sandboxes = podContainers(name, "node-1", { role: "sandbox" });
    assert.equal(sandboxes.length, 1, `expected one running sandbox container of ${name}, found ${sandboxes.length}`);
    const sandbox = inspect(sandboxes[0]!);
    assert.ok(
      Object.values(sandbox.NetworkSettings.Networks).some((n) => n.IPAddress === podIP),
      `the sandbox's addresses ${JSON.stringify(sandbox.NetworkSettings.Networks)} do not include ${podIP}`,
    );
    for (const id of [webId, sidecarId]) {
      const c = inspect(id);
      assert.equal(c.HostConfig.NetworkMode, `container:${sandbox.Id}`, `${c.Name} does not share the sandbox's network namespace`);
      assert.equal(c.Config.Labels[POD_NODE_LABEL], "node-1");
    }
    assert.deepEqual(podContainers(name, "node-1", { role: "app" }), [webId, sidecarId].sort());

    // The pod IP answers HTTP from the host.
    const res = await httpGet(`http://${podIP}:8080/`);
    assert.equal(res.status, 200);
    assert.match(res.body, new RegExp(`pod=${name}\\b`));
  });

  it("2. restarts a crashing container at once, then with growing backoff (CrashLoopBackOff)", { timeout: 90_000 }, async () => {
    const name = "e2e-crash";
    // Two views of the same crash loop: the Pod as the API shows it (a watch: restartCount,
    // CrashLoopBackOff, when each restart was reported), and Docker's own start/die times of each
    // attempt (precise; what the backoff is defined on: from one exit to the next start).
    const watch = await PodWatch.open(cluster, name);
    const dockerEvents = new DockerEvents(name, "node-2");
    const t0 = performance.now();
    const t0Wall = Date.now();
    const since = (at: number) => Math.round(at - t0);
    let last: Pod | undefined;
    try {
      await apply(
        podManifest(name, "node-2", {
          restartPolicy: "Always",
          containers: [{ name: "app", image: "navarch/exit:1", imagePullPolicy: "Never", args: ["3"] }],
        }),
      );
      // Restarts 1..4 take ~0 + 1 + 2 + 4 s with node-2's backoff base of 1 s.
      await waitUntil(
        `pod ${name} restartCount >= 4 (seen through the watch)`,
        40_000,
        () => {
          if (watch.error) throw watch.error;
          last = watch.events.at(-1)?.pod;
          return (containerStatus(last, "app")?.restartCount ?? 0) >= 4 ? true : undefined;
        },
        () => `${podSummary(last)}\n${dockerEvents.timeline(t0Wall)}${nodeLogTail(cluster, "node-2")}`,
        50,
      );
      // navctl get pod shows the crash loop (restart 5 waits 8 s, so there is time to see it).
      let lastStatus: string | undefined;
      await waitUntil(
        `navctl get pod ${name} STATUS CrashLoopBackOff`,
        15_000,
        async () => ((lastStatus = await statusColumn(cluster, name)) === "CrashLoopBackOff" ? true : undefined),
        () => `last STATUS: ${lastStatus}`,
      );
      // Docker's events of attempts 0..4 (start, die) are in by now, or very soon.
      await waitUntil(
        "docker events: start of attempt 4",
        5_000,
        () => (dockerEvents.of("app", "start").length >= 5 ? true : undefined),
        () => dockerEvents.timeline(t0Wall) + dockerEvents.stderr,
      );
    } finally {
      watch.close();
      dockerEvents.close();
    }

    // The watch: restartCount only grows, CrashLoopBackOff is shown, and when each restart showed.
    const seen = watch.events.map((e) => ({ at: e.at, cs: containerStatus(e.pod, "app") }));
    const counts = seen.map((s) => s.cs?.restartCount ?? 0);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), `restartCount went down: ${counts.join(",")}`);
    assert.ok(
      seen.some((s) => s.cs?.state?.waiting?.reason === "CrashLoopBackOff"),
      "the watch never showed waiting.reason CrashLoopBackOff",
    );
    const restartAt = [1, 2, 3, 4].map((k) => seen.find((s) => (s.cs?.restartCount ?? 0) >= k)?.at);
    // The first container ended: restartCount 0 with a terminated state or lastState.
    const firstExit = seen.find((s) => s.cs?.restartCount === 0 && (s.cs.state?.terminated || s.cs.lastState?.terminated))?.at;
    const reported = `watch: first exit reported at ${firstExit === undefined ? "-" : since(firstExit)} ms, restarts 1-4 reported at ${restartAt.map((x) => (x === undefined ? "?" : since(x))).join(", ")} ms`;
    assert.ok(restartAt.every((x) => x !== undefined), `the watch missed restarts: ${reported}`);

    // Docker: attempt k started at start[k] and died at die[k] (exit code 3 every time).
    const starts = dockerEvents.of("app", "start").map((e) => e.time);
    const dies = dockerEvents.of("app", "die");
    const timeline = `${reported}\ndocker:\n${dockerEvents.timeline(t0Wall)}`;
    assert.ok(dies.length >= 4, `docker reported ${dies.length} exits: ${timeline}`);
    for (const d of dies) assert.equal(d.attributes.exitCode, "3", `an attempt exited with ${d.attributes.exitCode}: ${timeline}`);
    const first = starts[1]! - dies[0]!.time;
    const gaps = [1, 2, 3].map((k) => starts[k + 1]! - dies[k]!.time);
    console.log(
      `# crash loop: first restart ${Math.round(first)} ms after the first exit; then restarted ${gaps.map(Math.round).join(", ")} ms after each exit (docker events); ${reported}`,
    );

    assert.ok(first < 2_000, `the first restart came ${Math.round(first)} ms after the first exit (want < 2 s)\n${timeline}`);
    // Then base, 2 base, 4 base after each exit: never earlier; later only by the cost of a create.
    gaps.forEach((g, i) => {
      const want = FAST_BACKOFF_MS * 2 ** i;
      assert.ok(g >= want * 0.9, `restart ${i + 2} came ${Math.round(g)} ms after the exit before it, want >= ~${want} ms (backoff not honoured)\n${timeline}`);
      assert.ok(g <= want + 3_000, `restart ${i + 2} came ${Math.round(g)} ms after the exit before it, want ~${want} ms\n${timeline}`);
    });
    assert.ok(gaps[0]! < gaps[1]! && gaps[1]! < gaps[2]!, `the waits before restarts do not grow: ${gaps.map(Math.round).join(", ")} ms\n${timeline}`);

    const now = await getPod(cluster, name);
    const cs = containerStatus(now, "app");
    assert.ok((cs?.restartCount ?? 0) >= 4, podSummary(now));
    assert.equal(cs?.lastState?.terminated?.exitCode, 3, `lastState.terminated.exitCode: ${podSummary(now)}`);
    assert.equal(cs?.lastState?.terminated?.reason, "Error");
    assert.equal(now?.status?.phase, "Running", "a crash-looping pod with restartPolicy Always stays in phase Running");
  });

  it("3. reports a pod over its memory limit as OOMKilled (exit code 137)", { timeout: 60_000 }, async () => {
    const name = "e2e-oom";
    await apply(
      podManifest(name, "node-1", {
        restartPolicy: "Never",
        containers: [{ name: "hog", image: "navarch/memhog:1", imagePullPolicy: "Never", resources: { limits: { memory: "32Mi" } } }],
      }),
    );
    const pod = await waitForPod(cluster, name, "phase Failed", 30_000, (p) => p.status?.phase === "Failed");
    const cs = containerStatus(pod, "hog");
    assert.equal(cs?.state?.terminated?.reason, "OOMKilled", podSummary(pod));
    assert.equal(cs?.state?.terminated?.exitCode, 137, podSummary(pod));
    assert.equal(cs?.restartCount, 0, "restartPolicy Never restarted it");
    // Docker agrees: the limit was 32 MiB and the kernel killed it.
    const [id] = podContainers(name, "node-1", { all: true, role: "app" });
    assert.ok(id, `no container of ${name} left to inspect`);
    const c = inspect(id);
    assert.equal(c.HostConfig.Memory, 32 * 1024 * 1024);
    assert.equal(c.State.OOMKilled, true);
    assert.equal(c.State.ExitCode, 137);
    assert.equal(await statusColumn(cluster, name), "OOMKilled");
  });

  it("4a. deletes a pod (grace 5 s): navctl delete returns, the Pod and its containers are gone within the grace", { timeout: 60_000 }, async () => {
    const name = "e2e-graceful";
    await apply(
      podManifest(name, "node-1", {
        terminationGracePeriodSeconds: 5,
        containers: [{ name: "web", image: "navarch/demo:1", imagePullPolicy: "Never" }],
      }),
    );
    await waitForPod(cluster, name, "Running", 30_000, isRunning);
    assert.equal(podContainers(name, "node-1").length, 1, "expected the web container alone (a single-container pod has no sandbox)");

    const t0Wall = Date.now();
    const dockerEvents = new DockerEvents(name, "node-1", t0Wall);
    const t0 = performance.now();
    try {
      const r = await cluster.navctl(["delete", "pod", name], { timeoutMs: 30_000 });
      const deleteMs = performance.now() - t0;
      assert.equal(r.code, 0, `navctl delete failed: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`pod "${name}" deleted`));
      assert.equal(await getPod(cluster, name), undefined, "the Pod still exists after navctl delete (which waits) returned");
      const margin = 3_000;
      await waitUntil(
        `no container labelled ${name} (docker ps -a) within 5 s + ${margin} ms of the delete`,
        Math.max(0, 5_000 + margin - (performance.now() - t0)),
        () => (podContainers(name, "node-1", { all: true }).length === 0 ? true : undefined),
        () => docker(["ps", "-a", "--filter", `label=navarch.pod.name=${name}`]) + "\n" + dockerEvents.timeline(t0Wall),
      );
      console.log(`# delete of ${name} (grace 5 s, stops on SIGTERM): navctl delete returned after ${Math.round(deleteMs)} ms, containers gone after ${Math.round(performance.now() - t0)} ms`);
      // Graceful: web got SIGTERM and exited 0 by itself; no SIGKILL was needed.
      await waitUntil("docker events: web's die", 3_000, () => (dockerEvents.of("web", "die").length ? true : undefined), () => dockerEvents.timeline(t0Wall));
      const timeline = dockerEvents.timeline(t0Wall);
      assert.deepEqual(dockerEvents.of("web", "kill").map((e) => e.attributes.signal), ["15"], `web was not stopped with SIGTERM alone:\n${timeline}`);
      assert.equal(dockerEvents.of("web", "die")[0]!.attributes.exitCode, "0", timeline);
    } finally {
      dockerEvents.close();
    }
  });

  it("4b. kills a container that ignores SIGTERM once its 2 s grace is over (not after 30 s)", { timeout: 60_000 }, async () => {
    const name = "e2e-stubborn";
    // sh as PID 1 ignores SIGTERM: only the SIGKILL after the grace period ends it.
    await apply(
      podManifest(name, "node-2", {
        terminationGracePeriodSeconds: 2,
        containers: [{ name: "app", image: "navarch/busybox:1", imagePullPolicy: "Never", command: ["sh", "-c", "sleep 3600"] }],
      }),
    );
    await waitForPod(cluster, name, "Running", 30_000, isRunning);
    const t0Wall = Date.now();
    const dockerEvents = new DockerEvents(name, "node-2", t0Wall);
    const t0 = performance.now();
    try {
      const r = await cluster.navctl(["delete", "pod", name], { timeoutMs: 40_000 });
      const deleteMs = performance.now() - t0;
      assert.equal(r.code, 0, `navctl delete failed: ${r.stderr}`);
      assert.equal(await getPod(cluster, name), undefined);
      await waitUntil(
        `no container labelled ${name} (docker ps -a)`,
        3_000,
        () => (podContainers(name, "node-2", { all: true }).length === 0 ? true : undefined),
        () => docker(["ps", "-a", "--filter", `label=navarch.pod.name=${name}`]),
      );
      await waitUntil("docker events: app's die", 3_000, () => (dockerEvents.of("app", "die").length ? true : undefined), () => dockerEvents.timeline(t0Wall));
      const timeline = dockerEvents.timeline(t0Wall);
      const term = dockerEvents.of("app", "kill").find((e) => e.attributes.signal === "15");
      const kill = dockerEvents.of("app", "kill").find((e) => e.attributes.signal === "9");
      assert.ok(term && kill, `app did not get SIGTERM, then SIGKILL:\n${timeline}`);
      const graceMs = kill.time - term.time;
      console.log(`# delete of ${name} (grace 2 s, ignores SIGTERM): SIGKILL ${Math.round(graceMs)} ms after SIGTERM; navctl delete returned after ${Math.round(deleteMs)} ms`);
      assert.ok(graceMs >= 1_900, `SIGKILL came ${Math.round(graceMs)} ms after SIGTERM: the 2 s grace period was not given\n${timeline}`);
      assert.ok(graceMs < 3_500, `SIGKILL came ${Math.round(graceMs)} ms after SIGTERM: want ~2 s (the pod's grace period)\n${timeline}`);
      assert.equal(dockerEvents.of("app", "die")[0]!.attributes.exitCode, "137", timeline);
      assert.ok(deleteMs < 10_000, `navctl delete took ${Math.round(deleteMs)} ms: want ~2 s (the grace period), not the default 30 s`);
    } finally {
      dockerEvents.close();
    }
  });

  it("5. a killed and restarted node agent adopts its running containers (same IDs, same restartCount)", { timeout: 90_000 }, async () => {
    const name = "e2e-adopt";
    await apply(podManifest(name, "node-1", { containers: [{ name: "web", image: "navarch/demo:1", imagePullPolicy: "Never" }] }));
    const before = await waitForPod(cluster, name, "Running", 30_000, isRunning);
    const ids = podContainers(name, "node-1");
    assert.equal(ids.length, 1, `expected the web container alone (a single-container pod has no sandbox), found ${ids.length}`);
    const web = containerStatus(before, "web")!;

    // Every running container of node-1 (this pod's and the two-container pod's of test 1): none
    // may be replaced, restarted or removed. (Completed pods: test 5b.)
    const node1 = () => docker(["ps", "--no-trunc", "--filter", `label=${POD_NODE_LABEL}=node-1`, "--format", "{{.ID}} {{.Names}}"]).split("\n").sort();
    const node1Before = node1();

    const agent = cluster.node("node-1");
    const count = (re: RegExp) => (agent.logs().match(re) ?? []).length;
    const runningLine = /"msg":"node agent running"/g;
    const adoptedLine = new RegExp(`"pod":"default/${name}"[^\\n]*"adopted":true[^\\n]*"msg":"pod adopted"`, "g");
    const runs = count(runningLine);
    const adoptions = count(adoptedLine);

    await agent.kill();
    assert.equal(await agent.running(), false, "node-1's agent container still runs after kill()");
    assert.deepEqual(podContainers(name, "node-1"), ids, "the pod's containers did not survive the agent's death");
    await agent.start();
    await waitUntil("node-1's agent running again", 30_000, () => (count(runningLine) > runs ? true : undefined), () => agent.logs().slice(-3_000));
    assert.ok(count(adoptedLine) > adoptions, `the restarted agent did not log "pod adopted" for ${name}:\n${agent.logs().slice(-3_000)}`);
    await waitUntil(
      "node-1 Ready=True after the agent restarted",
      20_000,
      async () => ((await listNodes(cluster)).find((n) => n.metadata?.name === "node-1")?.status?.conditions.find((c) => c.type === "Ready")?.status === "True" ? true : undefined),
    );

    // Give a wrong decision (restart, removal) time to show: the agent reports right after adopting.
    await sleep(3_000);
    assert.deepEqual(podContainers(name, "node-1"), ids, "the restarted agent replaced the pod's containers");
    const afterRestart = await waitForPod(cluster, name, "Running after adoption", 10_000, isRunning);
    const webAfter = containerStatus(afterRestart, "web")!;
    assert.equal(webAfter.containerID, web.containerID, "status.containerStatuses[web].containerID changed");
    assert.equal(webAfter.restartCount, web.restartCount, "restartCount changed");
    assert.equal(afterRestart.status?.podIP, before.status?.podIP, "the pod IP changed");
    for (const id of ids) assert.equal(inspect(id).State.Running, true);
    assert.deepEqual(node1(), node1Before, "the restarted agent changed node-1's running containers");
  });

  // A completed pod's sandbox is stopped; a restarted agent must adopt the pod as finished (its
  // exited containers kept) rather than run it again. Kubernetes never re-runs a completed pod.
  it(
    "5b. a restarted node agent does not run a completed pod (restartPolicy Never) again",
    { timeout: 90_000 },
    async () => {
      const name = "e2e-once";
      await apply(
        podManifest(name, "node-2", {
          restartPolicy: "Never",
          containers: [{ name: "once", image: "navarch/busybox:1", imagePullPolicy: "Never", command: ["sh", "-c", "echo ran once"] }],
        }),
      );
      const done = await waitForPod(cluster, name, "Succeeded", 30_000, (p) => p.status?.phase === "Succeeded");
      const containers = () => podContainers(name, "node-2", { all: true });
      const before = containers();
      const agent = cluster.node("node-2");
      const runningLine = /"msg":"node agent running"/g;
      const runs = (agent.logs().match(runningLine) ?? []).length;
      await agent.kill();
      await agent.start();
      await waitUntil("node-2's agent running again", 30_000, () => ((agent.logs().match(runningLine) ?? []).length > runs ? true : undefined), () => agent.logs().slice(-3_000));
      await sleep(3_000);
      const pod = await getPod(cluster, name);
      assert.equal(pod?.status?.phase, "Succeeded", podSummary(pod));
      assert.equal(containerStatus(pod, "once")?.containerID, containerStatus(done, "once")?.containerID, `the completed container was replaced: ${podSummary(pod)}`);
      assert.deepEqual(containers(), before, "the restarted agent replaced the completed pod's containers (it ran the pod again)");
      const logs = await cluster.navctl(["logs", name]);
      assert.equal(logs.stdout.trim(), "ran once");
    },
  );

  it("5c. a single-container pod runs without a sandbox and keeps its IP when its container crashes and is replaced", { timeout: 90_000 }, async () => {
    const name = "e2e-solo";
    await apply(
      podManifest(name, "node-2", {
        restartPolicy: "Always",
        containers: [{ name: "web", image: "navarch/demo:1", imagePullPolicy: "Never", ports: [{ containerPort: 8080 }] }],
      }),
    );
    const first = await waitForPod(cluster, name, "Running", 30_000, isRunning);
    const podIP = first.status!.podIP;
    const firstId = bareId(containerStatus(first, "web")!.containerID);
    assert.deepEqual(podContainers(name, "node-2", { all: true, role: "sandbox" }), [], "a single-container pod got a sandbox container");
    assert.deepEqual(podContainers(name, "node-2", { all: true }), [firstId]);
    const c = inspect(firstId);
    assert.equal(c.HostConfig.NetworkMode, cluster.podNetwork, "the container is not on the pod network itself");
    assert.equal(c.NetworkSettings.Networks[cluster.podNetwork]?.IPAddress, podIP, "status.podIP is not the container's address");
    assert.equal((await httpGet(`http://${podIP}:8080/`)).status, 200);

    // A crash (SIGKILL from outside): the agent replaces the container (a new one, attempt 1) with the same IP.
    docker(["kill", firstId]);
    const second = await waitForPod(cluster, name, "Running again after the crash", 30_000, (p) => isRunning(p) && containerStatus(p, "web")!.restartCount >= 1);
    const secondId = bareId(containerStatus(second, "web")!.containerID);
    assert.notEqual(secondId, firstId, "the crashed container was not replaced");
    assert.equal(second.status?.podIP, podIP, "the pod IP changed across the restart");
    assert.equal(inspect(secondId).NetworkSettings.Networks[cluster.podNetwork]?.IPAddress, podIP, "the new container does not have the pod IP");
    assert.deepEqual(podContainers(name, "node-2", { all: true, role: "sandbox" }), [], "a sandbox appeared");
    assert.equal((await httpGet(`http://${podIP}:8080/`)).status, 200, "the pod IP does not answer after the restart");
  });

  it("6a. pulls an image from a local registry (IfNotPresent): Pulling/Pulled events, the pod runs", { skip: existsSync(REGISTRY_BIN) ? false : `${REGISTRY_BIN} not installed (apt-get install -y docker-registry)`, timeout: 120_000 }, async () => {
    registry ??= await startRegistry();
    const image = `${registry.host}/demo:e2e`;
    localImages.push(image);
    docker(["tag", "navarch/demo:1", image]);
    docker(["push", image], 120_000);
    docker(["rmi", image]);
    assert.throws(() => docker(["image", "inspect", image]), `${image} is still present locally: the pod would not pull it`);

    const name = "e2e-pulled";
    await apply(podManifest(name, "node-2", { containers: [{ name: "web", image, imagePullPolicy: "IfNotPresent" }] }));
    const pod = await waitForPod(cluster, name, "Running", 60_000, isRunning);
    assert.ok(docker(["image", "inspect", "-f", "{{.Id}}", image]).startsWith("sha256:"), `${image} is not present after the pod ran`);
    const res = await httpGet(`http://${pod.status!.podIP}:8080/`);
    assert.match(res.body, new RegExp(`pod=${name}\\b`));

    const escaped = image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    let events = "";
    await waitUntil(
      `navctl describe pod ${name} showing Pulling and Pulled`,
      10_000,
      async () => {
        events = await describeEvents(cluster, name);
        return eventCount(events, "Pulling", new RegExp(`Pulling image "${escaped}"`)) >= 1 &&
          eventCount(events, "Pulled", new RegExp(`Successfully pulled image "${escaped}"`)) >= 1
          ? true
          : undefined;
      },
      () => events,
    );
  });

  it("6b. a missing image shows ErrImagePull, then ImagePullBackOff, in navctl get pod", { skip: existsSync(REGISTRY_BIN) ? false : `${REGISTRY_BIN} not installed`, timeout: 90_000 }, async () => {
    registry ??= await startRegistry();
    const name = "e2e-nope";
    const image = `${registry.host}/nope:1`;
    // Watch before the pod exists, so the short-lived ErrImagePull (~1 s) cannot be missed.
    const w = new NavctlStream(cluster, ["get", "pods", "-w", "--field-selector", `metadata.name=${name}`]);
    try {
      await waitUntil("navctl get pods -w listing (no pod yet)", 15_000, () => (/No resources found/.test(w.stdout + w.stderr) ? true : undefined), () => w.stdout + w.stderr);
      await apply(podManifest(name, "node-1", { containers: [{ name: "web", image, imagePullPolicy: "IfNotPresent" }] }));
      const statuses = await w.waitLines("STATUS ErrImagePull, later ImagePullBackOff", 30_000, (lines) => {
        const s = lines.map((l) => l.text.trim().split(/\s+/)).filter((f) => f[0] === name).map((f) => f[2]);
        const err = s.indexOf("ErrImagePull");
        return err >= 0 && s.indexOf("ImagePullBackOff", err) > err ? s : undefined;
      });
      console.log(`# ${name} STATUS sequence: ${statuses.join(" -> ")}`);
    } finally {
      await w.stop();
    }
    const pod = await getPod(cluster, name);
    const waiting = containerStatus(pod, "web")?.state?.waiting?.reason;
    assert.ok(waiting === "ImagePullBackOff" || waiting === "ErrImagePull", podSummary(pod));
    assert.equal(pod?.status?.phase, "Pending", podSummary(pod));
    const events = await describeEvents(cluster, name);
    assert.ok(eventCount(events, "Failed", /^Error: ErrImagePull$/) >= 1, `no Failed "Error: ErrImagePull" event:\n${events}`);
    assert.ok(eventCount(events, "BackOff", /Back-off pulling image/) >= 1, `no BackOff event:\n${events}`);
  });

  it("7. navctl describe pod shows Pulled/Created/Started with counts; navctl logs -f follows", { timeout: 90_000 }, async () => {
    // A crash loop on node-2 (fast backoff) repeats the same events: their counts grow.
    const crasher = "e2e-events";
    const t0 = performance.now();
    const mark = (what: string) => console.log(`# 7: ${what} after ${Math.round(performance.now() - t0)} ms`);
    await apply(
      podManifest(crasher, "node-2", { containers: [{ name: "app", image: "navarch/exit:1", imagePullPolicy: "Never", args: ["1"] }] }),
    );
    await waitForPod(cluster, crasher, "restartCount >= 2", 30_000, (p) => (containerStatus(p, "app")?.restartCount ?? 0) >= 2);
    mark("restartCount >= 2");
    let events = "";
    const counts = () => ({
      Pulled: eventCount(events, "Pulled", /Container image "navarch\/exit:1" already present on machine/),
      Created: eventCount(events, "Created", /^Created container app$/),
      Started: eventCount(events, "Started", /^Started container app$/),
      BackOff: eventCount(events, "BackOff", /^Back-off restarting failed container app in pod /),
    });
    await waitUntil(
      `navctl describe pod ${crasher}: Pulled, Created, Started (x3 or more) and BackOff`,
      15_000,
      async () => {
        events = await describeEvents(cluster, crasher);
        const c = counts();
        return c.Pulled >= 3 && c.Created >= 3 && c.Started >= 3 && c.BackOff >= 1 ? c : undefined;
      },
      () => `${JSON.stringify(counts())}\n${events}`,
    );
    mark(`describe counts ${JSON.stringify(counts())}`);
    assert.match(events, /^\s+Normal\s+Created\s+\S+ \(x\d+ over \S+\)\s+node-agent\s+Created container app$/m);

    // logs -f of a pod on node-1 (whose agent was killed and restarted in test 5): lines keep coming.
    const ticker = "e2e-ticker";
    await apply(
      podManifest(ticker, "node-1", {
        containers: [
          { name: "tick", image: "navarch/busybox:1", imagePullPolicy: "Never", command: ["sh", "-c", 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done'] },
        ],
      }),
    );
    await waitForPod(cluster, ticker, "Running", 30_000, isRunning);
    mark(`${ticker} Running`);
    const f = new NavctlStream(cluster, ["logs", "-f", ticker]);
    let end: Awaited<ReturnType<NavctlStream["stop"]>>;
    try {
      const ticks = await f.waitLines("at least 4 tick lines, arriving over time", 20_000, (lines) => {
        const t = lines.filter((l) => /^tick \d+$/.test(l.text));
        return t.length >= 4 && t.at(-1)!.at - t[0]!.at >= 1_500 ? t : undefined;
      });
      const numbers = ticks.map((t) => Number(t.text.split(" ")[1]));
      assert.deepEqual(numbers, numbers.map((_, i) => numbers[0]! + i), `ticks out of order or missing: ${numbers.join(",")}`);
      assert.equal(f.running, true, "navctl logs -f ended by itself");
      mark(`logs -f: ${ticks.length} lines over ${Math.round(ticks.at(-1)!.at - ticks[0]!.at)} ms`);
    } finally {
      end = await f.stop("SIGINT"); // what Ctrl-C does; SIGKILL after 5 s
    }
    assert.ok(end.code === 0 || end.signal === "SIGINT", `navctl logs -f ended with ${JSON.stringify(end)} on SIGINT: ${f.stderr}`);
  });
});

describe("pods: cleanup", { skip }, () => {
  it("leaves no container labelled navarch.node=node-1/node-2 once the cluster is stopped", { timeout: 120_000 }, async () => {
    await stopAllClusters();
    for (const node of NODES) {
      const left = docker(["ps", "-a", "--filter", `label=${POD_NODE_LABEL}=${node}`, "--format", "{{.ID}} {{.Names}} {{.Status}}"]);
      assert.equal(left, "", `containers of ${node} left behind:\n${left}`);
    }
  });
});
