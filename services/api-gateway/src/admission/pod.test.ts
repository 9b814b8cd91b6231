import assert from "node:assert/strict";
import { test } from "node:test";
import { KINDS } from "@navarch/api";
import { defaultPullPolicy } from "./container.js";
import { admissionFor } from "./index.js";
import { decode, expectNone, expectOne, invalidCases, validate, validateUpdate, type Manifest } from "./testing.js";

const Pod_ = KINDS.Pod;

function pod(): Manifest {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-0", namespace: "default", labels: { app: "web" } },
    spec: {
      containers: [
        {
          name: "nginx",
          image: "nginx:1.25",
          ports: [{ name: "http", containerPort: 80 }],
          env: [
            { name: "MODE", value: "prod" },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          ],
          resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi", "example.com/gpu": 1 } },
          volumeMounts: [{ name: "cache", mountPath: "/var/cache/nginx" }],
          readinessProbe: { httpGet: { path: "/healthz", port: "http" } },
          livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
        },
        { name: "sidecar", image: "busybox@sha256:3fbc632167424a6d997e74f52b878d7cc478225cffac6bc977eedfe51c7f4e79", command: ["sleep", "3600"] },
      ],
      initContainers: [{ name: "init", image: "busybox:1.36", command: ["true"] }],
      volumes: [
        { name: "cache", emptyDir: {} },
        { name: "config", configMap: { name: "web-config" } },
      ],
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
      nodeSelector: { "kubernetes.io/os": "linux" },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: "cores", operator: "Gt", values: ["4"] }] } },
          ],
        },
      },
    },
  };
}

const c0 = "spec.containers[0]";

test("Pod: a valid pod has no errors", () => {
  expectNone(validate(Pod_, pod()));
});

test("Pod: defaults are filled", () => {
  const p = decode(Pod_, pod());
  const spec = p.spec!;
  assert.equal(spec.restartPolicy, "Always");
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.equal(spec.dnsPolicy, "ClusterFirst");
  assert.equal(spec.schedulerName, "default-scheduler");
  const c = spec.containers[0]!;
  assert.equal(c.imagePullPolicy, "IfNotPresent");
  assert.equal(spec.containers[1]!.imagePullPolicy, "IfNotPresent", "a digest pins the image");
  assert.equal(c.ports[0]!.protocol, "TCP");
  assert.deepEqual(
    [c.livenessProbe!.periodSeconds, c.livenessProbe!.timeoutSeconds, c.livenessProbe!.successThreshold, c.livenessProbe!.failureThreshold, c.livenessProbe!.initialDelaySeconds],
    [5, 1, 1, 3, 0],
  );
  assert.equal(c.readinessProbe!.periodSeconds, 10);
  assert.equal(c.readinessProbe!.httpGet!.scheme, "HTTP");
  assert.equal(c.env[1]!.valueFrom!.fieldRef!.apiVersion, "v1");
  // Requests default to limits for resources that have only a limit.
  assert.deepEqual(c.resources!.requests, { cpu: "100m", memory: "64Mi", "example.com/gpu": "1" });
});

test("Pod: explicit values are kept by default()", () => {
  const m = pod();
  Object.assign(m.spec, { restartPolicy: "Never", terminationGracePeriodSeconds: 0, dnsPolicy: "Default", schedulerName: "mine" });
  m.spec.containers[0].imagePullPolicy = "Never";
  m.spec.containers[0].readinessProbe.httpGet = { port: 80, scheme: "HTTPS" };
  m.spec.tolerations = [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }];
  const spec = decode(Pod_, m).spec!;
  assert.deepEqual([spec.restartPolicy, spec.terminationGracePeriodSeconds, spec.dnsPolicy, spec.schedulerName], ["Never", 0, "Default", "mine"]);
  assert.equal(spec.containers[0]!.imagePullPolicy, "Never");
  assert.deepEqual([spec.containers[0]!.readinessProbe!.httpGet!.scheme, spec.containers[0]!.readinessProbe!.httpGet!.path], ["HTTPS", "/"]);
  assert.equal(spec.tolerations[0]!.operator, "Equal");
});

