// Health checks end to end on a one-node testcontainers cluster (node prb-1, an agent container
// driving this machine's Docker; it sits on the cluster's pod network too, as a node's kubelet
// does, so its HTTP and TCP probes reach the pod IPs). Pods are applied with navctl; what they do is
// read back through the Pod API (gRPC get and watch), `navctl get` / `navctl describe`, and the
// host's Docker. Probe targets are switched with `docker exec` into the pod's container.
//
//   1. readiness: a pod whose readiness probe fails is running but not Ready (READY 0/1), comes
//      back when the probe passes, and nothing restarts
//   2. liveness: a failing liveness probe restarts the container (restartCount grows, a new
//      container), with Unhealthy and Killing events in `navctl describe pod`
//   3. startup: a startup probe holds readiness back until it passes
import type { Pod } from "@navarch/api";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import { startCluster, stopAllClusters, type Cluster } from "./cluster.js";
import { ensureDemoImages, ROOT } from "./images.js";
import { bareId, containerStatus, docker, getPod, nodeLogTail, podSummary, PodWatch, waitForPod, waitUntil } from "./pods-helpers.js";

const dockerError = (() => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 });
    return undefined;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
})();
const agentBuilt = existsSync(path.join(ROOT, "services", "node-agent", "dist", "main.js"));
const skip = dockerError ? `no Docker engine (\`docker info\` failed: ${dockerError})` : agentBuilt ? false : "services/node-agent/dist/main.js is not built yet";

const NODE = "prb-1";

after(stopAllClusters);

function podManifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName: NODE, ...spec } });
}

const condition = (pod: Pod | undefined, type: string) => pod?.status?.conditions.find((c) => c.type === type)?.status;

