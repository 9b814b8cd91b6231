// The columns `navctl get` prints for each kind, as kubectl prints them. NAME comes first for every
// kind but events; NAMESPACE (with -A) and LABELS (--show-labels) are added by the caller.
import type {
  ConfigMap,
  DaemonSet,
  Deployment,
  Endpoints,
  Event,
  Job,
  KindInfo,
  KubeObject,
  Lease,
  Namespace,
  Node,
  Pod,
  ReplicaSet,
  Secret,
  Service,
} from "@navarch/api";
import { NODE_PART_PROBLEMS, nodePartBroken } from "@navarch/api";
import { age, humanDuration } from "./age.js";
import { ingressColumns } from "./ingress.js";

export interface KindColumns {
  /** Whether the first column is NAME (false for events, which start with LAST SEEN). */
  named: boolean;
  headers: string[];
  cells(obj: KubeObject, now: number): string[];
  wideHeaders?: string[];
  wideCells?(obj: KubeObject, now: number): string[];
}

export const NONE = "<none>";

const orNone = (s: string | undefined) => (s ? s : NONE);

/** "a=b,c=d" with keys sorted, or "<none>" (kubectl's labels.FormatLabels). */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length === 0 ? NONE : keys.map((k) => `${k}=${labels![k]}`).join(",");
}

function created(obj: KubeObject, now: number): string {
  return age(obj.metadata?.creationTimestamp, now);
}

// ---- pods ----

/** READY, STATUS and RESTARTS of a pod, following kubectl's printPod. */
export function podSummary(pod: Pod, now: number): { ready: string; status: string; restarts: string } {
  const spec = pod.spec;
  const status = pod.status;
  const total = spec?.containers?.length ?? 0;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let reason = status?.reason || status?.phase || "";
  const noteRestart = (finishedAt: string | undefined) => {
    const t = finishedAt ? Date.parse(finishedAt) : NaN;
    if (!Number.isNaN(t) && t > lastRestart) lastRestart = t;
  };
  let initializing = false;
  const inits = status?.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    restarts += c.restartCount ?? 0;
    noteRestart(c.lastState?.terminated?.finishedAt);
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    initializing = true;
    if (term) {
      reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    } else if (wait?.reason && wait.reason !== "PodInitializing") {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${spec?.initContainers?.length ?? inits.length}`;
    }
    break;
  }
  if (!initializing) {
    restarts = 0;
    let hasRunning = false;
    const containers = [...(status?.containerStatuses ?? [])].reverse();
    for (const c of containers) {
      restarts += c.restartCount ?? 0;
      noteRestart(c.lastState?.terminated?.finishedAt);
      const term = c.state?.terminated;
      const wait = c.state?.waiting;
      if (wait?.reason) reason = wait.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = status?.conditions?.find((c) => c.type === "Ready");
      reason = podReady?.status === "True" ? "Running" : "NotReady";
    }
  }
  if (pod.metadata?.deletionTimestamp) reason = status?.reason === "NodeLost" ? "Unknown" : "Terminating";
  const restartText = lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : `${restarts}`;
  return { ready: `${ready}/${total}`, status: reason || "Pending", restarts: restartText };
}

const pods: KindColumns = {
  named: true,
  headers: ["READY", "STATUS", "RESTARTS", "AGE"],
  cells(obj, now) {
    const s = podSummary(obj as Pod, now);
    return [s.ready, s.status, s.restarts, created(obj, now)];
  },
  wideHeaders: ["IP", "NODE"],
  wideCells(obj) {
    const p = obj as Pod;
    return [orNone(p.status?.podIP), orNone(p.spec?.nodeName)];
  },
};

// ---- nodes ----

export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  const parts = [ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown"];
  if (node.spec?.unschedulable) parts.push("SchedulingDisabled");
  // A node agent's part that is broken (not one that is off on purpose): Ready,ServiceProxyNotReady.
  for (const c of node.status?.conditions ?? []) if (nodePartBroken(c)) parts.push(NODE_PART_PROBLEMS[c.type]!);
  return parts.join(",");
}

export function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/") && k.length > "node-role.kubernetes.io/".length) {
      roles.add(k.slice("node-role.kubernetes.io/".length));
    } else if (k === "kubernetes.io/role" && v) {
      roles.add(v);
    }
  }
  return roles.size === 0 ? NONE : [...roles].sort().join(",");
}

const nodes: KindColumns = {
  named: true,
  headers: ["STATUS", "ROLES", "AGE", "VERSION"],
  cells(obj, now) {
    const n = obj as Node;
    return [nodeStatus(n), nodeRoles(n), created(obj, now), orNone(n.status?.nodeInfo?.kubeletVersion)];
  },
  wideHeaders: ["INTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
  wideCells(obj) {
    const n = obj as Node;
    const info = n.status?.nodeInfo;
    const internal = n.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    return [orNone(internal), orNone(info?.osImage), orNone(info?.kernelVersion), orNone(info?.containerRuntimeVersion)];
  },
};

// ---- services and endpoints ----

export function servicePorts(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return NONE;
  return ports
    .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol || "TCP"}`)
    .join(",");
}

