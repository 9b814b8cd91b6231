// Pod: the pod spec rules plus what may change on a running pod. Containers are started from the
// spec once; only the few fields the node agent can apply in place may be updated.
import { PodSpec, type FieldError, type Pod, type Toleration } from "@navarch/api";
import { isDeepStrictEqual } from "node:util";
import { forbidden, invalid } from "./errors.js";
import type { KindRules } from "./index.js";
import { defaultPodSpec, validatePodSpec } from "./pod-spec.js";

const UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, " +
  "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations)";

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
