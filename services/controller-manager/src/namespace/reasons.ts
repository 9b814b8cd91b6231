// The names the namespace controller writes into a terminating namespace's status conditions and
// logs, as Kubernetes' namespace controller does, so `describe namespace` explains what it waits for.

/** The finalizer (in spec.finalizers) that holds a namespace until its content is deleted. */
export const FINALIZER_KUBERNETES = "kubernetes";

/** Never deleted: the gateway refuses, and the controller ignores them too. */
export { SYSTEM_NAMESPACES as PROTECTED_NAMESPACES } from "@navarch/store";

export const PHASE_ACTIVE = "Active";
export const PHASE_TERMINATING = "Terminating";

// Condition types.
export const NamespaceContentRemaining = "NamespaceContentRemaining";
export const NamespaceFinalizersRemaining = "NamespaceFinalizersRemaining";
export const NamespaceDeletionContentFailure = "NamespaceDeletionContentFailure";

// Condition reasons.
export const SomeResourcesRemain = "SomeResourcesRemain";
export const ContentDeleted = "ContentDeleted";
export const SomeFinalizersRemain = "SomeFinalizersRemain";
export const ContentHasNoFinalizers = "ContentHasNoFinalizers";
export const ContentDeletionFailed = "ContentDeletionFailed";
