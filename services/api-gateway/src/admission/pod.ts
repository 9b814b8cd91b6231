// Pod: the pod spec rules plus what may change on a running pod. Containers are started from the
// spec once; only the few fields the node agent can apply in place may be updated.
//
// Defaulting also does what Kubernetes' DefaultTolerationSeconds admission plugin does: a pod
// that does not tolerate node.kubernetes.io/not-ready and .../unreachable (NoExecute) gets
// tolerations for them with the gateway's tolerationSeconds, so the taint eviction controller
// moves it off a lost node after that long (docs/adr/0006-fencing-and-eviction.md). As in
// Kubernetes this runs on create and update, so an update that leaves them out does not remove them.
import { PodSpec, type FieldError, type Pod, type Toleration } from "@navarch/api";
import { isDeepStrictEqual } from "node:util";
import { forbidden, invalid } from "./errors.js";
import type { KindRules } from "./index.js";
import { defaultPodSpec, validatePodSpec } from "./pod-spec.js";

const UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, " +
  "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations)";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
/** Seconds a pod stays bound to a not-ready / unreachable node (Kubernetes: 300; here the aim is a lost node's pods running elsewhere within 10 s). */
export const DEFAULT_TOLERATION_SECONDS = 2;

export interface PodDefaults {
  defaultNotReadyTolerationSeconds?: number | undefined;
  defaultUnreachableTolerationSeconds?: number | undefined;
}

/** Adds the not-ready / unreachable NoExecute tolerations a pod lacks (an empty key or effect covers them). */
export function addDefaultTolerations(spec: PodSpec, notReadySeconds: number, unreachableSeconds: number): void {
  const covers = (key: string) => spec.tolerations.some((t) => (t.key === key || t.key === "") && (t.effect === "NoExecute" || t.effect === ""));
  for (const [key, seconds] of [
    [TAINT_NOT_READY, notReadySeconds],
    [TAINT_UNREACHABLE, unreachableSeconds],
  ] as const) {
    if (!covers(key)) spec.tolerations.push({ key, operator: "Exists", value: "", effect: "NoExecute", tolerationSeconds: seconds });
  }
}

export function podRulesWith(defaults: PodDefaults = {}): KindRules<Pod> {
  const notReady = defaults.defaultNotReadyTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS;
  const unreachable = defaults.defaultUnreachableTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS;
  return {
    ...podRules,
    default(pod) {
      podRules.default!(pod);
      addDefaultTolerations(pod.spec!, notReady, unreachable);
    },
  };
}

/** The pod rules without the default tolerations (podRulesWith adds them). */
export const podRules: KindRules<Pod> = {
  default(pod) {
    pod.spec ??= PodSpec.fromPartial({});
    defaultPodSpec(pod.spec);
    // As in Kubernetes (for pods, not templates): a limit without a request requests the limit,
    // so the scheduler packs by what the container may actually use.
    for (const c of [...pod.spec.initContainers, ...pod.spec.containers]) {
      if (!c.resources) continue;
      for (const [name, limit] of Object.entries(c.resources.limits)) {
        if (!(name in c.resources.requests)) c.resources.requests[name] = limit;
      }
    }
  },

  validate(pod) {
    return validatePodSpec(pod.spec, "spec");
  },

  validateUpdate(pod, old) {
    const errs: FieldError[] = [];
    const now = pod.spec ?? PodSpec.fromPartial({});
    const before = old.spec ?? PodSpec.fromPartial({});

    const deadline = "spec.activeDeadlineSeconds";
    if (now.activeDeadlineSeconds === undefined && before.activeDeadlineSeconds !== undefined) {
      errs.push(invalid(deadline, null, "must not update from a positive integer to nil value"));
    } else if (now.activeDeadlineSeconds !== undefined && before.activeDeadlineSeconds !== undefined && now.activeDeadlineSeconds > before.activeDeadlineSeconds) {
      errs.push(invalid(deadline, now.activeDeadlineSeconds, "must be less than or equal to previous value"));
    }
    if (!onlyAdded(now.tolerations, before.tolerations)) {
      errs.push(forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"));
    }

    // Compare everything else: the new spec with the mutable fields taken from the old one.
    const munged = PodSpec.fromJSON(PodSpec.toJSON(now));
    munged.containers.forEach((c, i) => {
      if (i < before.containers.length) c.image = before.containers[i]!.image;
    });
    munged.initContainers.forEach((c, i) => {
      if (i < before.initContainers.length) c.image = before.initContainers[i]!.image;
    });
    munged.activeDeadlineSeconds = before.activeDeadlineSeconds;
    munged.tolerations = before.tolerations;
    // toJSON drops unset and zero fields, so objects built differently but meaning the same compare equal.
    if (!isDeepStrictEqual(PodSpec.toJSON(munged), PodSpec.toJSON(before))) errs.push(forbidden("spec", UPDATE_FORBIDDEN));
    return errs;
  },
};

/** Every old toleration is still there, except that its tolerationSeconds may change. */
function onlyAdded(now: Toleration[], before: Toleration[]): boolean {
  const same = (a: Toleration, b: Toleration) =>
    a.key === b.key && a.operator === b.operator && a.value === b.value && a.effect === b.effect;
  return before.every((old) => now.some((t) => same(t, old)));
}
