// `navctl apply` against a real local cluster (the all-in-one with its node agent on this machine's
// Docker): a folder with a realistic manifest of every kind Navarch serves is applied, the
// controllers do their work (pods run, the Job completes, the Deployment records its revision),
// and applying the same folder again says `unchanged` for every object and writes nothing - the
// resourceVersions stay (issue 10: a Deployment said `configured` and moved by 2 every time).
// Then errors: every failing object is reported as `<file>: <Kind>/<name>: <field path>: <problem>`,
// the others are still applied, and the exit code is 1. And kube-system and kube-public exist as in
// Kubernetes: Kubernetes' own DaemonSet example (examples/, in kube-system) applies and runs.
import { KINDS, type KindInfo, type KubeObject } from "@navarch/api";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { client, get } from "./api.js";
import { cleanup, navctl, ROOT, sleep, startLocalCluster, tempHome, type LocalCluster } from "./cluster.js";

const NS = "apply-e2e";
const SETTLE_TIMEOUT_MS = 120_000;

/** Images built by scripts/build-images.sh (never pulled). */
const IMAGES = ["navarch/demo:1", "navarch/busybox:1", "navarch/exit:1"];

/** One realistic manifest per kind, in files applied as a folder (name order, namespace first). */
const FILES: Record<string, string> = {
  "00-namespace.yaml": `apiVersion: v1
kind: Namespace
metadata:
  name: ${NS}
  labels:
    team: apply
`,
  "01-config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: ${NS}
  labels:
    app: web
data:
  greeting: hello
  settings.json: |
    {"debug": false}
---
apiVersion: v1
kind: Secret
metadata:
  name: web-credentials
  namespace: ${NS}
type: Opaque
stringData:
  username: admin
data:
  password: aHVudGVyMg==
`,
  "02-web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${NS}
  labels:
    app: web
  annotations:
    kubernetes.io/change-cause: first rollout
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: navarch/demo:1
          ports:
            - containerPort: 8080
              name: http
          env:
            - name: GREETING
              valueFrom:
                configMapKeyRef:
                  name: web-config
                  key: greeting
          readinessProbe:
            httpGet:
              path: /ready
              port: http
            periodSeconds: 2
          resources:
            requests:
              cpu: 50m
              memory: 32Mi
            limits:
              memory: 64Mi
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${NS}
spec:
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: v1
kind: Service
metadata:
  name: web-nodeport
  namespace: ${NS}
spec:
  type: NodePort
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
`,
  "03-pod.yaml": `apiVersion: v1
kind: Pod
metadata:
  name: toolbox
  namespace: ${NS}
  labels:
    app: toolbox
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: toolbox
      image: navarch/busybox:1
      command: ["sleep", "3600"]
`,
  "04-replicaset.yaml": `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: cache
  namespace: ${NS}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: cache
  template:
    metadata:
      labels:
        app: cache
    spec:
      containers:
        - name: cache
          image: navarch/demo:1
`,
  "05-daemonset.yaml": `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent-sidekick
  namespace: ${NS}
spec:
  selector:
    matchLabels:
      app: sidekick
  template:
    metadata:
      labels:
        app: sidekick
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: sidekick
          image: navarch/busybox:1
          command: ["sleep", "3600"]
`,
  "06-job.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: ${NS}
spec:
  completions: 1
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: navarch/exit:1
          args: ["0"]
`,
  "07-ingress.yaml": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: ${NS}
spec:
  rules:
    - host: web.example.test
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
`,
  "08-external.yaml": `apiVersion: v1
kind: Service
metadata:
  name: external-db
  namespace: ${NS}
spec:
  ports:
    - port: 5432
---
apiVersion: v1
kind: Endpoints
metadata:
  name: external-db
  namespace: ${NS}
subsets:
  - addresses:
      - ip: 192.0.2.10
    ports:
      - port: 5432
`,
  "09-lease.yaml": `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: migrate-lock
  namespace: ${NS}
spec:
  holderIdentity: migrate
  leaseDurationSeconds: 30
`,
  "10-event.yaml": `apiVersion: v1
kind: Event
metadata:
  name: web.deployed
  namespace: ${NS}
involvedObject:
  apiVersion: apps/v1
  kind: Deployment
  name: web
  namespace: ${NS}
reason: Deployed
message: deployed by the apply test
type: Normal
`,
};

