// Namespaces the control plane itself uses. They always exist (the gateway creates them) and
// cannot be deleted (the gateway refuses; the namespace controller leaves them alone).
export const SYSTEM_NAMESPACE = "navarch-system";
/** Node heartbeat Leases, one per node (Kubernetes' kube-node-lease). */
export const NODE_LEASE_NAMESPACE = "navarch-node-lease";
export const SYSTEM_NAMESPACES: readonly string[] = ["default", SYSTEM_NAMESPACE, NODE_LEASE_NAMESPACE];
