export { run, LEASE_NAME, type RunParams } from "./run.js";
export { CONTROLLER_MANAGER_OPTIONS, type ControllerManagerOptions } from "./options.js";
export { namespaceController, type NamespaceControllerOptions } from "./namespace/controller.js";
export { reconcile as reconcileNamespace, type ContentItem, type Plan as NamespacePlan, type Step as NamespaceStep } from "./namespace/reconcile.js";