test("Pod: imagePullPolicy default follows the tag", () => {
  const table: [string, string][] = [
    ["nginx", "Always"],
    ["nginx:latest", "Always"],
    ["nginx:1.25", "IfNotPresent"],
    ["nginx@sha256:abcd", "IfNotPresent"],
    ["localhost:5000/app", "Always"],
    ["localhost:5000/app:v1", "IfNotPresent"],
    ["registry.example.com/team/app:latest", "Always"],
  ];
  for (const [image, policy] of table) assert.equal(defaultPullPolicy(image), policy, image);
});

test("Pod: a pod without spec gets a defaulted one and fails for its containers", () => {
  const errs = validate(Pod_, { apiVersion: "v1", kind: "Pod", metadata: { name: "x", namespace: "default" } });
  expectOne(errs, "spec.containers", "Required value");
});

invalidCases(Pod_, pod, [
  { name: "no containers", edit: (m) => (m.spec.containers = []), path: "spec.containers", phrase: "Required value" },
  { name: "container name not a DNS label", edit: (m) => (m.spec.containers[0].name = "Nginx_1"), path: `${c0}.name`, phrase: "DNS-1123 label" },
  { name: "container name missing", edit: (m) => (m.spec.containers[0].name = ""), path: `${c0}.name`, phrase: "Required value" },
  { name: "container name shared with an init container", edit: (m) => (m.spec.initContainers[0].name = "nginx"), path: `${c0}.name`, phrase: 'Duplicate value: "nginx"' },
  { name: "container names repeated", edit: (m) => (m.spec.containers[1].name = "nginx"), path: "spec.containers[1].name", phrase: "Duplicate value" },
  { name: "image missing", edit: (m) => delete m.spec.containers[0].image, path: `${c0}.image`, phrase: "Required value" },
  { name: "init container image missing", edit: (m) => (m.spec.initContainers[0].image = ""), path: "spec.initContainers[0].image", phrase: "Required value" },
  { name: "containerPort out of range", edit: (m) => (m.spec.containers[0].ports[0].containerPort = 70000), path: `${c0}.ports[0].containerPort`, phrase: "between 1 and 65535" },
  { name: "containerPort missing", edit: (m) => delete m.spec.containers[0].ports[0].containerPort, path: `${c0}.ports[0].containerPort`, phrase: "Required value" },
  { name: "hostPort out of range", edit: (m) => (m.spec.containers[0].ports[0].hostPort = 65536), path: `${c0}.ports[0].hostPort`, phrase: "between 1 and 65535" },
  { name: "protocol unknown", edit: (m) => (m.spec.containers[0].ports[0].protocol = "HTTP"), path: `${c0}.ports[0].protocol`, phrase: 'Unsupported value: "HTTP"' },
  { name: "port name too long", edit: (m) => (m.spec.containers[1].ports = [{ name: "http-alternative", containerPort: 8080 }]), path: "spec.containers[1].ports[0].name", phrase: "no more than 15 characters" },
  {
    name: "port name without a letter",
    edit: (m) => {
      m.spec.containers[0].ports[0].name = "8080";
      m.spec.containers[0].readinessProbe.httpGet.port = 80;
    },
    path: `${c0}.ports[0].name`,
    phrase: "at least one letter",
  },
  { name: "port names repeated", edit: (m) => m.spec.containers[0].ports.push({ name: "http", containerPort: 81 }), path: `${c0}.ports[1].name`, phrase: "Duplicate value" },
  { name: "env name invalid", edit: (m) => (m.spec.containers[0].env[0].name = "1MODE"), path: `${c0}.env[0].name`, phrase: "valid environment variable name" },
  { name: "env with value and valueFrom", edit: (m) => (m.spec.containers[0].env[1].value = "x"), path: `${c0}.env[1].valueFrom`, phrase: "may not be specified when `value` is not empty" },
  {
    name: "env valueFrom with two sources",
    edit: (m) => (m.spec.containers[0].env[1].valueFrom.secretKeyRef = { name: "s", key: "k" }),
    path: `${c0}.env[1].valueFrom`,
    phrase: "more than one field",
  },
  { name: "quantity syntax", edit: (m) => (m.spec.containers[0].resources.requests.memory = "lots"), path: `${c0}.resources.requests["memory"]`, phrase: "quantities must match" },
  { name: "negative quantity", edit: (m) => (m.spec.containers[0].resources.limits.memory = "-1Gi"), path: `${c0}.resources.limits["memory"]`, phrase: "greater than or equal to 0" },
  { name: "unknown resource name", edit: (m) => (m.spec.containers[0].resources.requests.gpu = "1"), path: `${c0}.resources.requests["gpu"]`, phrase: "standard resource" },
  {
    name: "request above limit",
    edit: (m) => (m.spec.containers[0].resources = { requests: { cpu: "2" }, limits: { cpu: "1" } }),
    path: `${c0}.resources.requests`,
    phrase: 'Invalid value: "2": must be less than or equal to cpu limit of 1',
  },
  { name: "restartPolicy unknown", edit: (m) => (m.spec.restartPolicy = "Sometimes"), path: "spec.restartPolicy", phrase: "Unsupported value" },
  { name: "imagePullPolicy unknown", edit: (m) => (m.spec.containers[0].imagePullPolicy = "Maybe"), path: `${c0}.imagePullPolicy`, phrase: "Unsupported value" },
  { name: "negative grace period", edit: (m) => (m.spec.terminationGracePeriodSeconds = -1), path: "spec.terminationGracePeriodSeconds", phrase: "greater than or equal to 0" },
  { name: "dnsPolicy unknown", edit: (m) => (m.spec.dnsPolicy = "Google"), path: "spec.dnsPolicy", phrase: "Unsupported value" },
  { name: "activeDeadlineSeconds zero", edit: (m) => (m.spec.activeDeadlineSeconds = 0), path: "spec.activeDeadlineSeconds", phrase: "between 1 and" },
  { name: "probe without handler", edit: (m) => (m.spec.containers[0].livenessProbe = { periodSeconds: 5 }), path: `${c0}.livenessProbe`, phrase: "must specify a handler type" },
  {
    name: "probe with two handlers",
    edit: (m) => (m.spec.containers[0].livenessProbe.exec = { command: ["true"] }),
    path: `${c0}.livenessProbe.tcpSocket`,
    phrase: "more than 1 handler type",
  },
  { name: "preStop sleep negative", edit: (m) => (m.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: -1 } } }), path: `${c0}.lifecycle.preStop.sleep.seconds`, phrase: "greater than or equal to 0" },
  {
    name: "preStop with sleep and exec",
    edit: (m) => (m.spec.containers[0].lifecycle = { preStop: { exec: { command: ["true"] }, sleep: { seconds: 2 } } }),
    path: `${c0}.lifecycle.preStop.sleep`,
    phrase: "more than 1 handler type",
  },
  { name: "probe period negative", edit: (m) => (m.spec.containers[0].livenessProbe.periodSeconds = -5), path: `${c0}.livenessProbe.periodSeconds`, phrase: "greater than or equal to 1" },
  { name: "probe failureThreshold negative", edit: (m) => (m.spec.containers[0].readinessProbe.failureThreshold = -1), path: `${c0}.readinessProbe.failureThreshold`, phrase: "greater than or equal to 1" },
  { name: "liveness successThreshold not 1", edit: (m) => (m.spec.containers[0].livenessProbe.successThreshold = 2), path: `${c0}.livenessProbe.successThreshold`, phrase: "must be 1" },
  {
    name: "startup successThreshold not 1",
    edit: (m) => (m.spec.containers[0].startupProbe = { exec: { command: ["true"] }, successThreshold: 3 }),
    path: `${c0}.startupProbe.successThreshold`,
    phrase: "must be 1",
  },
  { name: "probe port names no container port", edit: (m) => (m.spec.containers[0].readinessProbe.httpGet.port = "metrics"), path: `${c0}.readinessProbe.httpGet.port`, phrase: "name of a port of this container" },
  { name: "probe port out of range", edit: (m) => (m.spec.containers[0].livenessProbe.tcpSocket.port = 70000), path: `${c0}.livenessProbe.tcpSocket.port`, phrase: "between 1 and 65535" },
  { name: "probe scheme unknown", edit: (m) => (m.spec.containers[0].readinessProbe.httpGet.scheme = "FTP"), path: `${c0}.readinessProbe.httpGet.scheme`, phrase: "Unsupported value" },
  { name: "probe on an init container", edit: (m) => (m.spec.initContainers[0].readinessProbe = { exec: { command: ["true"] } }), path: "spec.initContainers[0].readinessProbe", phrase: "Forbidden" },
  { name: "volume names repeated", edit: (m) => (m.spec.volumes[1].name = "cache"), path: "spec.volumes[1].name", phrase: "Duplicate value" },
  { name: "volume name not a DNS label", edit: (m) => (m.spec.volumes[1].name = "Config"), path: "spec.volumes[1].name", phrase: "DNS-1123 label" },
  { name: "volume without source", edit: (m) => delete m.spec.volumes[1].configMap, path: "spec.volumes[1]", phrase: "must specify a volume type" },
  { name: "volume with two sources", edit: (m) => (m.spec.volumes[0].hostPath = { path: "/tmp" }), path: "spec.volumes[0].hostPath", phrase: "more than 1 volume type" },
  { name: "mount of an unknown volume", edit: (m) => (m.spec.containers[0].volumeMounts[0].name = "data"), path: `${c0}.volumeMounts[0].name`, phrase: 'Not found: "data"' },
  { name: "mountPath missing", edit: (m) => (m.spec.containers[0].volumeMounts[0].mountPath = ""), path: `${c0}.volumeMounts[0].mountPath`, phrase: "Required value" },
  { name: "mountPath relative", edit: (m) => (m.spec.containers[0].volumeMounts[0].mountPath = "cache"), path: `${c0}.volumeMounts[0].mountPath`, phrase: "absolute path" },
  { name: "toleration operator unknown", edit: (m) => (m.spec.tolerations[0].operator = "Maybe"), path: "spec.tolerations[0].operator", phrase: "Unsupported value" },
  { name: "toleration Exists with a value", edit: (m) => (m.spec.tolerations[0].value = "yes"), path: "spec.tolerations[0].operator", phrase: "value must be empty when `operator` is 'Exists'" },
  { name: "toleration effect unknown", edit: (m) => (m.spec.tolerations = [{ key: "k", operator: "Exists", effect: "NoWay" }]), path: "spec.tolerations[0].effect", phrase: "Unsupported value" },
  {
    name: "tolerationSeconds without NoExecute",
    edit: (m) => (m.spec.tolerations[0].effect = "NoSchedule"),
    path: "spec.tolerations[0].effect",
    phrase: "effect must be 'NoExecute' when `tolerationSeconds` is set",
  },
  { name: "nodeSelector key invalid", edit: (m) => (m.spec.nodeSelector["bad key"] = "x"), path: 'spec.nodeSelector["bad key"]', phrase: "name part must consist" },
  { name: "nodeSelector value invalid", edit: (m) => (m.spec.nodeSelector["kubernetes.io/os"] = "linux!"), path: 'spec.nodeSelector["kubernetes.io/os"]', phrase: "label value" },
  {
    name: "affinity operator unknown",
    edit: (m) => (m.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator = "Near"),
    path: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator",
    phrase: "Unsupported value",
  },
  {
    name: "affinity In without values",
    edit: (m) => (m.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values = []),
    path: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
    phrase: "must be specified when `operator` is 'In' or 'NotIn'",
  },
  {
    name: "affinity Exists with values",
    edit: (m) => (m.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator = "Exists"),
    path: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
    phrase: "may not be specified",
  },
  {
    name: "affinity Gt with two values",
    edit: (m) => (m.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values = ["4", "8"]),
    path: "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values",
    phrase: "single value",
  },
  {
    name: "affinity Lt with a non-integer",
    edit: (m) => (m.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values = ["many"]),
    path: "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values[0]",
    phrase: "must be an integer",
  },
  {
    name: "preferred weight out of range",
    edit: (m) => (m.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight = 0),
    path: "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
    phrase: "range 1-100",
  },
  {
    name: "two containers on one host port",
    edit: (m) => {
      m.spec.containers[0].ports[0].hostPort = 8080;
      m.spec.containers[1].ports = [{ containerPort: 9090, hostPort: 8080 }];
    },
    path: "spec.containers[1].ports[0].hostPort",
    phrase: "Duplicate value",
  },
]);

