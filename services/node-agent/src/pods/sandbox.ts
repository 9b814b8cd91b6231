// The pod sandbox: the container that holds the pod's network namespace, so every app container
// of the pod shares one IP and reaches the others on localhost, and the IP survives app container
// restarts. The hostPorts of all containers are published by it (on 127.0.0.1 unless a port
// names its hostIP). A pod of one container and no init containers does without it (when the node
// can give fixed IPs): its container holds the network itself, with the same hostname, ports and
// DNS settings and a fixed IP from the node's pod CIDR, kept across restarts. Pure.
import type { Pod } from "@navarch/api";
import type { OwnNetwork, PodDns, SandboxSpec } from "@navarch/runtime";
import { podRef } from "./container-spec.js";

export const DEFAULT_HOST_IP = "127.0.0.1";

export function sandboxSpec(pod: Pod, node: string): SandboxSpec {
  const ports: SandboxSpec["ports"] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      const protocol = p.protocol === "UDP" || p.protocol === "SCTP" ? p.protocol : "TCP";
      ports.push({ containerPort: p.containerPort, hostPort: p.hostPort, protocol, hostIP: p.hostIP || DEFAULT_HOST_IP });
    }
  }
  // A hostname is one DNS label: the pod name can be longer (a subdomain).
  const hostname = (pod.spec?.hostname || pod.metadata!.name).split(".")[0]!.slice(0, 63);
  return { pod: podRef(pod, node), hostname, ports };
}

/**
 * Whether the pod runs without a sandbox when the node can give fixed IPs: exactly one container
 * and no init containers (nothing else ever needs to share its network namespace).
 */
export function runsWithoutSandbox(pod: Pod): boolean {
  return (pod.spec?.containers.length ?? 0) === 1 && (pod.spec?.initContainers ?? []).length === 0;
}

/** What the pod's only container gets in place of a sandbox: the sandbox's settings plus its fixed IP. */
export function ownNetwork(pod: Pod, node: string, ip: string, dns: PodDns | undefined): OwnNetwork {
  const { hostname, ports } = sandboxSpec(pod, node);
  return { ip, hostname, ports, ...(dns && { dns }) };
}
