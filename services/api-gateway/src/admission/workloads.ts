// ReplicaSet and Deployment: a replica count, a selector, and a pod template the selector must
// match (otherwise the controller would create pods it does not count, forever).
import {
  checkLabelValue,
  checkQualifiedName,
  fromLabelSelector,
  LabelSelector,
  matches,
  type Deployment,
  type DeploymentSpec,
  type FieldError,
  type PodTemplateSpec,
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
  errs.push(...validateTemplate(spec.template, "spec.template"));
  if (spec.selector && selectorErrs.length === 0 && spec.template) {
    const labels = spec.template.metadata?.labels ?? {};
    if (!matches(fromLabelSelector(spec.selector), labels)) {
      errs.push(invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
    }
  }
  return errs;
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

function validateTemplate(template: PodTemplateSpec | undefined, path: string): FieldError[] {
  if (!template) return [required(path)];
  const meta = child(path, "metadata");
  const spec = child(path, "spec");
  const errs = [
    ...validateLabels(template.metadata?.labels, child(meta, "labels")),
    ...validateAnnotations(template.metadata?.annotations, child(meta, "annotations")),
    ...validatePodSpec(template.spec, spec),
  ];
  // The controller replaces pods that end; a pod that is meant to end would be recreated forever.
  const restart = template.spec?.restartPolicy ?? "";
  if (restart !== "" && restart !== "Always") errs.push(notSupported(child(spec, "restartPolicy"), restart, ["Always"]));
  if (template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(forbidden(child(spec, "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"));
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