export function serviceExternalIp(svc: Service): string {
  const type = svc.spec?.type || "ClusterIP";
  const external = svc.spec?.externalIPs ?? [];
  switch (type) {
    case "ExternalName":
      return orNone(svc.spec?.externalName);
    case "LoadBalancer":
      return external.length > 0 ? external.join(",") : "<pending>";
    default:
      return external.length > 0 ? external.join(",") : NONE;
  }
}

const services: KindColumns = {
  named: true,
  headers: ["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
  cells(obj, now) {
    const s = obj as Service;
    return [s.spec?.type || "ClusterIP", orNone(s.spec?.clusterIP), serviceExternalIp(s), servicePorts(s), created(obj, now)];
  },
  wideHeaders: ["SELECTOR"],
  wideCells(obj) {
    return [formatLabels((obj as Service).spec?.selector)];
  },
};

/** "10.0.0.1:80,10.0.0.2:80 + 3 more..." (kubectl's formatEndpoints, at most 3 shown). */
export function formatEndpoints(ep: Endpoints, max = 3): string {
  const all: string[] = [];
  for (const subset of ep.subsets ?? []) {
    const addrs = subset.addresses ?? [];
    const ports = subset.ports ?? [];
    if (ports.length === 0) for (const a of addrs) all.push(a.ip);
    else for (const p of ports) for (const a of addrs) all.push(`${a.ip}:${p.port}`);
  }
  if (all.length === 0) return NONE;
  const shown = all.slice(0, max).join(",");
  return all.length > max ? `${shown} + ${all.length - max} more...` : shown;
}

const endpoints: KindColumns = {
  named: true,
  headers: ["ENDPOINTS", "AGE"],
  cells(obj, now) {
    return [formatEndpoints(obj as Endpoints), created(obj, now)];
  },
};

// ---- config ----

const configmaps: KindColumns = {
  named: true,
  headers: ["DATA", "AGE"],
  cells(obj, now) {
    const cm = obj as ConfigMap;
    return [String(Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length), created(obj, now)];
  },
};

const secrets: KindColumns = {
  named: true,
  headers: ["TYPE", "DATA", "AGE"],
  cells(obj, now) {
    const s = obj as Secret;
    const keys = new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);
    return [s.type || "Opaque", String(keys.size), created(obj, now)];
  },
};

// ---- events ----

/** When an event last happened: lastTimestamp, else firstTimestamp, else creation. */
export function eventLastSeen(ev: Event, now: number): string {
  return age(ev.lastTimestamp || ev.firstTimestamp || ev.metadata?.creationTimestamp, now);
}

export function eventObject(ev: Event): string {
  const o = ev.involvedObject;
  return `${(o?.kind ?? "").toLowerCase()}/${o?.name ?? ""}`;
}

const events: KindColumns = {
  named: false,
  headers: ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
  cells(obj, now) {
    const e = obj as Event;
    return [eventLastSeen(e, now), e.type, e.reason, eventObject(e), e.message.trim()];
  },
};

// ---- apps ----

function containersAndImages(template: { spec?: { containers?: { name: string; image: string }[] } | undefined } | undefined): string[] {
  const cs = template?.spec?.containers ?? [];
  return [orNone(cs.map((c) => c.name).join(",")), orNone(cs.map((c) => c.image).join(","))];
}

