// Table tests of the pure Docker translations: names, labels, limits, command/args, ports,
// image references, event mapping, status mapping.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dockerOptions } from "./docker-client.js";
import { mapEvent } from "./docker-events.js";
import { normalizedRef, parseImageRef } from "./docker-images.js";
import { appCreateOptions, containerName, cpuShares, nanoCpus, podHostname, sandboxCreateOptions, sandboxName } from "./docker-spec.js";
import { mapState, statusFromInspect } from "./docker-status.js";
import { goArch } from "./docker.js";
import { LABELS, type ContainerSpec, type PodRef } from "./runtime.js";

const pod: PodRef = { namespace: "shop", name: "web-7f9c", uid: "0a1b2c3d-4e5f-6789-abcd-ef0123456789", node: "n1" };

function spec(over: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    pod,
    sandboxId: "sb123",
    name: "app",
    image: "navarch/demo:1",
    command: [],
    args: [],
    env: {},
    workingDir: "",
    cpuLimitMillis: 0,
    memoryLimitBytes: 0,
    cpuRequestMillis: 0,
    mounts: [],
    attempt: 0,
    tty: false,
    ...over,
  };
}

const CLUSTER = "5b0e8c1e-3f0a-4d7e-9a51-2c6f1d9e7b42";
const opts = { hostCpus: 2, logMaxSize: "10m", logMaxFiles: 3, network: "navarch", cluster: CLUSTER };

describe("names and labels", () => {
  test("sandbox and container names carry namespace, pod, uid prefix, container and attempt", () => {
    assert.equal(sandboxName(pod), "navarch_shop_web-7f9c_0a1b2c3d_sandbox");
    assert.equal(containerName(pod, "app", 4), "navarch_shop_web-7f9c_0a1b2c3d_app_4");
    assert.equal(containerName({ ...pod, name: "we_ird/x" }, "c", 0), "navarch_shop_we-ird-x_0a1b2c3d_c_0");
  });

  test("every label is set on an app container, the cluster's id first", () => {
    assert.deepEqual(appCreateOptions(spec({ attempt: 2 }), opts).Labels, {
      [LABELS.cluster]: CLUSTER,
      [LABELS.node]: "n1",
      [LABELS.namespace]: "shop",
      [LABELS.pod]: "web-7f9c",
      [LABELS.podUid]: pod.uid,
      [LABELS.container]: "app",
      [LABELS.role]: "app",
      [LABELS.attempt]: "2",
    });
  });

  test("hostnames are cut to a DNS label", () => {
    assert.equal(podHostname("a".repeat(70)), "a".repeat(63));
    assert.equal(podHostname(`${"a".repeat(62)}-b`), "a".repeat(62));
  });
});

describe("command and args (Kubernetes semantics)", () => {
  const cases: [string, Partial<ContainerSpec>, unknown, unknown][] = [
    ["neither: image defaults", {}, undefined, undefined],
    ["args only: image ENTRYPOINT, our CMD", { args: ["3"] }, undefined, ["3"]],
    ["command only: our ENTRYPOINT, no CMD", { command: ["sleep", "9"] }, ["sleep", "9"], undefined],
    ["both", { command: ["sh", "-c"], args: ["echo hi"] }, ["sh", "-c"], ["echo hi"]],
  ];
  for (const [name, over, entrypoint, cmd] of cases) {
    test(name, () => {
      const o = appCreateOptions(spec(over), opts);
      assert.deepEqual(o.Entrypoint, entrypoint);
      assert.deepEqual(o.Cmd, cmd);
    });
  }

  test("env, working dir, tty, mounts", () => {
    const o = appCreateOptions(
      spec({
        env: { A: "1", B: "x=y" },
        workingDir: "/w",
        tty: true,
        mounts: [
          { hostPath: "/data", containerPath: "/d", readOnly: true },
          { hostPath: "/tmp/x", containerPath: "/x", readOnly: false },
        ],
      }),
      opts,
    );
    assert.deepEqual(o.Env, ["A=1", "B=x=y"]);
    assert.equal(o.WorkingDir, "/w");
    assert.equal(o.Tty, true);
    assert.deepEqual(o.HostConfig?.Binds, ["/data:/d:ro", "/tmp/x:/x"]);
  });
});