/** What the folder holds, as `navctl apply` names each object, in apply order. */
const REFS: [KindInfo, string, string][] = [
  [KINDS.Namespace as unknown as KindInfo, "", NS],
  [KINDS.ConfigMap as unknown as KindInfo, NS, "web-config"],
  [KINDS.Secret as unknown as KindInfo, NS, "web-credentials"],
  [KINDS.Deployment as unknown as KindInfo, NS, "web"],
  [KINDS.Service as unknown as KindInfo, NS, "web"],
  [KINDS.Service as unknown as KindInfo, NS, "web-nodeport"],
  [KINDS.Pod as unknown as KindInfo, NS, "toolbox"],
  [KINDS.ReplicaSet as unknown as KindInfo, NS, "cache"],
  [KINDS.DaemonSet as unknown as KindInfo, NS, "node-agent-sidekick"],
  [KINDS.Job as unknown as KindInfo, NS, "migrate"],
  [KINDS.Ingress as unknown as KindInfo, NS, "web"],
  [KINDS.Service as unknown as KindInfo, NS, "external-db"],
  [KINDS.Endpoints as unknown as KindInfo, NS, "external-db"],
  [KINDS.Lease as unknown as KindInfo, NS, "migrate-lock"],
  [KINDS.Event as unknown as KindInfo, NS, "web.deployed"],
];

const outputRef: Record<string, string> = {
  Namespace: "namespace",
  ConfigMap: "configmap",
  Secret: "secret",
  Deployment: "deployment.apps",
  Service: "service",
  Pod: "pod",
  ReplicaSet: "replicaset.apps",
  DaemonSet: "daemonset.apps",
  Job: "job.batch",
  Ingress: "ingress.networking.k8s.io",
  Endpoints: "endpoints",
  Lease: "lease.coordination.k8s.io",
  Event: "event",
};
const expectedOutput = (result: string) => REFS.map(([info, , name]) => `${outputRef[info.kind]}/${name} ${result}\n`).join("");

let cluster: LocalCluster | undefined;
let dir = "";
let nodeName = "";
const home = () => cluster!.home;

async function getObject(info: KindInfo, namespace: string, name: string): Promise<KubeObject> {
  const c = client(cluster!, info);
  try {
    return await get<KubeObject>(c, name, namespace, cluster!.metadata());
  } finally {
    c.close();
  }
}

/** Every applied object's resourceVersion, by `Kind/namespace/name`. */
async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [info, ns, name] of REFS) out[`${info.kind}/${ns}/${name}`] = (await getObject(info, ns, name)).metadata!.resourceVersion;
  return out;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Whether the controllers and the node agent are done with what was applied (a steady state). */