test("Pod: several problems are all reported", () => {
  const m = pod();
  m.spec.containers[0].image = "";
  m.spec.containers[1].ports = [{ containerPort: 0 }];
  m.metadata.name = "";
  const paths = validate(Pod_, m).map((e) => e.path);
  assert.deepEqual(paths, ["metadata.name", "spec.containers[0].image", "spec.containers[1].ports[0].containerPort"]);
});

// Updates: only images, activeDeadlineSeconds and added tolerations may change.
const FORBIDDEN = "pod updates may not change fields other than `spec.containers[*].image`";

test("Pod update: images, labels and added tolerations may change", () => {
  const before = pod();
  before.spec.activeDeadlineSeconds = 600;
  const after = structuredClone(before);
  after.spec.containers[0].image = "nginx:1.26";
  after.spec.initContainers[0].image = "busybox:1.37";
  after.spec.activeDeadlineSeconds = 300;
  after.spec.tolerations.push({ key: "dedicated", operator: "Equal", value: "web", effect: "NoSchedule" });
  after.spec.tolerations[0].tolerationSeconds = 60;
  after.metadata.labels.version = "2";
  expectNone(validateUpdate(Pod_, after, before));
});

test("Pod update: an unchanged pod passes (defaults on both sides)", () => {
  expectNone(validateUpdate(Pod_, pod(), pod()));
});

