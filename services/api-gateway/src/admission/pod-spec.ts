// The pod spec, wherever it appears: Pod.spec, and the pod templates of ReplicaSet and Deployment
// (spec.template.spec). Callers pass the path prefix; every error path starts with it.
import {
  checkDns1123Label,
  checkDns1123Subdomain,
  checkLabelValue,
  checkQualifiedName,
  checkQuantity,
  type Affinity,
  type FieldError,
  type KeyToPath,
  type NodeSelectorRequirement,
  type NodeSelectorTerm,
  type PodSpec,
  type Toleration,
  type Volume,
} from "@navarch/api";
import { defaultContainer, validateContainer, type ContainerContext } from "./container.js";
import { duplicate, forbidden, invalid, nonNegative, notSupported, oneOf, required, syntax } from "./errors.js";
import { checkRelativePath } from "./formats.js";
import { validateLabels } from "./metadata.js";
import { child, index } from "./paths.js";

const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const TOLERATION_OPERATORS = ["Exists", "Equal"];
const NODE_SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const HOST_PATH_TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"];
const VOLUME_SOURCES = ["emptyDir", "hostPath", "configMap", "secret", "persistentVolumeClaim", "nfs"] as const;
const MAX_INT32 = 2147483647;

export function defaultPodSpec(spec: PodSpec): void {
  if (spec.restartPolicy === "") spec.restartPolicy = "Always";
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = 30;
  if (spec.dnsPolicy === "") spec.dnsPolicy = "ClusterFirst";
  if (spec.schedulerName === "") spec.schedulerName = "default-scheduler";
  for (const c of [...spec.initContainers, ...spec.containers]) defaultContainer(c);
  for (const t of spec.tolerations) if (t.operator === "") t.operator = "Equal";
}

export function validatePodSpec(spec: PodSpec | undefined, path: string): FieldError[] {
  if (!spec) return [required(path)];
  const errs: FieldError[] = [];
  const volumes = validateVolumes(spec.volumes, child(path, "volumes"), errs);

  if (spec.containers.length === 0) errs.push(required(child(path, "containers")));
  // Init and regular containers share one name space (logs, exec and status address them by name).
  const names = new Set<string>();
  const initCtx: ContainerContext = { volumes, names, init: true };
  spec.initContainers.forEach((c, i) => errs.push(...validateContainer(c, index(child(path, "initContainers"), i), initCtx)));
  const ctx: ContainerContext = { volumes, names, init: false };
  spec.containers.forEach((c, i) => errs.push(...validateContainer(c, index(child(path, "containers"), i), ctx)));
  errs.push(...validateHostPorts(spec, path));

  errs.push(...oneOf(child(path, "restartPolicy"), spec.restartPolicy, RESTART_POLICIES));
  errs.push(...oneOf(child(path, "dnsPolicy"), spec.dnsPolicy, DNS_POLICIES));
  errs.push(...nonNegative(child(path, "terminationGracePeriodSeconds"), spec.terminationGracePeriodSeconds));
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (deadline < 1 || deadline > MAX_INT32)) {
    errs.push(invalid(child(path, "activeDeadlineSeconds"), deadline, `must be between 1 and ${MAX_INT32}, inclusive`));
  }
  if (spec.nodeName !== "") errs.push(...syntax(child(path, "nodeName"), spec.nodeName, checkDns1123Subdomain));
  if (spec.hostname !== "") errs.push(...syntax(child(path, "hostname"), spec.hostname, checkDns1123Label));
  if (spec.subdomain !== "") errs.push(...syntax(child(path, "subdomain"), spec.subdomain, checkDns1123Label));
  if (spec.serviceAccountName !== "") {
    errs.push(...syntax(child(path, "serviceAccountName"), spec.serviceAccountName, checkDns1123Subdomain));
  }
  errs.push(...validateLabels(spec.nodeSelector, child(path, "nodeSelector")));
  spec.tolerations.forEach((t, i) => errs.push(...validateToleration(t, index(child(path, "tolerations"), i))));
  if (spec.affinity) errs.push(...validateAffinity(spec.affinity, child(path, "affinity")));
  return errs;
}

