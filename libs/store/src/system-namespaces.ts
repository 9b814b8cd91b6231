// Namespaces that always exist (the gateway creates them) and cannot be deleted (the gateway
// refuses; the namespace controller leaves them alone). navarch-system and navarch-node-lease are
// the control plane's own; kube-system and kube-public exist as in Kubernetes so that manifests
// written for Kubernetes that name them (add-ons, its DaemonSet example) apply unchanged.
export const SYSTEM_NAMESPACE = "navarch-system";
/** Node heartbeat Leases, one per node (Kubernetes' kube-node-lease). */
export const NODE_LEASE_NAMESPACE = "navarch-node-lease";
/** Kubernetes' namespaces, which Kubernetes also refuses to delete. */
const KUBERNETES_NAMESPACES: readonly string[] = ["kube-system", "kube-public"];
export const SYSTEM_NAMESPACES: readonly string[] = ["default", SYSTEM_NAMESPACE, NODE_LEASE_NAMESPACE, ...KUBERNETES_NAMESPACES];