const updateCases: { name: string; edit: (m: Manifest) => void; path: string; phrase: string; before?: (m: Manifest) => void }[] = [
  { name: "container env changed", edit: (m) => (m.spec.containers[0].env[0].value = "dev"), path: "spec", phrase: FORBIDDEN },
  { name: "container added", edit: (m) => m.spec.containers.push({ name: "extra", image: "busybox" }), path: "spec", phrase: FORBIDDEN },
  { name: "resources changed", edit: (m) => (m.spec.containers[0].resources.limits.cpu = "1"), path: "spec", phrase: FORBIDDEN },
  { name: "nodeSelector changed", edit: (m) => (m.spec.nodeSelector.disk = "ssd"), path: "spec", phrase: FORBIDDEN },
  // A toleration the default tolerations do not put back (they re-add not-ready and unreachable).
  {
    name: "toleration removed",
    before: (m) => m.spec.tolerations.push({ key: "dedicated", operator: "Exists", effect: "NoSchedule" }),
    edit: (m) => (m.spec.tolerations = []),
    path: "spec.tolerations",
    phrase: "existing toleration can not be modified",
  },
  {
    name: "toleration changed",
    before: (m) => m.spec.tolerations.push({ key: "dedicated", operator: "Exists", effect: "NoSchedule" }),
    edit: (m) => (m.spec.tolerations[1].effect = "PreferNoSchedule"),
    path: "spec.tolerations",
    phrase: "existing toleration",
  },
  {
    name: "activeDeadlineSeconds raised",
    before: (m) => (m.spec.activeDeadlineSeconds = 60),
    edit: (m) => (m.spec.activeDeadlineSeconds = 120),
    path: "spec.activeDeadlineSeconds",
    phrase: "less than or equal to previous value",
  },
  {
    name: "activeDeadlineSeconds removed",
    before: (m) => (m.spec.activeDeadlineSeconds = 60),
    edit: (m) => delete m.spec.activeDeadlineSeconds,
    path: "spec.activeDeadlineSeconds",
    phrase: "must not update from a positive integer to nil value",
  },
  { name: "name changed", edit: (m) => (m.metadata.name = "web-1"), path: "metadata.name", phrase: "field is immutable" },
];
for (const c of updateCases) {
  test(`Pod update: ${c.name}`, () => {
    const before = pod();
    c.before?.(before);
    const after = structuredClone(before);
    c.edit(after);
    const errs = validateUpdate(Pod_, after, before);
    expectOne(errs, c.path, c.phrase);
  });
}