/** Two containers cannot bind the same host port; the second could never start. */
function validateHostPorts(spec: PodSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  spec.containers.forEach((c, ci) =>
    c.ports.forEach((port, pi) => {
      if (!port.hostPort) return;
      const id = `${port.hostPort}/${port.protocol || "TCP"}${port.hostIP ? `@${port.hostIP}` : ""}`;
      if (seen.has(id)) errs.push(duplicate(child(index(child(index(child(path, "containers"), ci), "ports"), pi), "hostPort"), id));
      seen.add(id);
    }),
  );
  return errs;
}

/** Checks spec.volumes and returns the valid names, for volumeMounts to refer to. */
function validateVolumes(volumes: Volume[], path: string, errs: FieldError[]): Set<string> {
  const names = new Set<string>();
  volumes.forEach((v, i) => {
    const p = index(path, i);
    if (v.name === "") errs.push(required(child(p, "name")));
    else {
      errs.push(...syntax(child(p, "name"), v.name, checkDns1123Label));
      if (names.has(v.name)) errs.push(duplicate(child(p, "name"), v.name));
      names.add(v.name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v[s]);
    if (sources.length === 0) errs.push(required(p, "must specify a volume type"));
    for (const extra of sources.slice(1)) errs.push(forbidden(child(p, extra), "may not specify more than 1 volume type"));
    errs.push(...validateVolumeSource(v, p));
  });
  return names;
}

function validateVolumeSource(v: Volume, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (v.emptyDir) {
    const e = child(p, "emptyDir");
    if (v.emptyDir.medium !== "" && v.emptyDir.medium !== "Memory") errs.push(notSupported(child(e, "medium"), v.emptyDir.medium, ["", "Memory"]));
    if (v.emptyDir.sizeLimit !== "") errs.push(...syntax(child(e, "sizeLimit"), v.emptyDir.sizeLimit, checkQuantity));
  }
  if (v.hostPath) {
    const h = child(p, "hostPath");
    if (v.hostPath.path === "") errs.push(required(child(h, "path")));
    if (!HOST_PATH_TYPES.includes(v.hostPath.type)) errs.push(notSupported(child(h, "type"), v.hostPath.type, HOST_PATH_TYPES));
  }
  if (v.configMap) {
    const c = child(p, "configMap");
    if (v.configMap.name === "") errs.push(required(child(c, "name")));
    errs.push(...validateItems(v.configMap.items, v.configMap.defaultMode, c));
  }
  if (v.secret) {
    const s = child(p, "secret");
    if (v.secret.secretName === "") errs.push(required(child(s, "secretName")));
    errs.push(...validateItems(v.secret.items, v.secret.defaultMode, s));
  }
  if (v.persistentVolumeClaim && v.persistentVolumeClaim.claimName === "") {
    errs.push(required(child(child(p, "persistentVolumeClaim"), "claimName")));
  }
  if (v.nfs) {
    const n = child(p, "nfs");
    if (v.nfs.server === "") errs.push(required(child(n, "server")));
    if (v.nfs.path === "") errs.push(required(child(n, "path")));
    else if (!v.nfs.path.startsWith("/")) errs.push(invalid(child(n, "path"), v.nfs.path, "must be an absolute path"));
  }
  return errs;
}

function checkMode(mode: number | undefined, path: string): FieldError[] {
  return mode !== undefined && (mode < 0 || mode > 0o777)
    ? [invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive")]
    : [];
}

function validateItems(items: KeyToPath[], defaultMode: number | undefined, path: string): FieldError[] {
  const errs = checkMode(defaultMode, child(path, "defaultMode"));
  items.forEach((item, i) => {
    const p = index(child(path, "items"), i);
    if (item.key === "") errs.push(required(child(p, "key")));
    if (item.path === "") errs.push(required(child(p, "path")));
    else errs.push(...syntax(child(p, "path"), item.path, checkRelativePath));
    errs.push(...checkMode(item.mode, child(p, "mode")));
  });
  return errs;
}

export function validateToleration(t: Toleration, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (t.key !== "") errs.push(...syntax(child(path, "key"), t.key, checkQualifiedName));
  // An empty key matches every taint, which only makes sense with Exists.
  if (t.key === "" && t.operator !== "Exists") {
    errs.push(invalid(child(path, "operator"), t.operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
  }
  if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
    errs.push(invalid(child(path, "effect"), t.effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  }
  if (t.operator === "Exists") {
    if (t.value !== "") errs.push(invalid(child(path, "operator"), t.value, "value must be empty when `operator` is 'Exists'"));
  } else if (t.operator === "Equal" || t.operator === "") {
    errs.push(...syntax(child(path, "value"), t.value, checkLabelValue));
  } else {
    errs.push(notSupported(child(path, "operator"), t.operator, TOLERATION_OPERATORS));
  }
  if (t.effect !== "" && !TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(child(path, "effect"), t.effect, TAINT_EFFECTS));
  return errs;
}

function validateAffinity(a: Affinity, path: string): FieldError[] {
  const na = a.nodeAffinity;
  if (!na) return [];
  const errs: FieldError[] = [];
  const p = child(path, "nodeAffinity");
  const req = na.requiredDuringSchedulingIgnoredDuringExecution;
  if (req) {
    const rp = child(child(p, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms");
    if (req.nodeSelectorTerms.length === 0) errs.push(required(rp, "must have at least one node selector term"));
    req.nodeSelectorTerms.forEach((term, i) => errs.push(...validateTerm(term, index(rp, i))));
  }
  na.preferredDuringSchedulingIgnoredDuringExecution.forEach((pref, i) => {
    const pp = index(child(p, "preferredDuringSchedulingIgnoredDuringExecution"), i);
    if (pref.weight < 1 || pref.weight > 100) errs.push(invalid(child(pp, "weight"), pref.weight, "must be in the range 1-100"));
    if (!pref.preference) errs.push(required(child(pp, "preference")));
    else errs.push(...validateTerm(pref.preference, child(pp, "preference")));
  });
  return errs;
}

function validateTerm(term: NodeSelectorTerm, path: string): FieldError[] {
  const errs: FieldError[] = [];
  term.matchExpressions.forEach((r, i) => errs.push(...validateRequirement(r, index(child(path, "matchExpressions"), i))));
  // Fields select a node by name only: `metadata.name In [one-node]`.
  term.matchFields.forEach((r, i) => {
    const p = index(child(path, "matchFields"), i);
    if (r.key !== "metadata.name") errs.push(notSupported(child(p, "key"), r.key, ["metadata.name"]));
    if (r.operator !== "In" && r.operator !== "NotIn") errs.push(notSupported(child(p, "operator"), r.operator, ["In", "NotIn"]));
    else if (r.values.length !== 1) {
      errs.push(required(child(p, "values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    }
  });
  return errs;
}

function validateRequirement(r: NodeSelectorRequirement, path: string): FieldError[] {
  const errs = syntax(child(path, "key"), r.key, checkQualifiedName);
  const values = child(path, "values");
  switch (r.operator) {
    case "In":
    case "NotIn":
      if (r.values.length === 0) errs.push(required(values, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case "Exists":
    case "DoesNotExist":
      if (r.values.length > 0) errs.push(forbidden(values, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case "Gt":
    case "Lt":
      if (r.values.length !== 1) errs.push(required(values, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      else if (!/^-?\d+$/.test(r.values[0]!)) errs.push(invalid(index(values, 0), r.values[0], "must be an integer"));
      break;
    default:
      errs.push(...oneOf(child(path, "operator"), r.operator, NODE_SELECTOR_OPERATORS));
  }
  return errs;
}
