// Event reasons of the address repair controller (Kubernetes' repair controllers' names),
// recorded on a Service whose address another Service holds too.
import type { AddressKind } from "@navarch/store";

export const AddressAlreadyAllocated: Record<AddressKind, string> = {
  clusterip: "ClusterIPAlreadyAllocated",
  nodeport: "PortAlreadyAllocated",
};

export const EVENT_COMPONENT = "ipallocator-repair-controller";