describe("probes on a testcontainers cluster", { skip }, () => {
  let cluster: Cluster;

  before(
    async () => {
      assert.ok(await ensureDemoImages(), "scripts/build-images.sh does not exist (the demo images)");
      // A short crash backoff: a second liveness kill would otherwise wait 10 s.
      cluster = await startCluster({ nodes: 1, nodeNamePrefix: "prb-", nodeEnv: { NAVARCH_RESTART_BACKOFF_BASE_MS: "1000" } });
    },
    { timeout: 300_000 },
  );

  after(() => cluster?.stop(), { timeout: 120_000 });

  const apply = async (manifest: string) => {
    const r = await cluster.navctl(["apply", "-f", "-"], { input: manifest });
    assert.equal(r.code, 0, `navctl apply failed: ${r.stderr}\n${manifest}`);
  };

  /** `navctl get pod NAME --no-headers` -> [READY, STATUS, RESTARTS]. */
  const getColumns = async (name: string) => {
    const r = await cluster.navctl(["get", "pod", name, "--no-headers"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split(/\s+/).slice(1, 4);
  };

  it("1. readiness: a failing readiness probe makes the pod not Ready without restarting it; it is Ready again when the probe passes", { timeout: 120_000 }, async () => {
    const name = "prb-ready";
    await apply(
      podManifest(name, {
        containers: [
          {
            name: "web",
            image: "navarch/demo:1",
            imagePullPolicy: "Never",
            ports: [{ name: "http", containerPort: 8080 }],
            // navarch/demo serves /ready until /tmp/www/ready is removed.
            readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      }),
    );
    const ready = await waitForPod(cluster, name, "Ready", 30_000, (p) => condition(p, "Ready") === "True");
    assert.equal(containerStatus(ready, "web")!.ready, true);
    assert.deepEqual(await getColumns(name), ["1/1", "Running", "0"]);
    const id = bareId(containerStatus(ready, "web")!.containerID);

    const watch = await PodWatch.open(cluster, name);
    try {
      const t0 = performance.now();
      docker(["exec", id, "rm", "/tmp/www/ready"]);
      const unready = await waitForPod(cluster, name, "not Ready while running", 30_000, (p) => condition(p, "Ready") === "False" && !!containerStatus(p, "web")?.state?.running);
      const seenAt = watch.events.find((e) => condition(e.pod, "Ready") === "False")?.at;
      console.log(`# readiness failure seen through the watch ${seenAt === undefined ? "?" : Math.round(seenAt - t0)} ms after the file went`);
      assert.equal(condition(unready, "ContainersReady"), "False");
      assert.equal(containerStatus(unready, "web")!.ready, false);
      assert.equal(unready.status!.phase, "Running");
      assert.deepEqual(await getColumns(name), ["0/1", "Running", "0"]);

      docker(["exec", id, "cp", "/tmp/www/index.html", "/tmp/www/ready"]);
      const again = await waitForPod(cluster, name, "Ready again", 30_000, (p) => condition(p, "Ready") === "True");
      assert.equal(bareId(containerStatus(again, "web")!.containerID), id, "the same container: readiness restarts nothing");
      assert.equal(containerStatus(again, "web")!.restartCount, 0);
      // The API showed Ready go False, then True, in that order.
      const readiness = watch.events.map((e) => condition(e.pod, "Ready")).filter((s, i, all) => s && s !== all[i - 1]);
      assert.deepEqual(readiness.slice(-2), ["False", "True"], `Ready as the watch saw it: ${readiness.join(" ")}`);
    } finally {
      watch.close();
    }
    const describe = await cluster.navctl(["describe", "pod", name]);
    assert.match(describe.stdout, /Warning\s+Unhealthy\s+.*Readiness probe failed: HTTP probe failed with statuscode: 404/);
  });

  it("2. liveness: a failing liveness probe restarts the container; describe shows Unhealthy and Killing", { timeout: 120_000 }, async () => {
    const name = "prb-live";
    await apply(
      podManifest(name, {
        containers: [
          {
            name: "web",
            image: "navarch/demo:1",
            imagePullPolicy: "Never",
            ports: [{ containerPort: 8080 }],
            // /healthz is written when the container starts: a new container is healthy again.
            livenessProbe: { httpGet: { path: "/healthz", port: "8080" }, periodSeconds: 1, failureThreshold: 2 },
          },
        ],
      }),
    );
    const first = await waitForPod(cluster, name, "running", 30_000, (p) => !!containerStatus(p, "web")?.state?.running);
    const id = bareId(containerStatus(first, "web")!.containerID);
    docker(["exec", id, "rm", "/tmp/www/healthz"]);
    const restarted = await waitForPod(
      cluster,
      name,
      "restarted by its liveness probe",
      30_000,
      (p) => (containerStatus(p, "web")?.restartCount ?? 0) >= 1 && !!containerStatus(p, "web")?.state?.running,
    );
    const web = containerStatus(restarted, "web")!;
    assert.notEqual(bareId(web.containerID), id, "a new container");
    assert.ok(web.lastState?.terminated, `the killed container is lastState: ${podSummary(restarted)}`);

    let text = "";
    await waitUntil(
      "describe pod showing Unhealthy and Killing",
      20_000,
      async () => {
        const r = await cluster.navctl(["describe", "pod", name]);
        text = r.stdout;
        return /Warning\s+Unhealthy\s+.*Liveness probe failed: HTTP probe failed with statuscode: 404/.test(text) &&
          /Normal\s+Killing\s+.*Container web failed liveness probe, will be restarted/.test(text)
          ? true
          : undefined;
      },
      () => `${text}${nodeLogTail(cluster, NODE)}`,
      500,
    );
    assert.match(text, /Restart Count:\s+[1-9]/);
    // The new container is healthy: it keeps running (no further kills over several periods).
    await new Promise((r) => setTimeout(r, 4_000));
    const later = await getPod(cluster, name);
    assert.equal(containerStatus(later, "web")!.restartCount, web.restartCount, podSummary(later));
  });

  it("3. startup: a startup probe holds readiness back until it passes", { timeout: 120_000 }, async () => {
    const name = "prb-startup";
    const watch = await PodWatch.open(cluster, name);
    try {
      await apply(
        podManifest(name, {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: "slow",
              image: "navarch/busybox:1",
              imagePullPolicy: "Never",
              ports: [{ containerPort: 8080 }],
              // Opens its port only after a few seconds.
              command: ["sh", "-c", "trap 'exit 0' TERM; sleep 5; mkdir -p /tmp/www; httpd -f -p 8080 -h /tmp/www & wait"],
              startupProbe: { tcpSocket: { port: "8080" }, periodSeconds: 1, failureThreshold: 60 },
              readinessProbe: { tcpSocket: { port: "8080" }, periodSeconds: 1 },
            },
          ],
        }),
      );
      const started = await waitForPod(cluster, name, "started and Ready", 60_000, (p) => condition(p, "Ready") === "True");
      assert.equal(containerStatus(started, "slow")!.started, true);
      assert.equal(containerStatus(started, "slow")!.restartCount, 0);
      await waitUntil("the watch to show Ready", 10_000, () => (watch.events.some((e) => condition(e.pod, "Ready") === "True") ? true : undefined));
      const seen = watch.events.map((e) => containerStatus(e.pod, "slow")).filter((c) => c?.state?.running);
      assert.ok(
        seen.some((c) => c!.started === false && c!.ready === false),
        `the watch never showed the container running but not started: ${JSON.stringify(seen.map((c) => [c!.started, c!.ready]))}`,
      );
      assert.ok(seen.every((c) => c!.started || !c!.ready), "never ready before started");
    } finally {
      watch.close();
    }
  });
});