function selectorText(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values: string[] }[] } | undefined): string {
  const parts = Object.keys(sel?.matchLabels ?? {})
    .sort()
    .map((k) => `${k}=${sel!.matchLabels![k]}`);
  for (const e of sel?.matchExpressions ?? []) {
    switch (e.operator) {
      case "In":
        parts.push(`${e.key} in (${e.values.join(",")})`);
        break;
      case "NotIn":
        parts.push(`${e.key} notin (${e.values.join(",")})`);
        break;
      case "Exists":
        parts.push(e.key);
        break;
      case "DoesNotExist":
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.length === 0 ? NONE : parts.join(",");
}

export { selectorText };

const replicasets: KindColumns = {
  named: true,
  headers: ["DESIRED", "CURRENT", "READY", "AGE"],
  cells(obj, now) {
    const rs = obj as ReplicaSet;
    return [String(rs.spec?.replicas ?? 1), String(rs.status?.replicas ?? 0), String(rs.status?.readyReplicas ?? 0), created(obj, now)];
  },
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideCells(obj) {
    const rs = obj as ReplicaSet;
    return [...containersAndImages(rs.spec?.template), selectorText(rs.spec?.selector)];
  },
};

const deployments: KindColumns = {
  named: true,
  headers: ["READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
  cells(obj, now) {
    const d = obj as Deployment;
    const st = d.status;
    return [
      `${st?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
      String(st?.updatedReplicas ?? 0),
      String(st?.availableReplicas ?? 0),
      created(obj, now),
    ];
  },
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideCells(obj) {
    const d = obj as Deployment;
    return [...containersAndImages(d.spec?.template), selectorText(d.spec?.selector)];
  },
};

const daemonsets: KindColumns = {
  named: true,
  headers: ["DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
  cells(obj, now) {
    const ds = obj as DaemonSet;
    const st = ds.status;
    return [
      String(st?.desiredNumberScheduled ?? 0),
      String(st?.currentNumberScheduled ?? 0),
      String(st?.numberReady ?? 0),
      String(st?.updatedNumberScheduled ?? 0),
      String(st?.numberAvailable ?? 0),
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      created(obj, now),
    ];
  },
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideCells(obj) {
    const ds = obj as DaemonSet;
    return [...containersAndImages(ds.spec?.template), selectorText(ds.spec?.selector)];
  },
};

// ---- batch ----

/** A job's condition of this type is True. */
function jobHas(job: Job, type: string): boolean {
  return job.status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;
}

/** kubectl's STATUS of a job: Complete, Failed, Terminating, Suspended or Running. */
export function jobStatus(job: Job): string {
  if (jobHas(job, "Complete")) return "Complete";
  if (jobHas(job, "Failed")) return "Failed";
  if (job.metadata?.deletionTimestamp) return "Terminating";
  if (jobHas(job, "Suspended")) return "Suspended";
  if (jobHas(job, "FailureTarget")) return "FailureTarget";
  return "Running";
}

/** "2/3"; a work queue (no completions) shows "1/1 of 3" when it runs several pods at once. */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 1;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** From startTime to completionTime, or to now while it runs; "" before it started. */
export function jobDuration(job: Job, now: number): string {
  const start = Date.parse(job.status?.startTime ?? "");
  if (Number.isNaN(start)) return "";
  const end = Date.parse(job.status?.completionTime ?? "");
  return humanDuration((Number.isNaN(end) ? now : end) - start);
}

const jobs: KindColumns = {
  named: true,
  headers: ["STATUS", "COMPLETIONS", "DURATION", "AGE"],
  cells(obj, now) {
    const job = obj as Job;
    return [jobStatus(job), jobCompletions(job), jobDuration(job, now), created(obj, now)];
  },
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideCells(obj) {
    const job = obj as Job;
    return [...containersAndImages(job.spec?.template), selectorText(job.spec?.selector)];
  },
};

// ---- namespaces and leases ----

const namespaces: KindColumns = {
  named: true,
  headers: ["STATUS", "AGE"],
  cells(obj, now) {
    return [(obj as Namespace).status?.phase || "Active", created(obj, now)];
  },
};

const leases: KindColumns = {
  named: true,
  headers: ["HOLDER", "AGE"],
  cells(obj, now) {
    return [(obj as Lease).spec?.holderIdentity ?? "", created(obj, now)];
  },
};

const generic: KindColumns = {
  named: true,
  headers: ["AGE"],
  cells(obj, now) {
    return [created(obj, now)];
  },
};

const BY_KIND: Record<string, KindColumns> = {
  Pod: pods,
  Node: nodes,
  Service: services,
  Endpoints: endpoints,
  ConfigMap: configmaps,
  Secret: secrets,
  Event: events,
  ReplicaSet: replicasets,
  Deployment: deployments,
  DaemonSet: daemonsets,
  Job: jobs,
  Namespace: namespaces,
  Lease: leases,
  Ingress: ingressColumns,
};

export function columnsFor(info: KindInfo): KindColumns {
  return BY_KIND[info.kind] ?? generic;
}

export interface RowOptions {
  wide?: boolean | undefined;
  /** Adds NAMESPACE first (get -A). */
  withNamespace?: boolean | undefined;
  /** Writes NAME as "configmap/x" (several kinds in one get). */
  namePrefix?: string | undefined;
  showLabels?: boolean | undefined;
}

export function tableHeaders(info: KindInfo, opts: RowOptions): string[] {
  const cols = columnsFor(info);
  const out: string[] = [];
  if (opts.withNamespace) out.push("NAMESPACE");
  if (cols.named) out.push("NAME");
  out.push(...cols.headers);
  if (opts.wide && cols.wideHeaders) out.push(...cols.wideHeaders);
  if (opts.showLabels) out.push("LABELS");
  return out;
}

export function tableRow(info: KindInfo, obj: KubeObject, opts: RowOptions, now: number = Date.now()): string[] {
  const cols = columnsFor(info);
  const out: string[] = [];
  if (opts.withNamespace) out.push(obj.metadata?.namespace ?? "");
  if (cols.named) out.push(`${opts.namePrefix ?? ""}${obj.metadata?.name ?? ""}`);
  out.push(...cols.cells(obj, now));
  if (opts.wide && cols.wideCells) out.push(...cols.wideCells(obj, now));
  if (opts.showLabels) out.push(formatLabels(obj.metadata?.labels));
  return out;
}