describe("resources", () => {
  test("limits and request map to NanoCpus, Memory (no swap) and CpuShares", () => {
    const h = appCreateOptions(spec({ cpuLimitMillis: 500, memoryLimitBytes: 64 << 20, cpuRequestMillis: 250 }), opts).HostConfig!;
    assert.equal(h.NanoCpus, 500_000_000);
    assert.equal(h.Memory, 64 << 20);
    assert.equal(h.MemorySwap, 64 << 20);
    assert.equal(h.CpuShares, 256);
  });

  test("no limits: nothing set", () => {
    const h = appCreateOptions(spec(), opts).HostConfig!;
    assert.equal(h.NanoCpus, undefined);
    assert.equal(h.Memory, undefined);
    assert.equal(h.CpuShares, undefined);
  });

  test("CPU limit clamped to what Docker accepts; shares at least 2", () => {
    assert.equal(nanoCpus(4000, 2), 2_000_000_000);
    assert.equal(nanoCpus(1, 2), 10_000_000);
    assert.equal(nanoCpus(4000, 0), 4_000_000_000);
    assert.equal(cpuShares(1), 2);
    assert.equal(cpuShares(1000), 1024);
  });

  test("app containers join the sandbox's network and IPC namespaces; Docker never restarts them", () => {
    const h = appCreateOptions(spec(), opts).HostConfig!;
    assert.equal(h.NetworkMode, "container:sb123");
    assert.equal(h.IpcMode, "container:sb123");
    assert.deepEqual(h.RestartPolicy, { Name: "no" });
    assert.equal(appCreateOptions(spec(), opts).NetworkingConfig, undefined);
  });

  test("a container with its own network is on the pod network with its fixed IP, hostname, hostPorts and DNS", () => {
    const o = appCreateOptions(
      spec({
        sandboxId: "",
        network: {
          ip: "10.244.16.7",
          hostname: "web-7f9c",
          ports: [
            { containerPort: 8080, hostPort: 18080, protocol: "TCP", hostIP: "" },
            { containerPort: 9090, hostPort: 0, protocol: "TCP", hostIP: "" },
          ],
          dns: { servers: ["10.244.0.1"], searches: ["shop.svc.cluster.local"], options: ["ndots:5"] },
        },
      }),
      opts,
    );
    const h = o.HostConfig!;
    assert.equal(h.NetworkMode, "navarch");
    assert.equal(h.IpcMode, undefined, "no sandbox IPC to join");
    assert.deepEqual(o.NetworkingConfig, { EndpointsConfig: { navarch: { IPAMConfig: { IPv4Address: "10.244.16.7" } } } });
    assert.equal(o.Hostname, "web-7f9c");
    assert.deepEqual(h.PortBindings, { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }] });
    assert.deepEqual(Object.keys(o.ExposedPorts ?? {}), ["8080/tcp"]);
    assert.deepEqual(h.Dns, ["10.244.0.1"]);
    assert.deepEqual(h.DnsSearch, ["shop.svc.cluster.local"]);
    assert.deepEqual(h.DnsOptions, ["ndots:5"]);
    assert.equal(o.Labels?.[LABELS.podIP], "10.244.16.7", "the IP is read back from the label on adoption");
    assert.equal(o.Labels?.[LABELS.role], "app");
  });
});

describe("sandbox", () => {
  test("hostPorts are published on their hostIP, 127.0.0.1 by default; ports without hostPort are not", () => {
    const o = sandboxCreateOptions(
      {
        pod,
        hostname: "web-7f9c",
        ports: [
          { containerPort: 8080, hostPort: 18080, protocol: "TCP", hostIP: "" },
          { containerPort: 53, hostPort: 1053, protocol: "UDP", hostIP: "127.0.0.2" },
          { containerPort: 9090, hostPort: 0, protocol: "TCP", hostIP: "" },
        ],
        dns: { servers: ["10.0.0.10"], searches: ["shop.svc"], options: ["ndots:5"] },
      },
      "navarch",
      CLUSTER,
    );
    assert.equal(o.Image, "navarch/pause:1");
    assert.equal(o.Hostname, "web-7f9c");
    assert.equal(o.HostConfig?.NetworkMode, "navarch");
    assert.deepEqual(o.HostConfig?.PortBindings, {
      "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }],
      "53/udp": [{ HostIp: "127.0.0.2", HostPort: "1053" }],
    });
    assert.deepEqual(Object.keys(o.ExposedPorts ?? {}), ["8080/tcp", "53/udp"]);
    assert.deepEqual(o.HostConfig?.Dns, ["10.0.0.10"]);
    assert.equal(o.Labels?.[LABELS.role], "sandbox");
    assert.equal(o.Labels?.[LABELS.cluster], CLUSTER, "a sandbox carries its cluster's id too");
  });
});

