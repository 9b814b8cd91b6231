import { KINDS, type ConfigMap, type Container, type Pod, type Secret } from "@navarch/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { containerSpec } from "./container-spec.js";
import { ContainerConfigError, envSources, expand, resolveEnv, type EnvInput } from "./env.js";

function pod(containers: Partial<Container>[]): Pod {
  return KINDS.Pod.codec.fromPartial({
    metadata: { name: "web", namespace: "shop", uid: "u-1", labels: { app: "web" }, annotations: { team: "blue" } },
    spec: { nodeName: "n1", serviceAccountName: "default", containers: containers.map((c, i) => ({ name: `c${i}`, image: "img", ...c })) },
  });
}

const cm = (name: string, data: Record<string, string>): ConfigMap => KINDS.ConfigMap.codec.fromPartial({ metadata: { name, namespace: "shop" }, data });
const secret = (name: string, data: Record<string, string>): Secret =>
  KINDS.Secret.codec.fromPartial({ metadata: { name, namespace: "shop" }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)])) });

function input(c: Partial<Container>, extra: Partial<EnvInput> = {}): EnvInput {
  const p = pod([c]);
  return {
    pod: p,
    container: p.spec!.containers[0]!,
    configMaps: new Map([["cfg", cm("cfg", { mode: "fast", "bad name": "x", level: "3" })]]),
    secrets: new Map([["creds", secret("creds", { password: "s3cret" })]]),
    podIP: "172.17.0.9",
    hostIP: "127.0.0.1",
    nodeAllocatable: { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3 },
    ...extra,
  };
}

describe("environment", () => {
  test("values, $(VAR) expansion, and later entries overriding earlier ones", () => {
    const env = resolveEnv(input({
      envFrom: [{ prefix: "CFG_", configMapRef: { name: "cfg" } }],
      env: [
        { name: "A", value: "1" },
        { name: "B", value: "$(A)-$(NOPE)-$$(A)" },
        { name: "CFG_mode", value: "slow" },
      ],
    }));
    assert.deepEqual(env, { CFG_mode: "slow", CFG_level: "3", A: "1", B: "1-$(NOPE)-$(A)" }, "a key with a space is skipped: not a variable name");
  });

  test("configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef", () => {
    const env = resolveEnv(input({
      resources: { limits: { cpu: "1500m", memory: "256Mi" }, requests: { cpu: "250m" } },
      env: [
        { name: "MODE", value: "", valueFrom: { configMapKeyRef: { name: "cfg", key: "mode" } } },
        { name: "PASS", value: "", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
        ...["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "status.podIP", "status.hostIP", "metadata.labels['app']", "metadata.annotations['team']"].map((f, i) => ({
          name: `F${i}`,
          value: "",
          valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: f } },
        })),
        { name: "CPU_LIMIT", value: "", valueFrom: { resourceFieldRef: { containerName: "", resource: "limits.cpu", divisor: "" } } },
        { name: "CPU_REQ_M", value: "", valueFrom: { resourceFieldRef: { containerName: "", resource: "requests.cpu", divisor: "1m" } } },
        { name: "MEM_MI", value: "", valueFrom: { resourceFieldRef: { containerName: "c0", resource: "limits.memory", divisor: "1Mi" } } },
        { name: "MEM_REQ", value: "", valueFrom: { resourceFieldRef: { containerName: "", resource: "requests.memory", divisor: "" } } },
      ],
    }));
    assert.deepEqual(env, {
      MODE: "fast",
      PASS: "s3cret",
      F0: "web", F1: "shop", F2: "u-1", F3: "n1", F4: "172.17.0.9", F5: "127.0.0.1", F6: "web", F7: "blue",
      CPU_LIMIT: "2", CPU_REQ_M: "250", MEM_MI: "256", MEM_REQ: "268435456",
    });
  });

  test("limits without a limit are the node's allocatable", () => {
    const env = resolveEnv(input({ env: [{ name: "M", value: "", valueFrom: { resourceFieldRef: { containerName: "", resource: "limits.memory", divisor: "1Gi" } } }] }));
    assert.equal(env.M, "8");
  });

  test("missing sources: errors unless optional", () => {
    const cases: [Partial<Container>, string | undefined][] = [
      [{ env: [{ name: "X", value: "", valueFrom: { configMapKeyRef: { name: "nope", key: "k" } } }] }, 'configmap "nope" not found'],
      [{ env: [{ name: "X", value: "", valueFrom: { configMapKeyRef: { name: "cfg", key: "nokey" } } }] }, "couldn't find key nokey in ConfigMap shop/cfg"],
      [{ env: [{ name: "X", value: "", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } }] }, 'secret "nope" not found'],
      [{ env: [{ name: "X", value: "", valueFrom: { secretKeyRef: { name: "creds", key: "k" } } }] }, "couldn't find key k in Secret shop/creds"],
      [{ envFrom: [{ prefix: "", secretRef: { name: "nope" } }] }, 'secret "nope" not found'],
      [{ env: [{ name: "X", value: "", valueFrom: { configMapKeyRef: { name: "nope", key: "k", optional: true } } }] }, undefined],
      [{ env: [{ name: "X", value: "", valueFrom: { secretKeyRef: { name: "creds", key: "k", optional: true } } }] }, undefined],
      [{ envFrom: [{ prefix: "", configMapRef: { name: "nope", optional: true } }] }, undefined],
    ];
    for (const [c, message] of cases) {
      const i = input(c, { configMaps: new Map([["cfg", cm("cfg", { mode: "fast" })], ["nope", undefined]]), secrets: new Map([["creds", secret("creds", {})], ["nope", undefined]]) });
      if (message === undefined) assert.deepEqual(resolveEnv(i), {});
      else assert.throws(() => resolveEnv(i), (err: unknown) => err instanceof ContainerConfigError && err.message === message);
    }
  });

  test("envSources names what to fetch, once each", () => {
    const c = pod([{
      envFrom: [{ prefix: "", configMapRef: { name: "a" } }, { prefix: "", secretRef: { name: "s" } }],
      env: [{ name: "X", value: "", valueFrom: { configMapKeyRef: { name: "a", key: "k" } } }, { name: "Y", value: "", valueFrom: { secretKeyRef: { name: "t", key: "k" } } }],
    }]).spec!.containers[0]!;
    assert.deepEqual(envSources(c), { configMaps: ["a"], secrets: ["s", "t"] });
  });

  test("expand", () => {
    assert.equal(expand("$(A)$(B)", { A: "x", B: "y" }), "xy");
    assert.equal(expand("$$(A) $ $(", { A: "x" }), "$(A) $ $(");
  });

  test("the runtime spec: resources, command expansion, workingDir, tty", () => {
    const p = pod([{ command: ["sh", "-c"], args: ["echo $(GREETING)"], workingDir: "/w", tty: true, resources: { limits: { cpu: "500m", memory: "20Mi" }, requests: {} } }]);
    const spec = containerSpec({ pod: p, container: p.spec!.containers[0]!, node: "n1", env: { GREETING: "hi" }, sandboxId: "sb", attempt: 2 });
    assert.deepEqual(
      { command: spec.command, args: spec.args, cpu: spec.cpuLimitMillis, mem: spec.memoryLimitBytes, req: spec.cpuRequestMillis, wd: spec.workingDir, tty: spec.tty, attempt: spec.attempt, pod: spec.pod },
      { command: ["sh", "-c"], args: ["echo hi"], cpu: 500, mem: 20 * 1024 * 1024, req: 500, wd: "/w", tty: true, attempt: 2, pod: { namespace: "shop", name: "web", uid: "u-1", node: "n1" } },
    );
  });
});