test("Pod update: a stored (binary-decoded) old pod compares equal to a JSON-decoded new one", () => {
  const stored = KINDS.Pod.codec.decode(KINDS.Pod.codec.encode(decode(Pod_, pod())).finish());
  const incoming = decode(Pod_, pod());
  expectNone(admissionFor(KINDS.Pod).validateUpdate(incoming, stored));
});

// DefaultTolerationSeconds, as Kubernetes' admission plugin of that name.
const NOT_READY = "node.kubernetes.io/not-ready";
const UNREACHABLE = "node.kubernetes.io/unreachable";
const tolerationsOf = (m: Manifest, options = {}) => {
  const obj = Pod_.codec.fromJSON(m);
  admissionFor(KINDS.Pod, options).default(obj);
  return obj.spec!.tolerations.map((t) => `${t.key || "*"}:${t.operator}:${t.effect || "*"}:${t.tolerationSeconds ?? "-"}`);
};

test("Pod: not-ready and unreachable NoExecute tolerations are added with the gateway's seconds", () => {
  const m = pod();
  m.spec.tolerations = [];
  assert.deepEqual(tolerationsOf(m), [`${NOT_READY}:Exists:NoExecute:2`, `${UNREACHABLE}:Exists:NoExecute:2`]);
  assert.deepEqual(tolerationsOf(m, { defaultNotReadyTolerationSeconds: 30, defaultUnreachableTolerationSeconds: 5 }), [
    `${NOT_READY}:Exists:NoExecute:30`,
    `${UNREACHABLE}:Exists:NoExecute:5`,
  ]);
});

