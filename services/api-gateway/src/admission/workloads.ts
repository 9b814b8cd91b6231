// ReplicaSet, Deployment, DaemonSet and Job: a selector and a pod template the selector must
// match (otherwise the controller would create pods it does not count, forever).
import {
  checkLabelValue,
  checkQualifiedName,
  fromLabelSelector,
  LabelSelector,
  matches,
  type DaemonSet,
  type Deployment,
  type DeploymentSpec,
  type Job,
  type FieldError,
  ObjectMeta,
  PodTemplateSpec,
  type ReplicaSet,
  type ReplicaSetSpec,
} from "@navarch/api";
import { isDeepStrictEqual } from "node:util";
import { forbidden, invalid, nonNegative, notSupported, oneOf, required, syntax } from "./errors.js";
import type { KindRules } from "./index.js";
import { validateAnnotations, validateLabels } from "./metadata.js";
import { child, index } from "./paths.js";
import { defaultPodSpec, validatePodSpec } from "./pod-spec.js";

const STRATEGIES = ["RollingUpdate", "Recreate"];

type WorkloadSpec = ReplicaSetSpec | DeploymentSpec;

function defaultWorkload(spec: WorkloadSpec): void {
  if (spec.replicas === undefined) spec.replicas = 1;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

/** Rules common to both kinds, on spec.replicas, spec.selector and spec.template. */
function validateWorkload(spec: WorkloadSpec | undefined, kind: string): FieldError[] {
  if (!spec) return [required("spec")];
  const errs: FieldError[] = [];
  errs.push(...nonNegative("spec.replicas", spec.replicas));
  errs.push(...nonNegative("spec.minReadySeconds", spec.minReadySeconds));
  const selectorErrs = validateSelector(spec.selector, "spec.selector", kind);
  errs.push(...selectorErrs);
  // Kubernetes names ReplicaSet in this message for Deployments too (both validate a ReplicaSet's template).
  errs.push(...validateTemplate(spec.template, "spec.template", ALWAYS, "ReplicaSet"));
  errs.push(...selectorMatchesTemplate(spec.selector, selectorErrs, spec.template));
  return errs;
}

function selectorMatchesTemplate(selector: LabelSelector | undefined, selectorErrs: FieldError[], template: PodTemplateSpec | undefined): FieldError[] {
  if (!selector || selectorErrs.length > 0 || !template) return [];
  const labels = template.metadata?.labels ?? {};
  return matches(fromLabelSelector(selector), labels) ? [] : [invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")];
}

/** A structured selector that must select something: an empty one would adopt every pod. */
function validateSelector(sel: LabelSelector | undefined, path: string, kind: string): FieldError[] {
  if (!sel) return [required(path)];
  if (Object.keys(sel.matchLabels).length === 0 && sel.matchExpressions.length === 0) {
    return [invalid(path, {}, `empty selector is invalid for ${kind.toLowerCase()}`)];
  }
  const errs = validateLabels(sel.matchLabels, child(path, "matchLabels"));
  sel.matchExpressions.forEach((e, i) => {
    const p = index(child(path, "matchExpressions"), i);
    errs.push(...syntax(child(p, "key"), e.key, checkQualifiedName));
    const values = child(p, "values");
    switch (e.operator) {
      case "In":
      case "NotIn":
        if (e.values.length === 0) errs.push(required(values, "must be specified when `operator` is 'In' or 'NotIn'"));
        e.values.forEach((v, j) => errs.push(...syntax(index(values, j), v, checkLabelValue)));
        break;
      case "Exists":
      case "DoesNotExist":
        if (e.values.length > 0) errs.push(forbidden(values, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(...oneOf(child(p, "operator"), e.operator, ["In", "NotIn", "Exists", "DoesNotExist"]));
    }
  });
  return errs;
}

const ALWAYS = ["Always"];

function validateTemplate(template: PodTemplateSpec | undefined, path: string, restartPolicies: string[], kind: string): FieldError[] {
  if (!template) return [required(path)];
  const meta = child(path, "metadata");
  const spec = child(path, "spec");
  const errs = [
    ...validateLabels(template.metadata?.labels, child(meta, "labels")),
    ...validateAnnotations(template.metadata?.annotations, child(meta, "annotations")),
    ...validatePodSpec(template.spec, spec),
  ];
  // A replica controller replaces pods that end, so a pod meant to end would be recreated
  // forever; a Job's pods are meant to end. (Job: validatePodSpec already said "Required value".)
  const restart = template.spec?.restartPolicy ?? "";
  if (restart !== "" && !restartPolicies.includes(restart)) errs.push(notSupported(child(spec, "restartPolicy"), restart, restartPolicies));
  if (restartPolicies === ALWAYS && template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(forbidden(child(spec, "activeDeadlineSeconds"), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** The selector decides which pods a controller owns; changing it would orphan or steal pods. */
function validateSelectorUpdate(now: LabelSelector | undefined, before: LabelSelector | undefined): FieldError[] {
  const a = now ? LabelSelector.toJSON(now) : undefined;
  const b = before ? LabelSelector.toJSON(before) : undefined;
  return isDeepStrictEqual(a, b) ? [] : [invalid("spec.selector", a ?? null, "field is immutable")];
}

export const replicaSetRules: KindRules<ReplicaSet> = {
  default(rs) {
    if (rs.spec) defaultWorkload(rs.spec);
  },
  validate(rs) {
    return validateWorkload(rs.spec, "ReplicaSet");
  },
  validateUpdate(rs, old) {
    return validateSelectorUpdate(rs.spec?.selector, old.spec?.selector);
  },
};

export const deploymentRules: KindRules<Deployment> = {
  default(d) {
    const spec = d.spec;
    if (!spec) return;
    defaultWorkload(spec);
    const strategy = (spec.strategy ??= { type: "", rollingUpdate: undefined });
    if (strategy.type === "") strategy.type = "RollingUpdate";
    if (strategy.type === "RollingUpdate") {
      const ru = (strategy.rollingUpdate ??= { maxSurge: "", maxUnavailable: "" });
      if (ru.maxSurge === "") ru.maxSurge = "25%";
      if (ru.maxUnavailable === "") ru.maxUnavailable = "25%";
    }
    if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
    if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = 600;
  },

  validate(d) {
    const spec = d.spec;
    const errs = validateWorkload(spec, "Deployment");
    if (!spec) return errs;
    errs.push(...nonNegative("spec.revisionHistoryLimit", spec.revisionHistoryLimit));
    const deadline = spec.progressDeadlineSeconds;
    if (deadline !== undefined && deadline <= (spec.minReadySeconds ?? 0)) {
      errs.push(invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"));
    }
    const strategy = spec.strategy;
    if (strategy) {
      errs.push(...oneOf("spec.strategy.type", strategy.type, STRATEGIES));
      const ru = strategy.rollingUpdate;
      if (ru && strategy.type === "Recreate") {
        errs.push(forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
      } else if (ru) {
        const p = "spec.strategy.rollingUpdate";
        const surge = intOrPercent(ru.maxSurge, child(p, "maxSurge"), errs);
        const unavailable = intOrPercent(ru.maxUnavailable, child(p, "maxUnavailable"), errs);
        if (unavailable?.percent && unavailable.value > 100) {
          errs.push(invalid(child(p, "maxUnavailable"), ru.maxUnavailable, "must not be greater than 100%"));
        }
        // With neither extra pods nor missing pods allowed, a rollout could never make progress.
        if (surge?.value === 0 && unavailable?.value === 0) {
          errs.push(invalid(child(p, "maxUnavailable"), ru.maxUnavailable, "may not be 0 when `maxSurge` is 0"));
        }
      }
    }
    return errs;
  },

  validateUpdate(d, old) {
    return validateSelectorUpdate(d.spec?.selector, old.spec?.selector);
  },
};

/** maxSurge / maxUnavailable: "3" or "25%". Empty (unset) is left to the defaults. */
function intOrPercent(value: string, path: string, errs: FieldError[]): { value: number; percent: boolean } | undefined {
  if (value === "") return undefined;
  const m = /^(-?\d+)(%?)$/.exec(value);
  if (!m) {
    errs.push(invalid(path, value, "must be an integer or a percentage (e.g. '25%')"));
    return undefined;
  }
  const n = Number(m[1]);
  if (n < 0) {
    errs.push(invalid(path, value, "must be greater than or equal to 0"));
    return undefined;
  }
  return { value: n, percent: m[2] === "%" };
}

// ---- DaemonSet ----

const DAEMONSET_STRATEGIES = ["RollingUpdate", "OnDelete"];

export const daemonSetRules: KindRules<DaemonSet> = {
  default(ds) {
    const spec = ds.spec;
    if (!spec) return;
    if (spec.template?.spec) defaultPodSpec(spec.template.spec);
    const strategy = (spec.updateStrategy ??= { type: "", rollingUpdate: undefined });
    if (strategy.type === "") strategy.type = "RollingUpdate";
    if (strategy.type === "RollingUpdate") {
      const ru = (strategy.rollingUpdate ??= { maxUnavailable: "", maxSurge: "" });
      if (ru.maxUnavailable === "") ru.maxUnavailable = "1";
      if (ru.maxSurge === "") ru.maxSurge = "0";
    }
    if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
  },

  validate(ds) {
    const spec = ds.spec;
    if (!spec) return [required("spec")];
    const errs: FieldError[] = [];
    errs.push(...nonNegative("spec.minReadySeconds", spec.minReadySeconds));
    errs.push(...nonNegative("spec.revisionHistoryLimit", spec.revisionHistoryLimit));
    const selectorErrs = validateSelector(spec.selector, "spec.selector", "DaemonSet");
    errs.push(...selectorErrs);
    // A daemon pod that ends would be recreated on its node forever.
    errs.push(...validateTemplate(spec.template, "spec.template", ALWAYS, "DaemonSet"));
    errs.push(...selectorMatchesTemplate(spec.selector, selectorErrs, spec.template));
    const strategy = spec.updateStrategy;
    if (strategy) {
      errs.push(...oneOf("spec.updateStrategy.type", strategy.type, DAEMONSET_STRATEGIES));
      const ru = strategy.rollingUpdate;
      if (strategy.type === "RollingUpdate" && ru) {
        const p = "spec.updateStrategy.rollingUpdate";
        const surge = intOrPercent(ru.maxSurge, child(p, "maxSurge"), errs);
        const unavailable = intOrPercent(ru.maxUnavailable, child(p, "maxUnavailable"), errs);
        if (unavailable?.percent && unavailable.value > 100) {
          errs.push(invalid(child(p, "maxUnavailable"), ru.maxUnavailable, "must not be greater than 100%"));
        }
        // The controller replaces a node's pod by deleting the old one first (Kubernetes' default,
        // maxSurge 0); it never runs two daemon pods on one node.
        if (surge && surge.value > 0) {
          errs.push(invalid(child(p, "maxSurge"), ru.maxSurge, "only 0 is supported: Navarch replaces a node's daemon pod by deleting the old one first"));
        } else if (unavailable?.value === 0) {
          errs.push(invalid(child(p, "maxUnavailable"), ru.maxUnavailable, "may not be 0 when `maxSurge` is 0"));
        }
      }
    }
    return errs;
  },

  validateUpdate(ds, old) {
    return validateSelectorUpdate(ds.spec?.selector, old.spec?.selector);
  },
};

// ---- Job ----

/** Labels Kubernetes puts on a Job's pod template (and the generated selector uses the first). */
export const JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
/** The same without the prefix, as Kubernetes still writes them for older clients. */
const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";
const LEGACY_JOB_NAME_LABEL = "job-name";

const JOB_RESTART_POLICIES = ["OnFailure", "Never"];
const COMPLETION_MODES = ["NonIndexed"];

export const jobRules: KindRules<Job> = {
  default(job) {
    const spec = job.spec;
    if (!spec) return;
    // As Kubernetes: both unset is one pod to one completion; parallelism alone is a work queue
    // (completions stay unset: done when one pod succeeded and the rest have ended).
    if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
    if (spec.parallelism === undefined) spec.parallelism = 1;
    if (spec.backoffLimit === undefined) spec.backoffLimit = 6;
    if (spec.completionMode === "") spec.completionMode = "NonIndexed";
    if (spec.suspend === undefined) spec.suspend = false;
    const template = spec.template;
    if (template?.spec) {
      // restartPolicy has no default for a Job's pods: it must be chosen (OnFailure or Never).
      const restart = template.spec.restartPolicy;
      defaultPodSpec(template.spec);
      template.spec.restartPolicy = restart;
    }
    // The generated selector: the job's uid (set by the gateway before admission) on its pods.
    const uid = job.metadata?.uid ?? "";
    if (spec.manualSelector !== true && uid !== "") spec.selector ??= { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid }, matchExpressions: [] };
    if (template && spec.manualSelector !== true && uid !== "") {
      const meta = (template.metadata ??= ObjectMeta.fromPartial({}));
      meta.labels = {
        ...meta.labels,
        [JOB_CONTROLLER_UID_LABEL]: uid,
        [JOB_NAME_LABEL]: job.metadata!.name,
        [LEGACY_CONTROLLER_UID_LABEL]: uid,
        [LEGACY_JOB_NAME_LABEL]: job.metadata!.name,
      };
      if (Object.keys(job.metadata!.labels ?? {}).length === 0) job.metadata!.labels = { ...meta.labels };
    }
  },

  validate(job) {
    const spec = job.spec;
    if (!spec) return [required("spec")];
    const errs: FieldError[] = [];
    errs.push(...nonNegative("spec.parallelism", spec.parallelism));
    errs.push(...nonNegative("spec.completions", spec.completions));
    errs.push(...nonNegative("spec.activeDeadlineSeconds", spec.activeDeadlineSeconds));
    errs.push(...nonNegative("spec.backoffLimit", spec.backoffLimit));
    errs.push(...nonNegative("spec.ttlSecondsAfterFinished", spec.ttlSecondsAfterFinished));
    if (spec.completionMode === "Indexed") {
      errs.push(notSupported("spec.completionMode", spec.completionMode, COMPLETION_MODES));
    } else {
      errs.push(...oneOf("spec.completionMode", spec.completionMode, COMPLETION_MODES));
    }
    const selectorErrs = validateSelector(spec.selector, "spec.selector", "Job");
    const uid = job.metadata?.uid ?? "";
    if (spec.manualSelector !== true && spec.selector && selectorErrs.length === 0 && uid !== "") {
      // Without manualSelector the selector is the generated one; another would adopt other pods.
      const given = LabelSelector.toJSON(spec.selector);
      const generated = LabelSelector.toJSON({ matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid }, matchExpressions: [] });
      if (!isDeepStrictEqual(given, generated)) {
        selectorErrs.push(invalid("spec.selector", given, "`selector` not auto-generated (set `manualSelector: true` to choose your own)"));
      }
    }
    errs.push(...selectorErrs);
    const restart = spec.template?.spec?.restartPolicy ?? "";
    if (spec.template?.spec && restart === "") {
      errs.push(required("spec.template.spec.restartPolicy", `valid values: ${JOB_RESTART_POLICIES.map((p) => JSON.stringify(p)).join(", ")}`));
    }
    const templateErrs = validateTemplate(spec.template, "spec.template", JOB_RESTART_POLICIES, "Job");
    // validatePodSpec reports an empty restartPolicy as well; say it once, with the Job's choices.
    errs.push(...templateErrs.filter((e) => !(restart === "" && e.path === "spec.template.spec.restartPolicy")));
    errs.push(...selectorMatchesTemplate(spec.selector, selectorErrs, spec.template));
    return errs;
  },

  validateUpdate(job, old) {
    const errs = validateSelectorUpdate(job.spec?.selector, old.spec?.selector);
    // Running pods were made from the template; a Job is not rolled out, so it cannot change.
    const now = job.spec?.template ? PodTemplateSpec.toJSON(job.spec.template) : undefined;
    const before = old.spec?.template ? PodTemplateSpec.toJSON(old.spec.template) : undefined;
    if (!isDeepStrictEqual(now, before)) errs.push(invalid("spec.template", "<pod template>", "field is immutable"));
    if (job.spec?.completions !== old.spec?.completions) errs.push(invalid("spec.completions", job.spec?.completions ?? null, "field is immutable"));
    if (job.spec?.completionMode !== old.spec?.completionMode) errs.push(invalid("spec.completionMode", job.spec?.completionMode ?? "", "field is immutable"));
    return errs;
  },
};