async function settled(): Promise<string | undefined> {
  const dep = (await getObject(KINDS.Deployment as unknown as KindInfo, NS, "web")) as any;
  if (dep.status?.readyReplicas !== 2 || dep.status?.observedGeneration !== dep.metadata.generation) return "deployment web is not ready";
  if (!dep.metadata.annotations?.["deployment.kubernetes.io/revision"]) return "deployment web has no revision yet";
  const rs = (await getObject(KINDS.ReplicaSet as unknown as KindInfo, NS, "cache")) as any;
  if (rs.status?.readyReplicas !== 1) return "replicaset cache is not ready";
  const ds = (await getObject(KINDS.DaemonSet as unknown as KindInfo, NS, "node-agent-sidekick")) as any;
  if (!(ds.status?.desiredNumberScheduled >= 1) || ds.status.numberReady !== ds.status.desiredNumberScheduled) return "daemonset is not ready";
  const job = (await getObject(KINDS.Job as unknown as KindInfo, NS, "migrate")) as any;
  if (job.status?.succeeded !== 1 || !job.status?.conditions?.some((c: any) => c.type === "Complete" && c.status === "True")) return "job migrate is not complete";
  const pod = (await getObject(KINDS.Pod as unknown as KindInfo, NS, "toolbox")) as any;
  if (pod.status?.phase !== "Running") return "pod toolbox is not running";
  return undefined;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

before(async () => {
  for (const image of IMAGES) {
    try {
      execFileSync("docker", ["image", "inspect", image], { stdio: "ignore", timeout: 30_000 });
    } catch {
      throw new Error(`the image ${image} is not on this machine: run scripts/build-images.sh first`);
    }
  }
  cluster = await startLocalCluster();
  dir = path.join(tempHome(), "manifests");
  mkdirSync(dir);
  for (const [name, text] of Object.entries(FILES)) writeFileSync(path.join(dir, name), text);
  for (let i = 0; i < 600 && !nodeName; i++) {
    const r = await navctl(["get", "nodes", "-o", "name"], { home: home() });
    nodeName = /^node\/(\S+)$/m.exec(r.stdout)?.[1] ?? "";
    if (!nodeName) await sleep(100);
  }
  assert.ok(nodeName, "the local cluster registered no node");
});

/** Ids of the containers this cluster's node agent started (pods, and its netfilter helper). */
function ownContainers(): string[] {
  if (!nodeName) return [];
  const ids = new Set<string>();
  for (const label of [`navarch.node=${nodeName}`, `navarch.netfilter.owner=${nodeName}`]) {
    const out = execFileSync("docker", ["ps", "-aq", "--filter", `label=${label}`], { encoding: "utf8", timeout: 30_000 });
    for (const id of out.split("\n").filter(Boolean)) ids.add(id);
  }
  return [...ids];
}

// The pods go first (deleting their namespaces lets the agent stop them), then the cluster; what
// a crashed agent could not remove is removed by its labels, so no container outlives the file.
after(async () => {
  try {
    if (cluster && nodeName) {
      await navctl(["delete", "ns", NS, "--wait=false"], { home: home() });
      await navctl(["delete", "ds", "fluentd-elasticsearch", "-n", "kube-system", "--wait=false"], { home: home() });
      for (let i = 0; i < 120; i++) {
        const pods = await navctl(["get", "pods", "-A", "-o", "name"], { home: home() });
        if (pods.code === 0 && pods.stdout.trim() === "") break;
        await sleep(500);
      }
      await cluster.stop();
    }
  } finally {
    await cleanup();
    const left = ownContainers();
    if (left.length > 0) execFileSync("docker", ["rm", "-f", ...left], { stdio: "ignore", timeout: 60_000 });
  }
});

describe("navctl apply against a local cluster", () => {
  it("applies a folder with every kind; applied again once the cluster settled, every object is unchanged and nothing is written", async () => {
    const first = await navctl(["apply", "-f", dir], { home: home() });
    assert.equal(first.stderr, "");
    assert.equal(first.code, 0);
    assert.equal(first.stdout, expectedOutput("created"));

    // Right away, while the controllers are still at work: nothing applied has changed.
    const again = await navctl(["apply", "-f", dir], { home: home() });
    assert.equal(again.stderr, "");
    assert.equal(again.stdout, expectedOutput("unchanged"));

    let waiting: string | undefined = "not checked";
    for (const deadline = Date.now() + SETTLE_TIMEOUT_MS; Date.now() < deadline; await sleep(500)) {
      waiting = await settled();
      if (!waiting) break;
    }
    assert.equal(waiting, undefined, `the cluster did not settle: ${waiting}`);

    const before = await versions();
    const second = await navctl(["apply", "-f", dir], { home: home() });
    assert.equal(second.stderr, "");
    assert.equal(second.code, 0);
    assert.equal(second.stdout, expectedOutput("unchanged"));
    assert.deepEqual(await versions(), before, "an unchanged apply wrote something");
  });

  it("configures only what changed, and removes a field dropped from the manifest", async () => {
    const changed = FILES["01-config.yaml"]!.replace("  greeting: hello\n", "  greeting: hi\n");
    writeFileSync(path.join(dir, "01-config.yaml"), changed);
    // The readiness probe is dropped from the Deployment.
    const noProbe = FILES["02-web.yaml"]!.replace(/ {10}readinessProbe:\n(?: {12}.*\n)+/, "");
    assert.notEqual(noProbe, FILES["02-web.yaml"]);
    writeFileSync(path.join(dir, "02-web.yaml"), noProbe);
    try {
      const r = await navctl(["apply", "-f", dir], { home: home() });
      assert.equal(r.stderr, "");
      const changedRefs = new Set(["configmap/web-config", "deployment.apps/web"]);
      const expected = REFS.map(([info, , name]) => `${outputRef[info.kind]}/${name} ${changedRefs.has(`${outputRef[info.kind]}/${name}`) ? "configured" : "unchanged"}\n`).join("");
      assert.equal(r.stdout, expected);
      const dep = (await getObject(KINDS.Deployment as unknown as KindInfo, NS, "web")) as unknown as { spec: { template: { spec: { containers: { readinessProbe?: unknown }[] } } } };
      assert.equal(dep.spec.template.spec.containers[0]!.readinessProbe, undefined);
    } finally {
      writeFileSync(path.join(dir, "01-config.yaml"), FILES["01-config.yaml"]!);
      writeFileSync(path.join(dir, "02-web.yaml"), FILES["02-web.yaml"]!);
    }
  });
});

describe("navctl apply errors", () => {
  const write = (folder: string, name: string, text: string) => {
    const p = path.join(folder, name);
    writeFileSync(p, text);
    return p;
  };

  it("names the file, Kind/name and field path of every failing object, applies the rest, exits 1", async () => {
    const folder = path.join(tempHome(), "errors");
    mkdirSync(folder);
    const cm = (name: string, ns = NS) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\ndata:\n  a: "1"\n`;
    // Schema check (navctl's own decoding): an unknown field.
    const schema = write(folder, "a-schema.yaml", `${cm("unknown-field")}spec:\n  x: 1\n`);
    // Admission on create (the gateway's INVALID_ARGUMENT): two bad fields, one line each.
    const admission = write(
      folder,
      "b-admission.yaml",
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: bad-service\n  namespace: ${NS}\nspec:\n  type: Elsewhere\n  ports:\n    - port: 70000\n      targetPort: 8080\n`,
    );
    // Immutable field on update: the Job's template (it exists from the first test).
    const immutable = write(folder, "c-immutable.yaml", FILES["06-job.yaml"]!.replace('args: ["0"]', 'args: ["3"]'));
    // A Pod update beyond what may change (the image may, the command may not).
    const podUpdate = write(folder, "d-pod.yaml", FILES["03-pod.yaml"]!.replace('["sleep", "3600"]', '["sleep", "7200"]'));
    // A namespace that does not exist.
    const missingNs = write(folder, "e-namespace.yaml", cm("lost", "no-such-namespace"));
    // And one good object, which is still applied.
    write(folder, "f-good.yaml", cm("good"));

    const r = await navctl(["apply", "-f", folder], { home: home() });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "configmap/good created\n");
    const lines = r.stderr.trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => l.split(": ").slice(0, 4).join(": ")), [
      `error: ${schema}: ConfigMap/unknown-field: spec`,
      `error: ${admission}: Service/bad-service: spec.type`,
      `error: ${admission}: Service/bad-service: spec.ports[0].port`,
      `error: ${immutable}: Job/migrate: spec.template`,
      `error: ${podUpdate}: Pod/toolbox: spec`,
      `error: ${missingNs}: ConfigMap/lost: metadata.namespace`,
    ], r.stderr);
    assert.match(lines[3]!, /field is immutable/);
    assert.match(lines[5]!, /namespaces "no-such-namespace" not found$/);
  });

  it("names the file, Kind/name and metadata.namespace when -n contradicts the manifest", async () => {
    const folder = path.join(tempHome(), "ns-flag");
    mkdirSync(folder);
    const file = write(folder, "cm.yaml", `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: ${NS}\n`);
    const r = await navctl(["apply", "-f", file, "-n", "default"], { home: home() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: ConfigMap/elsewhere: metadata.namespace: the namespace from the provided object "${NS}" does not match the namespace "default"`));
  });
});

describe("kube-system and kube-public", () => {
  it("exist on a fresh cluster, next to default, navarch-system and navarch-node-lease", async () => {
    const r = await navctl(["get", "ns", "-o", "name"], { home: home() });
    assert.equal(r.code, 0, r.stderr);
    for (const ns of ["default", "kube-public", "kube-system", "navarch-node-lease", "navarch-system"]) {
      assert.match(r.stdout, new RegExp(`^namespace/${ns}$`, "m"));
    }
  });

  it("cannot be deleted, like default", async () => {
    const refusal = (ns: string) => `error: forbidden: namespaces "${ns}" is forbidden: this namespace may not be deleted\n`;
    const def = await navctl(["delete", "ns", "default"], { home: home() });
    assert.equal(def.stderr, refusal("default"));
    for (const ns of ["kube-system", "kube-public"]) {
      const r = await navctl(["delete", "ns", ns], { home: home() });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, refusal(ns));
      const still = await navctl(["get", "ns", ns, "--no-headers"], { home: home() });
      assert.match(still.stdout, new RegExp(`^${ns} +Active +`));
    }
  });

  it("runs Kubernetes' own DaemonSet example in kube-system; applied again it is unchanged", async () => {
    const example = path.join(ROOT, "examples", "fluentd-elasticsearch-daemonset.yaml");
    const first = await navctl(["apply", "-f", example], { home: home() });
    assert.equal(first.stderr, "");
    assert.equal(first.stdout, "daemonset.apps/fluentd-elasticsearch created\n");
    const ds = KINDS.DaemonSet as unknown as KindInfo;
    let status: { desiredNumberScheduled?: number; numberReady?: number } = {};
    for (const deadline = Date.now() + SETTLE_TIMEOUT_MS; Date.now() < deadline; await sleep(500)) {
      status = ((await getObject(ds, "kube-system", "fluentd-elasticsearch")) as unknown as { status?: typeof status }).status ?? {};
      if ((status.desiredNumberScheduled ?? 0) >= 1 && status.numberReady === status.desiredNumberScheduled) break;
    }
    assert.ok((status.numberReady ?? 0) >= 1 && status.numberReady === status.desiredNumberScheduled, JSON.stringify(status));
    const pods = await navctl(["get", "pods", "-n", "kube-system", "-l", "name=fluentd-elasticsearch", "--no-headers"], { home: home() });
    assert.match(pods.stdout, /^fluentd-elasticsearch-\S+ +1\/1 +Running +/m, pods.stdout);
    const again = await navctl(["apply", "-f", example], { home: home() });
    assert.equal(again.stderr, "");
    assert.equal(again.stdout, "daemonset.apps/fluentd-elasticsearch unchanged\n");
  });
});

describe("a Node manifest", () => {
  it("is created, then unchanged while the node lifecycle controller works on it", async () => {
    const folder = path.join(tempHome(), "node");
    mkdirSync(folder);
    // Unschedulable, so nothing is placed on a node no agent runs.
    const file = path.join(folder, "node.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: Node\nmetadata:\n  name: apply-e2e-spare\n  labels:\n    disk: ssd\nspec:\n  unschedulable: true\n");
    try {
      const first = await navctl(["apply", "-f", file], { home: home() });
      assert.equal(first.stderr, "");
      assert.equal(first.stdout, "node/apply-e2e-spare created\n");
      const again = await navctl(["apply", "-f", file], { home: home() });
      assert.equal(again.stderr, "");
      assert.equal(again.stdout, "node/apply-e2e-spare unchanged\n");
    } finally {
      await navctl(["delete", "node", "apply-e2e-spare"], { home: home() });
    }
  });
});
