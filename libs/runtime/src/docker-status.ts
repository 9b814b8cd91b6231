// Pure mapping from what Docker reports (inspect, list) to the runtime's ContainerStatus and
// Sandbox, reading the pod identity back from the labels Navarch put on each container.

import type Docker from "dockerode";
import { LABELS, type ContainerState, type ContainerStatus, type PodRef, type Sandbox } from "./runtime.js";

// Docker writes 0001-01-01T00:00:00Z for "never happened".
function time(s: string | undefined): Date | undefined {
  if (!s || s.startsWith("0001-01-01")) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function podFromLabels(labels: Record<string, string> | undefined): PodRef {
  const l = labels ?? {};
  return {
    namespace: l[LABELS.namespace] ?? "",
    name: l[LABELS.pod] ?? "",
    uid: l[LABELS.podUid] ?? "",
    node: l[LABELS.node] ?? "",
  };
}

/** Docker's State.Status (created, running, paused, restarting, removing, exited, dead). */
export function mapState(status: string | undefined): ContainerState {
  switch (status) {
    case "created":
      return "created";
    case "running":
    case "paused":
    case "restarting":
      return "running";
    case "exited":
    case "dead":
    case "removing":
      return "exited";
    default:
      return "unknown";
  }
}

export function statusFromInspect(info: Docker.ContainerInspectInfo): ContainerStatus {
  const labels = info.Config?.Labels ?? {};
  const state = info.State;
  return {
    id: info.Id,
    pod: podFromLabels(labels),
    name: labels[LABELS.container] ?? info.Name.replace(/^\//, ""),
    role: labels[LABELS.role] === "sandbox" ? "sandbox" : "app",
    attempt: Number(labels[LABELS.attempt] ?? 0) || 0,
    image: info.Config?.Image ?? "",
    imageID: info.Image,
    state: mapState(state?.Status),
    exitCode: state?.ExitCode ?? 0,
    oomKilled: state?.OOMKilled ?? false,
    error: state?.Error ?? "",
    createdAt: new Date(info.Created),
    startedAt: time(state?.StartedAt),
    finishedAt: time(state?.FinishedAt),
    ...(labels[LABELS.podIP] ? { podIP: labels[LABELS.podIP] } : {}),
  };
}

/** The sandbox's IP on `network` (empty while it is not running). */
export function ipOn(networks: Record<string, { IPAddress?: string }> | undefined, network: string): string {
  return networks?.[network]?.IPAddress ?? "";
}

export function sandboxFromList(c: Docker.ContainerInfo, network: string): Sandbox {
  return {
    id: c.Id,
    pod: podFromLabels(c.Labels),
    ip: ipOn(c.NetworkSettings?.Networks, network),
    state: c.State === "running" ? "ready" : "notready",
    createdAt: new Date(c.Created * 1000),
  };
}

export function sandboxFromInspect(info: Docker.ContainerInspectInfo, network: string): Sandbox {
  return {
    id: info.Id,
    pod: podFromLabels(info.Config?.Labels),
    ip: ipOn(info.NetworkSettings?.Networks, network),
    state: info.State?.Running ? "ready" : "notready",
    createdAt: new Date(info.Created),
  };
}
