// Pod: the pod spec rules plus what may change on a running pod. Containers are started from the
// spec once; only the few fields the node agent can apply in place may be updated.
//
// Defaulting also does what Kubernetes' DefaultTolerationSeconds admission plugin does: a pod
// that does not tolerate node.kubernetes.io/not-ready and .../unreachable (NoExecute) gets
// tolerations for them with the gateway's tolerationSeconds, so the taint eviction controller
// moves it off a lost node after that long (docs/adr/0006-fencing-and-eviction.md). As in
// Kubernetes this runs on create and update, so an update that leaves them out does not remove them.
// The defaults live in @navarch/api (placement.ts): the replication controllers apply the same ones
// to the pods they write straight to the store.
import { addDefaultTolerations, DEFAULT_TOLERATION_SECONDS, PodSpec, requestsFromLimits, type FieldError, type Pod, type Toleration } from "@navarch/api";
import { isDeepStrictEqual } from "node:util";
import { forbidden, invalid } from "./errors.js";
import type { KindRules } from "./index.js";
import { defaultPodSpec, validatePodSpec } from "./pod-spec.js";

const UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, " +
  "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations)";

export interface PodDefaults {
  defaultNotReadyTolerationSeconds?: number | undefined;
  defaultUnreachableTolerationSeconds?: number | undefined;
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
    // For pods, not templates (the replication controllers do the same for the pods they create).
    requestsFromLimits(pod.spec);
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