test("Pod: a toleration the pod has for either taint is kept and not doubled", () => {
  const table: [string, Manifest[], string[]][] = [
    ["its own not-ready toleration", [{ key: NOT_READY, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }], [`${NOT_READY}:Exists:NoExecute:300`, `${UNREACHABLE}:Exists:NoExecute:2`]],
    ["unreachable forever", [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute" }], [`${UNREACHABLE}:Exists:NoExecute:-`, `${NOT_READY}:Exists:NoExecute:2`]],
    ["any effect of the key", [{ key: UNREACHABLE, operator: "Exists" }], [`${UNREACHABLE}:Exists:*:-`, `${NOT_READY}:Exists:NoExecute:2`]],
    ["everything", [{ operator: "Exists" }], ["*:Exists:*:-"]],
    ["every NoExecute taint", [{ operator: "Exists", effect: "NoExecute" }], ["*:Exists:NoExecute:-"]],
    ["a NoSchedule toleration does not count", [{ key: UNREACHABLE, operator: "Exists", effect: "NoSchedule" }], [`${UNREACHABLE}:Exists:NoSchedule:-`, `${NOT_READY}:Exists:NoExecute:2`, `${UNREACHABLE}:Exists:NoExecute:2`]],
  ];
  for (const [name, given, want] of table) {
    const m = pod();
    m.spec.tolerations = given;
    assert.deepEqual(tolerationsOf(m), want, name);
    // Defaulting twice (create, then an update) changes nothing more.
    const once = Pod_.codec.fromJSON(m);
    admissionFor(KINDS.Pod).default(once);
    const twice = structuredClone(once);
    admissionFor(KINDS.Pod).default(twice);
    assert.deepEqual(twice, once, name);
  }
});

test("Pod update: leaving out the default tolerations is not a removal (they are added again)", () => {
  const before = pod();
  before.spec.tolerations = [];
  const after = structuredClone(before);
  expectNone(validateUpdate(Pod_, after, before));
});