describe("image references", () => {
  const cases: [string, string, string][] = [
    ["busybox", "busybox", "latest"],
    ["navarch/demo:1", "navarch/demo", "1"],
    ["127.0.0.1:5000/demo", "127.0.0.1:5000/demo", "latest"],
    ["127.0.0.1:5000/demo:2", "127.0.0.1:5000/demo", "2"],
    ["r/x@sha256:abc", "r/x", "sha256:abc"],
  ];
  for (const [ref, repository, tag] of cases) {
    test(ref, () => {
      const r = parseImageRef(ref);
      assert.equal(r.repository, repository);
      assert.equal(r.tag, tag);
    });
  }
  test("normalized refs add :latest", () => {
    assert.equal(normalizedRef("127.0.0.1:5000/demo"), "127.0.0.1:5000/demo:latest");
    assert.equal(normalizedRef("r/x@sha256:abc"), "r/x@sha256:abc");
  });
});

describe("events and status", () => {
  test("a die event maps with pod, container and exit code; other events are dropped", () => {
    const e = mapEvent({
      Type: "container",
      Action: "die",
      Actor: { ID: "c1", Attributes: { exitCode: "3", [LABELS.podUid]: "u", [LABELS.pod]: "p", [LABELS.namespace]: "ns", [LABELS.node]: "n", [LABELS.container]: "app" } },
      timeNano: 1_700_000_000_123_456_789,
    });
    assert.deepEqual(e, {
      type: "die",
      containerId: "c1",
      pod: { namespace: "ns", name: "p", uid: "u", node: "n" },
      containerName: "app",
      exitCode: 3,
      at: new Date(1_700_000_000_123),
    });
    assert.equal(mapEvent({ Type: "container", Action: "exec_start: sh", Actor: { ID: "c1" } }), undefined);
    assert.equal(mapEvent({ Type: "network", Action: "create", Actor: { ID: "n1" } }), undefined);
    assert.equal(mapEvent("garbage"), undefined);
  });

  test("Docker states map to runtime states", () => {
    assert.equal(mapState("running"), "running");
    assert.equal(mapState("paused"), "running");
    assert.equal(mapState("exited"), "exited");
    assert.equal(mapState("dead"), "exited");
    assert.equal(mapState("created"), "created");
    assert.equal(mapState("weird"), "unknown");
  });

  test("inspect maps times, OOM and zero times", () => {
    const s = statusFromInspect({
      Id: "c1",
      Name: "/navarch_x",
      Created: "2025-01-01T00:00:00.5Z",
      Image: "sha256:img",
      State: { Status: "exited", ExitCode: 137, OOMKilled: true, Error: "", StartedAt: "2025-01-01T00:00:01Z", FinishedAt: "0001-01-01T00:00:00Z" },
      Config: { Image: "navarch/memhog:1", Labels: { [LABELS.container]: "hog", [LABELS.attempt]: "5", [LABELS.role]: "app" } },
    } as never);
    assert.equal(s.state, "exited");
    assert.equal(s.exitCode, 137);
    assert.equal(s.oomKilled, true);
    assert.equal(s.attempt, 5);
    assert.equal(s.name, "hog");
    assert.equal(s.imageID, "sha256:img");
    assert.deepEqual(s.startedAt, new Date("2025-01-01T00:00:01Z"));
    assert.equal(s.finishedAt, undefined);
    assert.equal(s.podIP, undefined, "a container in a sandbox has no IP of its own");
  });

  test("an own-network container's pod IP comes back from its label (also once it has stopped)", () => {
    const s = statusFromInspect({
      Id: "c2",
      Name: "/navarch_y",
      Created: "2025-01-01T00:00:00Z",
      Image: "sha256:img",
      State: { Status: "exited", ExitCode: 1, OOMKilled: false, Error: "", StartedAt: "2025-01-01T00:00:01Z", FinishedAt: "2025-01-01T00:00:02Z" },
      Config: { Image: "navarch/demo:1", Labels: { [LABELS.container]: "web", [LABELS.role]: "app", [LABELS.podIP]: "10.244.16.9" } },
    } as never);
    assert.equal(s.podIP, "10.244.16.9");
  });
});

describe("connection and info", () => {
  test("socket from option, DOCKER_HOST unix://, or the default", () => {
    assert.deepEqual(dockerOptions("/s.sock", {}), { socketPath: "/s.sock" });
    assert.deepEqual(dockerOptions(undefined, { DOCKER_HOST: "unix:///run/d.sock" }), { socketPath: "/run/d.sock" });
    assert.deepEqual(dockerOptions(undefined, { DOCKER_HOST: "tcp://127.0.0.1:2375" }), {});
    assert.deepEqual(dockerOptions(undefined, {}), { socketPath: "/var/run/docker.sock" });
  });
  test("architectures use Go's names", () => {
    assert.equal(goArch("x86_64"), "amd64");
    assert.equal(goArch("aarch64"), "arm64");
  });
});
